"""Fixtures for the examples: the repository root on ``sys.path`` and a served proxy."""

from __future__ import annotations

import gc
import socket
import sys
import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from _proxy_support import Proxy

from dify_emulator import start_emulator

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ``examples`` is imported from the repository root
    sys.path.insert(0, str(ROOT))
EXTRA = "the proxy example needs its extra: pip install -e '.[examples]'"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Run the finalizers a test left (clients, streams) right after it, not mid-import.

    On CPython 3.11.7 a finalizer that runs inside ``compile`` (a late import, here
    anyio's file I/O module on the first ``FileResponse``) fails with "AST constructor
    recursion depth mismatch"; ``tests/langchain/conftest.py`` does the same.
    """
    try:
        return (yield)
    finally:
        if Path(__file__).parent in Path(str(item.path)).parents:
            gc.collect()


DELAY_MS = 50
"""Pause between streamed deltas: an answer of ~35 deltas takes ~1.7 s, so Stop lands mid-answer."""


@pytest.fixture(scope="module")
def proxy() -> Iterator[Proxy]:
    """The proxy served by uvicorn on 127.0.0.1, in front of a slow emulator."""
    uvicorn = pytest.importorskip("uvicorn", reason=EXTRA)
    pytest.importorskip("starlette", reason=EXTRA)
    from examples.proxy.app import ProxySettings, create_app

    emulator = start_emulator(delay_ms=DELAY_MS)
    app = create_app(ProxySettings(api_key=emulator.keys.chat, base_url=emulator.base_url))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the proxy's server thread died"
        assert time.monotonic() < deadline, "the proxy did not start in 30 s"
        time.sleep(0.02)
    try:
        yield Proxy(f"http://127.0.0.1:{port}", emulator, emulator.keys.chat)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        emulator.stop()
