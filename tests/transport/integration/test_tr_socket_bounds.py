"""Issue 9.3, 9.5, 9.13 over real sockets: deadlines, close from another thread, stop drains.

A tiny hostile HTTP server on 127.0.0.1 sends one event and then pings forever, or
stalls; the emulator models Dify's stopped-run record (``stopped`` only while read).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from dify_emulator import FAULT_HEADER, Emulator
from dify_transport import APITimeoutError, AsyncDifyClient, DifyClient

pytestmark = pytest.mark.timeout(60)

TASK = "t-hostile"
FIRST = {"event": "message", "task_id": TASK, "message_id": "m1", "id": "m1", "answer": "Hi"}


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def pings_forever(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(_chunk(b"data: " + json.dumps(FIRST).encode() + b"\n\n"))
    while not stop.wait(0.05):
        conn.sendall(_chunk(b"event: ping\n\n"))


def stall(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(_chunk(b"data: " + json.dumps(FIRST).encode() + b"\n\n"))
    stop.wait(30)


class Hostile:
    """Serves ``script`` to every streaming request; answers stop calls with success."""

    def __init__(self, script: Callable[[socket.socket, threading.Event], None]) -> None:
        self.script = script
        self.stops: list[str] = []
        self.done = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/v1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                more = conn.recv(65536)
                if not more:
                    return
                data += more
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(body) < length:
                body += conn.recv(65536)
            path = head.split(b" ")[1].decode()
            try:
                if path.endswith("/stop"):
                    self.stops.append(path)
                    payload = b'{"result": "success"}'
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n%b" % (len(payload), payload)
                    )
                    return
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                )
                self.script(conn, self.done)
            except OSError:
                pass  # the client hung up

    def close(self) -> None:
        self.done.set()
        self.listener.close()


@contextmanager
def hostile(script: Callable[[socket.socket, threading.Event], None]) -> Iterator[Hostile]:
    server = Hostile(script)
    try:
        yield server
    finally:
        server.close()


def _wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# -- 9.3: a total deadline ----------------------------------------------------------------


@pytest.mark.parametrize("where", ["call", "client"])
def test_sync_pings_forever_end_at_the_deadline(where: str) -> None:
    with hostile(pings_forever) as srv:
        per_call = {"deadline": 1.0} if where == "call" else {}
        per_client = {"deadline": 1.0} if where == "client" else {}
        with DifyClient(api_key="app-x", base_url=srv.base_url, timeout=30, **per_client) as c:
            t0 = time.monotonic()
            stream = c.stream_chat("hi", user="u", **per_call)
            with pytest.raises(APITimeoutError) as info:
                stream.final()
            elapsed = time.monotonic() - t0
        assert 0.9 <= elapsed < 3.5, elapsed
        assert info.value.partial_answer == "Hi"
        assert "deadline of 1 s" in str(info.value)
        assert _wait_for(lambda: srv.stops == [f"/v1/chat-messages/{TASK}/stop"])


async def test_async_pings_forever_end_at_the_deadline() -> None:
    with hostile(pings_forever) as srv:
        async with AsyncDifyClient(api_key="app-x", base_url=srv.base_url, timeout=30) as c:
            t0 = time.monotonic()
            stream = await c.stream_chat("hi", user="u", deadline=1.0)
            with pytest.raises(APITimeoutError) as info:
                await stream.final()
            elapsed = time.monotonic() - t0
        assert 0.9 <= elapsed < 3.5, elapsed
        assert info.value.partial_answer == "Hi"
        assert srv.stops == [f"/v1/chat-messages/{TASK}/stop"]


def test_sync_stall_ends_at_the_deadline_not_the_read_timeout() -> None:
    with (
        hostile(stall) as srv,
        DifyClient(api_key="app-x", base_url=srv.base_url, timeout=30) as c,
    ):
        t0 = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            c.stream_chat("hi", user="u", deadline=1.0).final()
        assert time.monotonic() - t0 < 3.5
        assert info.value.partial_answer == "Hi"


async def test_async_stall_ends_at_the_deadline_not_the_read_timeout() -> None:
    with hostile(stall) as srv:
        async with AsyncDifyClient(api_key="app-x", base_url=srv.base_url, timeout=30) as c:
            t0 = time.monotonic()
            with pytest.raises(APITimeoutError):
                await (await c.stream_chat("hi", user="u", deadline=1.0)).final()
            assert time.monotonic() - t0 < 3.5


# -- 9.5: close() from another thread -----------------------------------------------------


def test_close_from_another_thread_unblocks_the_reader() -> None:
    with (
        hostile(stall) as srv,
        DifyClient(api_key="app-x", base_url=srv.base_url, timeout=30) as c,
    ):
        stream = c.stream_chat("hi", user="u")
        first = threading.Event()
        finished: list[float] = []
        errors: list[BaseException] = []

        def read() -> None:
            try:
                for event in stream:
                    if event.text:
                        first.set()
            except BaseException as exc:
                errors.append(exc)
            finished.append(time.monotonic())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert first.wait(5)
        time.sleep(0.2)  # the reader is now blocked in recv()
        t0 = time.monotonic()
        stream.close()
        reader.join(5)
        assert not reader.is_alive()
        assert finished[0] - t0 < 2.5  # not the 30 s read timeout
        assert errors == []  # the loop ends quietly
        assert stream.final().finish_reason == "stopped"
        assert stream.final().answer == "Hi"
        assert srv.stops == [f"/v1/chat-messages/{TASK}/stop"]


# -- 9.13: a stopped workflow run is recorded as stopped ------------------------------------


def _paced(emu: Emulator) -> dict[str, str]:
    return {FAULT_HEADER: f"delay=0.3; nonce={uuid.uuid4().hex}"}


def _status(emu: Emulator, run_id: str) -> str:
    with DifyClient(api_key=emu.keys.workflow, base_url=emu.base_url) as c:
        return c.get_workflow_run(run_id).status


def test_emulator_run_closed_at_once_after_stop_stays_running(emulator: Emulator) -> None:
    """The model: like Dify, a run whose client left before the stop is never 'stopped'."""
    headers = {"Authorization": f"Bearer {emulator.keys.workflow}", **_paced(emulator)}
    body = {
        "inputs": {"text": "tell me a long story"},
        "user": "u-raw",
        "response_mode": "streaming",
    }
    with httpx.Client(base_url=emulator.base_url, timeout=10) as http:
        with http.stream("POST", "/workflows/run", headers=headers, json=body) as r:
            for line in r.iter_lines():
                if line.startswith("data: ") and '"text_chunk"' in line:
                    event = json.loads(line[6:])
                    break
        # The response is closed (the client hung up), then the stop is sent.
        http.post(
            f"/workflows/tasks/{event['task_id']}/stop",
            headers={"Authorization": headers["Authorization"]},
            json={"user": "u-raw"},
        )
    time.sleep(1.0)
    assert _status(emulator, event["workflow_run_id"]) == "running"


def test_sync_stopped_workflow_is_recorded_as_stopped(emulator: Emulator) -> None:
    with DifyClient(api_key=emulator.keys.workflow, base_url=emulator.base_url) as c:
        stream = c.stream_workflow(
            user="u-sync", inputs={"text": "tell me a long story"}, extra_headers=_paced(emulator)
        )
        for event in stream:
            if event.text:
                break
        t0 = time.monotonic()
        stream.close()
        assert time.monotonic() - t0 < 1.5  # the stop is sent; the drain is in the background
        run_id = stream.workflow_run_id
        assert run_id is not None
        # (Closing the client would end the drain: its pool holds the connection.)
        assert _wait_for(lambda: _status(emulator, run_id) == "stopped", 4.0)
    assert stream.final().finish_reason == "stopped"


async def test_async_stopped_workflow_is_recorded_as_stopped(emulator: Emulator) -> None:
    async with AsyncDifyClient(api_key=emulator.keys.workflow, base_url=emulator.base_url) as c:
        stream = await c.stream_workflow(
            user="u-async", inputs={"text": "tell me a long story"}, extra_headers=_paced(emulator)
        )
        async with stream:
            async for event in stream:
                if event.text:
                    break
        run_id = stream.workflow_run_id
        assert run_id is not None
        for _ in range(200):
            if _status(emulator, run_id) == "stopped":
                break
            await asyncio.sleep(0.02)
        assert _status(emulator, run_id) == "stopped"
