"""``python -m examples.proxy``: serve the proxy on http://127.0.0.1:8000.

With ``DIFY_API_KEY`` / ``DIFY_BASE_URL`` set it talks to your Dify app; with
``--emulator`` (or neither set) it starts the offline emulator, answering slowly
enough to press Stop.
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from examples.proxy.app import ProxySettings, create_app


def main(argv: list[str] | None = None) -> None:
    """Parse the options and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--emulator", action="store_true", help="use the offline Dify emulator")
    args = parser.parse_args(argv)
    settings = ProxySettings()
    emulator = None
    if args.emulator or not os.environ.get("DIFY_API_KEY"):
        from dify_emulator import start_emulator  # noqa: PLC0415  # only for the offline demo

        emulator = start_emulator(delay_ms=40)
        settings = ProxySettings(api_key=emulator.keys.chat, base_url=emulator.base_url)
        print("Using the offline Dify emulator at", emulator.base_url)
    print(f"Open http://{args.host}:{args.port}/ (users: alice, bob)")
    try:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, ws="websockets-sansio")
    finally:
        if emulator is not None:
            emulator.stop()


if __name__ == "__main__":
    main()
