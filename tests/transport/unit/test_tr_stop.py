"""Acceptance 5: leaving a stream early calls the matching stop endpoint exactly once."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import httpx
import pytest
from _tr_support import (
    MODES,
    USER,
    Server,
    aclient,
    chat_script,
    client,
    json_response,
    sse,
    sse_response,
)

PATHS = {
    "chat": "/chat-messages",
    "agent-chat": "/chat-messages",
    "advanced-chat": "/chat-messages",
    "completion": "/completion-messages",
    "workflow": "/workflows/run",
}


def server_for(mode: str) -> tuple[Server, Any]:
    script = chat_script(["one ", "two ", "three"], mode)
    server = Server()
    raw = sse(script.events)
    server.routes[("POST", PATHS[mode])] = lambda _r: sse_response(
        [raw[i : i + 40] for i in range(0, len(raw), 40)]
    )
    server.routes[("POST", "/chat-messages/*")] = json_response(200, {"result": "success"})
    server.routes[("POST", "/completion-messages/*")] = json_response(200, {"result": "success"})
    server.routes[("POST", "/workflows/tasks/*")] = json_response(200, {"result": "success"})
    return server, script


def open_stream(c: Any, mode: str) -> Any:
    if mode == "completion":
        return c.stream_completion(user=USER, inputs={})
    if mode == "workflow":
        return c.stream_workflow(user=USER, inputs={})
    return c.stream_chat("q", user=USER)


def stops(server: Server) -> list[tuple[str, Any]]:
    return [(s.path, s.body) for s in server.seen if s.path.endswith("/stop")]


@pytest.mark.parametrize("mode", MODES)
def test_break_after_first_delta_stops_once_with_same_user(mode):
    server, script = server_for(mode)
    c = client(server)
    stream = open_stream(c, mode)
    for ev in stream:
        if ev.text:
            break
    expected = "/v1" + script.stop_path.format(script.task_id)
    assert stops(server) == [(expected, {"user": USER})]
    stream.close()
    stream.close()
    gc.collect()
    assert len(stops(server)) == 1
    assert stream.accumulator.stopped
    assert stream.result().finish_reason == "stopped"


def test_close_and_context_manager_stop_once():
    server, _ = server_for("chat")
    c = client(server)
    with c.stream_chat("q", user=USER) as stream:
        it = iter(stream)
        next(it)
    assert len(stops(server)) == 1
    del it
    gc.collect()
    assert len(stops(server)) == 1


def test_next_on_stream_then_close():
    server, _ = server_for("chat")
    stream = client(server).stream_chat("q", user=USER)
    assert next(stream).text == "one "
    stream.close()
    assert len(stops(server)) == 1


def test_no_stop_when_stream_completes_or_before_any_event():
    server, _ = server_for("chat")
    c = client(server)
    with c.stream_chat("q", user=USER) as stream:
        stream.final()
    s2 = c.stream_chat("q", user=USER)
    s2.close()  # nothing read: no task id known, nothing to stop
    assert stops(server) == []


def test_stop_failure_is_swallowed():
    server, _ = server_for("chat")
    server.routes[("POST", "/chat-messages/*")] = json_response(500, {"code": "x", "message": "y"})
    stream = client(server).stream_chat("q", user=USER)
    for _ in stream:
        break
    assert len(stops(server)) == 1  # best effort: one try, no retries, no exception


def test_keyboard_interrupt_while_reading_stops():
    server, _ = server_for("chat")
    stream = client(server).stream_chat("q", user=USER)

    def consume() -> None:
        for _ in stream:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        consume()
    assert len(stops(server)) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_async_break_with_context_manager_stops_once(mode):
    server, script = server_for(mode)
    async with aclient(server) as c:
        async with await open_stream(c, mode) as stream:
            async for ev in stream:
                if ev.text:
                    break
        expected = "/v1" + script.stop_path.format(script.task_id)
        assert stops(server) == [(expected, {"user": USER})]
        await stream.aclose()
    assert len(stops(server)) == 1


async def test_async_bare_break_stops_via_generator_finalizer():
    server, _ = server_for("chat")
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER)
        async for _ in stream:
            break
        for _ in range(50):
            if stops(server):
                break
            await asyncio.sleep(0.01)
        assert len(stops(server)) == 1
        await stream.aclose()
    assert len(stops(server)) == 1


async def test_async_task_cancellation_stops_once_shielded():
    first_delta = asyncio.Event()
    release = asyncio.Event()

    class Hanging(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield sse(chat_script(["x"], "chat").events[:1])
            await release.wait()  # the server keeps generating...
            yield b""

    server, _ = server_for("chat")
    server.routes[("POST", "/chat-messages")] = lambda _r: httpx.Response(200, stream=Hanging())
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER)

        async def consume() -> None:
            async for ev in stream:
                if ev.text:
                    first_delta.set()

        task = asyncio.create_task(consume())
        await first_delta.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert stops(server) == [
            ("/v1/chat-messages/" + chat_script([], "chat").task_id + "/stop", {"user": USER})
        ]
        await stream.aclose()
    assert len(stops(server)) == 1


async def test_async_stop_is_bounded():
    from dify_transport import _stopping as _streaming  # the bounded stop lives there

    async def slow_stop(task_id: str) -> None:
        await asyncio.sleep(30)

    server, _ = server_for("chat")
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER)
        stream._stop = slow_stop
        await stream.__anext__()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        old = _streaming.STOP_TIMEOUT
        _streaming.STOP_TIMEOUT = 0.2
        try:
            await stream.aclose()
        finally:
            _streaming.STOP_TIMEOUT = old
        assert loop.time() - t0 < 2
