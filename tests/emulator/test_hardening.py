"""Hardening: request-body limit, idle connections, unparseable fault headers."""

from __future__ import annotations

import socket
import time

import httpx
from emu_helpers import Api

from dify_emulator import start_emulator


def test_body_over_the_limit_is_413_in_process(api: Api) -> None:
    api.emu._core.max_body = 1000
    r = api.post("chat", "/chat-messages", {"query": "x" * 2000, "inputs": {}, "user": "u"})
    assert r.status_code == 413
    assert r.json() == {
        "code": "request_entity_too_large",
        "message": "The data value transmitted exceeds the capacity limit.",
        "status": 413,
    }


def test_body_over_the_limit_is_413_on_the_socket() -> None:
    with start_emulator(max_body=1000) as emu, httpx.Client(base_url=emu.base_url) as c:
        headers = {"Authorization": f"Bearer {emu.keys.chat}"}
        r = c.post("/chat-messages", headers=headers,
                   json={"query": "x" * 5000, "inputs": {}, "user": "u"})  # fmt: skip
        assert r.status_code == 413
        assert r.json()["code"] == "request_entity_too_large"
        assert r.headers["connection"] == "close"
        # Chunked bodies (no Content-Length) are cut off too.
        chunks = iter([b"{" + b" " * 600, b" " * 600 + b"}"])
        r = c.post("/chat-messages", headers={**headers, "Content-Type": "application/json"},
                   content=chunks)  # fmt: skip
        assert r.status_code == 413
        # The server keeps serving.
        assert c.get("/parameters", headers=headers).status_code == 200


def test_idle_connection_is_closed() -> None:
    with start_emulator(idle_timeout=0.3) as emu:
        assert emu.port is not None
        with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
            t0 = time.monotonic()
            assert sock.recv(1) == b""  # closed by the server, no request ever sent
            assert time.monotonic() - t0 < 4
        with socket.create_connection(("127.0.0.1", emu.port), timeout=5) as sock:
            sock.sendall(b"GET /v1/ HTTP/1.1\r\nHost: x\r\n")  # headers never finished
            assert sock.recv(1) == b""


def test_unparseable_fault_header_is_400(anyapi: Api) -> None:
    for spec, name in (("chunk=abc", "chunk"), ("status=503; delay=soon", "delay"),
                       ("ping_every", "ping_every"), ("drop_after=nan", "drop_after")):  # fmt: skip
        r = anyapi.get("chat", "/parameters", headers={"X-Emulator-Fault": spec})
        assert r.status_code == 400, spec
        body = r.json()
        assert body["code"] == "bad_request"
        assert body["status"] == 400
        assert name in body["message"]
        assert "Traceback" not in r.text
    # Unknown keys (e.g. a nonce that makes the header unique) are still ignored.
    r = anyapi.get("chat", "/parameters", headers={"X-Emulator-Fault": "nonce=abc; chunk=2"})
    assert r.status_code == 200
