"""``python -m dify_emulator [--port 5055] [--wire 0.15|1.x] [--delay-ms 30]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import sys

from dify_emulator import DEFAULT_PORT
from dify_emulator._apps import KEYS
from dify_emulator._core import Core
from dify_emulator._server import Server
from dify_emulator._store import Store
from dify_emulator._wire import Wire

DEFAULT_DELAY_MS = 30.0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dify_emulator",
        description="Serve an offline Dify-compatible Service API on 127.0.0.1.",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"port (default {DEFAULT_PORT}; 0: any free port)")  # fmt: skip
    p.add_argument("--host", default="127.0.0.1", help="interface to bind")
    p.add_argument("--wire", choices=("1.x", "0.15"), default="1.x", help="Dify wire generation")
    p.add_argument("--db", default=":memory:", help="SQLite file for the state")
    pacing = f"pause between streamed tokens (default {DEFAULT_DELAY_MS:g}; 0: none)"
    p.add_argument("--delay-ms", type=float, default=DEFAULT_DELAY_MS, help=pacing)
    return p


async def _serve(args: argparse.Namespace) -> int:
    store = Store(args.db)
    core = Core(Wire(args.wire), store)
    core.delay = max(args.delay_ms, 0.0) / 1000
    server = Server(core, args.host, args.port)
    try:
        await server.start()
    except OSError as err:
        reason = "port already in use" if err.errno == errno.EADDRINUSE else err.strerror
        print(f"dify_emulator: cannot listen on {args.host}:{args.port}: {reason}",
              file=sys.stderr)  # fmt: skip
        return 1
    core.base_url = f"http://{args.host}:{server.port}/v1"
    print(f"Dify emulator ({args.wire} wire) serving at {core.base_url}")
    for name in KEYS.__dataclass_fields__:
        print(f"  {name:<14} {getattr(KEYS, name)}")
    print(f"  {'dataset_id':<14} {store.main_dataset_id}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the emulator in the foreground until interrupted."""
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
