"""Issue 9.3: a stream is bounded (linear decoder, max event size, total deadline)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from _tr_support import TID, USER, aclient, chat_script, client, frame, sse_response

from dify_transport import (
    APIResponseValidationError,
    APITimeoutError,
    DifyClient,
    DifyConfigError,
    DifyKnowledgeClient,
    InternalServerError,
    SSEDecoder,
)
from dify_transport._sse import DEFAULT_MAX_EVENT_SIZE, SSEDecodeError, SSEEventTooLargeError

# -- a linear decoder ---------------------------------------------------------------------


def _decode_line(size: int, chunk: int = 4096) -> float:
    """Best of three: CPU seconds (this thread only, so other work on a loaded machine
    does not count) to decode one ``data:`` line of ``size`` bytes fed in chunks."""
    body = b'data: {"event":"message","answer":"' + b"x" * size + b'"}\n\n'
    best = float("inf")
    for _ in range(3):
        dec = SSEDecoder(max_event_size=None)
        t0 = time.thread_time()
        out: list[dict[str, Any]] = []
        for i in range(0, len(body), chunk):
            out += dec.feed(body[i : i + chunk])
        best = min(best, time.thread_time() - t0)
        assert len(out) == 1
        assert len(out[0]["answer"]) == size
    return best


def test_one_long_line_decodes_in_linear_time() -> None:
    # 8x the bytes: a linear decoder takes ~8x the CPU time, the old quadratic one
    # ~100x (2 MB -> 16 MB). Best-of-three thread CPU times; the bound leaves 3x room.
    small = _decode_line(2 << 20)
    large = _decode_line(16 << 20)
    assert large / small < 24, (small, large)


def test_many_short_lines_in_one_frame_are_linear_too() -> None:
    lines = 200_000
    body = b"event: message\ndata: [\n" + b"data: 1,\n" * lines + b"data: 1]\n\n"
    dec = SSEDecoder(max_event_size=None)
    t0 = time.perf_counter()
    out: list[dict[str, Any]] = []
    for i in range(0, len(body), 8):  # each chunk carries a newline: the old path re-joined
        out += dec.feed(body[i : i + 8])
    assert time.perf_counter() - t0 < 10
    assert out == [{"event": "message", "data": [1] * (lines + 1)}]


# -- a maximum event size -----------------------------------------------------------------


def test_decoder_rejects_an_event_over_its_limit_however_it_arrives() -> None:
    big = frame({"event": "message", "answer": "x" * 5000})
    for chunks in (
        [big],
        [big[:10], big[10:]],
        [big[i : i + 100] for i in range(0, len(big), 100)],
    ):
        dec = SSEDecoder(max_event_size=4096)

        def feed_all(dec: SSEDecoder = dec, chunks: list[bytes] = chunks) -> None:
            for c in chunks:
                dec.feed(c)

        with pytest.raises(SSEEventTooLargeError) as info:
            feed_all()
        assert isinstance(info.value, SSEDecodeError)
        assert info.value.limit == 4096
    ok = SSEDecoder(max_event_size=8192)
    assert ok.feed(big)[0]["answer"] == "x" * 5000


def test_default_limit_is_generous_but_finite() -> None:
    assert DEFAULT_MAX_EVENT_SIZE == 8 * 1024 * 1024
    dec = SSEDecoder()
    with pytest.raises(SSEEventTooLargeError):
        dec.feed(b"data: " + b"x" * (DEFAULT_MAX_EVENT_SIZE + 1))


def test_an_unterminated_line_cannot_grow_without_bound() -> None:
    dec = SSEDecoder(max_event_size=1 << 20)
    for _ in range(16):
        dec.feed(b"x" * 65536)  # no newline ever: exactly 1 MiB buffered
    with pytest.raises(SSEEventTooLargeError):
        dec.feed(b"x" * 65536)


def _stream_with_big_event(size: int) -> Any:
    script = chat_script(["Hi", " there"])
    events = [*script.events[:1], {**script.events[1], "answer": "y" * size}, *script.events[2:]]
    return lambda request: sse_response([frame(e) for e in events])


def test_stream_event_over_max_event_size_is_a_validation_error() -> None:
    c = client(_stream_with_big_event(3000), max_event_size=2048)
    stream = c.stream_chat("hi", user=USER)
    with pytest.raises(APIResponseValidationError) as info:
        stream.final()
    assert "max_event_size=2048" in str(info.value)
    assert info.value.partial_answer == "Hi"
    assert client(_stream_with_big_event(3000)).stream_chat("hi", user=USER).final().answer


async def test_async_stream_event_over_max_event_size_is_a_validation_error() -> None:
    c = aclient(_stream_with_big_event(3000), max_event_size=2048)
    stream = await c.stream_chat("hi", user=USER)
    with pytest.raises(APIResponseValidationError, match="max_event_size"):
        await stream.final()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "big"])
def test_bad_max_event_size_is_a_config_error(bad: Any) -> None:
    with pytest.raises(DifyConfigError, match="max_event_size"):
        DifyClient(api_key="app-x", max_event_size=bad)


# -- an optional total deadline -----------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "soon"])
def test_bad_deadline_is_a_config_error(bad: Any) -> None:
    with pytest.raises(DifyConfigError, match="deadline"):
        DifyClient(api_key="app-x", deadline=bad)
    with pytest.raises(DifyConfigError, match="deadline"):
        DifyKnowledgeClient(api_key="dataset-x", deadline=bad)
    c = client(lambda r: httpx.Response(200, json={}))
    with pytest.raises(DifyConfigError, match="deadline"):
        c.stream_chat("hi", user=USER, deadline=bad)


def test_no_retry_is_started_that_would_pass_the_deadline() -> None:
    sent: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(503, json={"code": "unavailable", "message": "busy", "status": 503})

    c = client(server, deadline=0.3)  # the first backoff (0.5 s) cannot fit
    with pytest.raises(InternalServerError):
        c.get_parameters()
    assert len(sent) == 1
    sent.clear()
    with pytest.raises(InternalServerError):
        client(server).get_parameters()  # no deadline: the normal retries
    assert len(sent) == 3


def test_deadline_caps_every_phase_timeout() -> None:
    seen: list[dict[str, float]] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={"user_input_form": []})

    client(server, timeout=60).get_parameters()
    client(server, timeout=60, deadline=2).get_parameters()
    assert seen[0]["read"] == 60
    assert all(0 < value <= 2 for value in seen[1].values())


async def test_async_blocking_call_ends_at_the_deadline() -> None:
    async def server(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json={})

    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    from dify_transport import AsyncDifyClient

    c = AsyncDifyClient(api_key="app-x", base_url="http://dify.test/v1", http_client=http)
    t0 = time.monotonic()
    with pytest.raises(APITimeoutError, match=r"deadline of 0\.5 s"):
        await c.chat("hi", user=USER, deadline=0.5)
    assert time.monotonic() - t0 < 3


class Pings(httpx.SyncByteStream, httpx.AsyncByteStream):
    """One message, then pings forever (every 20 ms)."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    def __iter__(self) -> Any:
        yield self.first
        while True:
            time.sleep(0.02)
            yield b"event: ping\n\n"

    async def __aiter__(self) -> Any:
        yield self.first
        while True:
            await asyncio.sleep(0.02)
            yield b"event: ping\n\n"


def _pings(stops: list[str]) -> Any:
    first = frame(chat_script(["Hi"]).events[0])

    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stop"):
            stops.append(request.url.path)
            return httpx.Response(200, json={"result": "success"})
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Pings(first)
        )

    return server


def test_pings_forever_end_at_the_deadline_with_the_partial_answer() -> None:
    stops: list[str] = []
    c = client(_pings(stops), deadline=0.5)
    t0 = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        c.stream_chat("hi", user=USER).final()
    assert time.monotonic() - t0 < 3
    assert info.value.partial_answer == "Hi"
    assert info.value.task_id == TID
    assert stops == [f"/v1/chat-messages/{TID}/stop"]


async def test_async_pings_forever_end_at_the_deadline() -> None:
    stops: list[str] = []
    c = aclient(_pings(stops))
    stream = await c.stream_chat("hi", user=USER, deadline=0.5)
    with pytest.raises(APITimeoutError) as info:
        await stream.final()
    assert info.value.partial_answer == "Hi"
    assert stops == [f"/v1/chat-messages/{TID}/stop"]
    assert stream.result().finish_reason == "stopped"


def test_a_complete_stream_is_not_a_deadline_error() -> None:
    script = chat_script(["Hi", " there"])
    c = client(lambda r: sse_response([frame(e) for e in script.events]), deadline=5)
    assert c.stream_chat("hi", user=USER).final().answer == "Hi there"
