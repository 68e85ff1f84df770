"""Leaving a stream early: prompt, deterministic stop; partial "stopped" results; bounded stop."""

from __future__ import annotations

import asyncio
import gc
import inspect
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from _tr_support import USER, Server, aclient, chat_script, client, json_response, sse
from test_tr_stop import server_for, stops

from dify_transport import IncompleteStreamError


async def test_async_bare_break_then_final_returns_partial_stopped_result():
    server, script = server_for("chat")
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER)
        async for ev in stream:
            if ev.text:
                break
        answer_at_break = stream.answer
        result = await stream.final()  # was: IncompleteStreamError (a racing GC stop)
        assert result.finish_reason == "stopped"
        assert result.answer == answer_at_break == "one "
        assert stops(server) == [("/v1" + script.stop_path.format(script.task_id), {"user": USER})]
        assert [ev async for ev in stream] == []  # further reads: nothing, no error
        assert (await stream.final()).answer == "one "
        await stream.aclose()
    assert len(stops(server)) == 1


async def test_async_break_then_aclose_has_stopped_when_aclose_returns():
    server, _ = server_for("chat")
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER)
        async for _ in stream:
            break
        assert stream.result().finish_reason == "stopped"  # reading ended at the break
        await stream.aclose()
        assert len(stops(server)) == 1  # no polling: done when aclose() returns
        assert stream.response.is_closed


async def test_async_iterator_is_not_an_async_generator():
    server, _ = server_for("chat")
    async with aclient(server) as c:
        async with await c.stream_chat("q", user=USER) as stream:
            iterator = aiter(stream)
            assert not inspect.isasyncgen(iterator)
            assert (await anext(iterator)).event == "message"
            del iterator  # dropped mid-stream: reading stops, the stop is scheduled
            assert stream.closed
        assert len(stops(server)) == 1


async def test_async_forgotten_stream_is_stopped_when_collected():
    server, _ = server_for("chat")
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER)
        await stream.__anext__()  # no iterator object, never closed
        del stream
        gc.collect()
        for _ in range(100):
            if stops(server):
                break
            await asyncio.sleep(0.01)
        assert len(stops(server)) == 1


async def test_async_aclose_then_reads_and_final_are_partial_stopped():
    server, _ = server_for("chat")
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER)
        await stream.__anext__()
        await stream.aclose()
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()
        result = await stream.final()
        assert (result.answer, result.finish_reason) == ("one ", "stopped")
    assert len(stops(server)) == 1


async def test_async_read_to_eof_without_terminal_still_raises():
    events = chat_script(["a"], "chat").events[:-1]  # no message_end
    server = Server()
    server.routes[("POST", "/chat-messages")] = lambda _r: httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=sse(events)
    )
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER)
        with pytest.raises(IncompleteStreamError):
            await stream.final()
        with pytest.raises(IncompleteStreamError):
            await stream.final()
    assert stops(server) == []


def test_sync_close_then_final_and_reads_are_partial_stopped():
    server, _ = server_for("chat")
    stream = client(server).stream_chat("q", user=USER)
    assert next(stream).text == "one "
    stream.close()
    assert list(stream) == []
    result = stream.final()
    assert (result.answer, result.finish_reason) == ("one ", "stopped")
    assert len(stops(server)) == 1


def test_sync_close_before_any_event_is_stopped_without_a_stop_call():
    server, _ = server_for("chat")
    stream = client(server).stream_chat("q", user=USER)
    stream.close()
    result = stream.final()
    assert (result.answer, result.finish_reason) == ("", "stopped")
    assert stops(server) == []


# -- the stop call: headers, order, bound ---------------------------------------------


class _Recorded(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An endless SSE body that records when the client closes it."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.first = sse(chat_script(["x"], "chat").events[:1])

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        while True:
            yield b": keep-alive\n\n"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        while True:
            await asyncio.sleep(0)
            yield b": keep-alive\n\n"

    def close(self) -> None:
        self.log.append("response closed")

    async def aclose(self) -> None:
        self.log.append("response closed")


def _ordered_server(log: list[str]) -> Server:
    server = Server()
    server.routes[("POST", "/chat-messages")] = lambda _r: httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=_Recorded(log)
    )

    def stop(_r: httpx.Request) -> httpx.Response:
        log.append("stop sent")
        return json_response(200, {"result": "success"})

    server.routes[("POST", "/chat-messages/*")] = stop
    return server


def test_sync_stop_carries_extra_headers_and_follows_the_response_close():
    log: list[str] = []
    server = _ordered_server(log)
    headers = {"X-Trace": "abc"}
    with client(server).stream_chat("q", user=USER, extra_headers=headers) as stream:
        next(stream)
    assert log == ["response closed", "stop sent"]
    (stop,) = [s for s in server.seen if s.path.endswith("/stop")]
    assert stop.headers["x-trace"] == "abc"
    assert stop.body == {"user": USER}


async def test_async_stop_carries_extra_headers_and_follows_the_response_close():
    log: list[str] = []
    server = _ordered_server(log)
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER, extra_headers={"X-Trace": "abc"})
        async with stream:
            await stream.__anext__()
    assert log == ["response closed", "stop sent"]
    (stop,) = [s for s in server.seen if s.path.endswith("/stop")]
    assert stop.headers["x-trace"] == "abc"


def test_sync_stop_is_bounded_in_total(monkeypatch: pytest.MonkeyPatch):
    from dify_transport import _stopping as _streaming  # the bounded stop lives there

    monkeypatch.setattr(_streaming, "STOP_TIMEOUT", 0.3)
    release = threading.Event()
    server, _ = server_for("chat")

    def hanging_stop(_r: httpx.Request) -> httpx.Response:
        release.wait(10)  # no httpx timeout applies inside a transport: only the total bound
        return json_response(200, {"result": "success"})

    server.routes[("POST", "/chat-messages/*")] = hanging_stop
    stream = client(server).stream_chat("q", user=USER)
    next(stream)
    t0 = time.monotonic()
    try:
        stream.close()
        assert time.monotonic() - t0 < 1.5
    finally:
        release.set()
    assert stream.result().finish_reason == "stopped"
