"""``python -m dify_emulator [--port N] [--wire 0.15|1.x]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from dify_emulator._apps import KEYS
from dify_emulator._core import Core
from dify_emulator._server import Server
from dify_emulator._store import Store
from dify_emulator._wire import Wire


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dify_emulator",
        description="Serve an offline Dify-compatible Service API on 127.0.0.1.",
    )
    p.add_argument("--port", type=int, default=5001, help="port (0: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind")
    p.add_argument("--wire", choices=("1.x", "0.15"), default="1.x", help="Dify wire generation")
    p.add_argument("--db", default=":memory:", help="SQLite file for the state")
    return p


async def _serve(args: argparse.Namespace) -> None:
    store = Store(args.db)
    core = Core(Wire(args.wire), store)
    server = Server(core, args.host, args.port)
    await server.start()
    core.base_url = f"http://{args.host}:{server.port}/v1"
    print(f"Dify emulator ({args.wire} wire) serving at {core.base_url}")
    for name in ("chat", "chatflow", "agent", "completion", "workflow", "dataset"):
        print(f"  {name:<10} {getattr(KEYS, name)}")
    print(f"  dataset_id {store.main_dataset_id}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> int:
    """Run the emulator in the foreground until interrupted."""
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
