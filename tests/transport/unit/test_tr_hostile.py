"""Issue 9: hostile servers. Every malformed answer becomes a typed ``DifyError``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from _tr_support import CID, RUN, USER, aclient, chat_script, client, frame, sse_response

from dify_transport import APIResponseValidationError, InternalServerError, RateLimitError

PAGE = {"limit": 20, "has_more": False, "data": []}


def raw(status: int, body: bytes, ctype: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=body, headers={"content-type": ctype})


# -- 9.2: Retry-After NaN / inf -----------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "nan"},
        {"retry-after": "inf"},
        {"retry-after": "-inf"},
        {"retry-after-ms": "nan"},
        {"retry-after-ms": "inf"},
    ],
)
def test_sync_non_finite_retry_after_uses_backoff(headers, instant_sleep):
    resp = httpx.Response(429, json={"code": "too_many_requests", "message": "x"}, headers=headers)
    with pytest.raises(RateLimitError):
        client(lambda r: resp, max_retries=2).get_conversations(user=USER)
    assert len(instant_sleep) == 2
    assert all(0 < w <= 8 for w in instant_sleep)


@pytest.mark.parametrize(
    "headers", [{"retry-after": "nan"}, {"retry-after": "inf"}, {"retry-after-ms": "nan"}]
)
async def test_async_non_finite_retry_after_does_not_sleep_forever(headers, instant_sleep):
    resp = httpx.Response(429, json={"code": "too_many_requests", "message": "x"}, headers=headers)
    with pytest.raises(RateLimitError):
        await aclient(lambda r: resp, max_retries=2).get_conversations(user=USER)
    assert len(instant_sleep) == 2
    assert all(0 < w <= 8 for w in instant_sleep)


def test_retry_after_is_not_jittered(instant_sleep):
    resp = httpx.Response(429, json={"code": "x", "message": "x"}, headers={"retry-after": "3"})
    with pytest.raises(RateLimitError):
        client(lambda r: resp, max_retries=3).get_conversations(user=USER)
    assert instant_sleep == [3.0, 3.0, 3.0]


# -- 9.4: no raw RecursionError / TypeError / OverflowError / ValidationError ------------

DEEP = b"[" * 100_000 + b"]" * 100_000

NON_STREAMING: list[tuple[str, bytes, str]] = [
    ("get_conversations", DEEP, "nested"),
    ("get_conversations", b'{"limit": 20, "has_more": NaN, "data": []}', "NaN"),
    ("get_conversations", b'{"limit": "x", "has_more": false, "data": []}', "limit"),
    ("get_messages", b'{"limit": 20, "has_more": false, "data": 5}', "data"),
    ("get_parameters", b'{"user_input_form": 5}', "user_input_form"),
    ("get_workflow_run", b'{"id": "r", "status": ["x"]}', "status"),
    ("upload_file", b'{"id": 5, "name": []}', "id"),
]


def _call(c: Any, method: str) -> Any:
    if method == "get_conversations":
        return c.get_conversations(user=USER)
    if method == "get_messages":
        return c.get_messages(CID, user=USER)
    if method == "get_parameters":
        return c.get_parameters()
    if method == "get_workflow_run":
        return c.get_workflow_run(RUN)
    return c.upload_file(b"data", user=USER, filename="a.txt")


@pytest.mark.parametrize(("method", "body", "needle"), NON_STREAMING)
def test_sync_malformed_body_is_validation_error(method, body, needle):
    with pytest.raises(APIResponseValidationError, match=needle):
        _call(client(lambda r: raw(200, body)), method)


@pytest.mark.parametrize(("method", "body", "needle"), NON_STREAMING)
async def test_async_malformed_body_is_validation_error(method, body, needle):
    with pytest.raises(APIResponseValidationError, match=needle):
        await _call(aclient(lambda r: raw(200, body)), method)


def test_error_status_infinity_is_a_status_error():
    body = b'{"code": "x", "message": "boom", "status": Infinity}'
    with pytest.raises(InternalServerError):
        client(lambda r: raw(500, body), max_retries=0).get_conversations(user=USER)


STREAM_BODIES: list[tuple[bytes, str]] = [
    (frame({"event": ["message"], "answer": "x"}), "event"),
    (frame({"event": "message_end", "metadata": {"retriever_resources": 5}}), "retriever"),
    (b"data: " + DEEP + b"\n\n", "JSON"),
    (b'data: {"event": "message_end", "metadata": {"usage": {"total_tokens": NaN}}}\n\n', "JSON"),
    (b'data: {"event": "error", "status": Infinity, "code": "x", "message": "m"}\n\n', "JSON"),
]


@pytest.mark.parametrize(("body", "needle"), STREAM_BODIES)
def test_sync_stream_malformed_event_is_validation_error(body, needle):
    first = chat_script(["hi"], "chat").events[0]
    c = client(lambda r: sse_response([frame(first), body]))
    with pytest.raises(APIResponseValidationError, match=needle):
        c.stream_chat("q", user=USER).final()


@pytest.mark.parametrize(("body", "needle"), STREAM_BODIES)
async def test_async_stream_malformed_event_is_validation_error(body, needle):
    first = chat_script(["hi"], "chat").events[0]
    c = aclient(lambda r: sse_response([frame(first), body]))
    with pytest.raises(APIResponseValidationError, match=needle):
        await (await c.stream_chat("q", user=USER)).final()


def test_in_stream_error_with_infinite_status_is_typed():
    ev = {"event": "error", "status": float("inf"), "code": "x", "message": "m"}
    from dify_transport._error_mapping import error_from_event

    assert isinstance(error_from_event(ev), InternalServerError)


# -- 9.10: ids that would leave their route ------------------------------------------------


@pytest.mark.parametrize("bad", ["", ".", ".."])
def test_dot_and_empty_ids_are_rejected_before_sending(bad):
    from dify_transport import DifyConfigError

    sent: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return raw(200, b"{}")

    c = client(server)
    with pytest.raises(DifyConfigError, match="Invalid id") as info:
        c.delete_conversation(bad, user=USER)
    assert isinstance(info.value, ValueError)
    with pytest.raises(DifyConfigError):
        c.rename_conversation(bad, user=USER, name="n")
    with pytest.raises(DifyConfigError):
        c.stop_chat(bad, user=USER)
    assert sent == []


def test_stop_call_quotes_the_task_id():
    sent: list[httpx.Request] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return raw(200, b'{"result": "success"}')

    client(server).stop_chat("a/b?c", user=USER)
    assert sent[0].url.raw_path == b"/v1/chat-messages/a%2Fb%3Fc/stop"


# -- 9.12: careless inputs fail before sending, typed, never retried -----------------------

CARELESS: list[tuple[dict[str, Any], str]] = [
    ({"extra_headers": {"X-Trace": "a\r\nX-Injected: 1"}}, "extra_headers"),
    ({"extra_headers": {"X-Trace": "caf\u00e9"}}, "extra_headers"),
    ({"extra_headers": {"X-T\u00e9": "v"}}, "extra_headers"),
    ({"query": "bad \ud800 text"}, "ud800"),
    ({"inputs": {"x": float("nan")}}, "NaN"),
    ({"inputs": {"x": float("inf")}}, "NaN"),
]


@pytest.mark.parametrize(("kwargs", "needle"), CARELESS)
def test_sync_careless_input_is_a_config_error_before_sending(kwargs, needle):
    from dify_transport import DifyConfigError

    sent: list[httpx.Request] = []
    c = client(lambda r: sent.append(r) or raw(500, b"{}"), max_retries=2)
    call = {"query": "q", "user": USER, **kwargs}
    with pytest.raises(DifyConfigError, match=needle):
        c.chat(**call)
    with pytest.raises(DifyConfigError, match=needle):
        c.stream_chat(**call)
    assert sent == []


@pytest.mark.parametrize(("kwargs", "needle"), CARELESS)
async def test_async_careless_input_is_a_config_error_before_sending(kwargs, needle):
    from dify_transport import DifyConfigError

    sent: list[httpx.Request] = []
    c = aclient(lambda r: sent.append(r) or raw(500, b"{}"), max_retries=2)
    with pytest.raises(DifyConfigError, match=needle):
        await c.chat(**{"query": "q", "user": USER, **kwargs})
    assert sent == []


def test_lone_surrogate_in_a_query_parameter_is_a_config_error():
    from dify_transport import DifyConfigError

    with pytest.raises(DifyConfigError, match="cannot be encoded"):
        client(lambda r: raw(200, b"{}")).get_conversations(user="u\ud800")


# -- 9.7: paging loops end against a server that cycles pages ------------------------------


def _conv(i: int) -> dict[str, Any]:
    return {"id": f"c{i}", "name": f"n{i}", "inputs": {}, "status": "normal", "created_at": 1}


def _msg(i: int) -> dict[str, Any]:
    return {"id": f"m{i}", "conversation_id": CID, "query": "q", "answer": "a", "created_at": i}


def cycling(items: list[list[dict[str, Any]]]):
    """A server that answers has_more=true forever, cycling through ``items``."""
    count = [0]

    def server(request: httpx.Request) -> httpx.Response:
        count[0] += 1
        if count[0] > 50:
            raise AssertionError("paging did not stop")
        page = items[(count[0] - 1) % len(items)]
        return json_page(page)

    return server, count


def json_page(data: list[dict[str, Any]]) -> httpx.Response:
    return httpx.Response(200, json={"limit": 2, "has_more": True, "data": data})


def test_iter_conversations_stops_on_cycling_pages():
    server, count = cycling([[_conv(1), _conv(2)], [_conv(3), _conv(4)]])
    got: list[str] = []
    with pytest.raises(APIResponseValidationError, match="no new items"):
        got.extend(c.id for c in client(server).iter_conversations(user=USER, page_size=2))
    assert got == ["c1", "c2", "c3", "c4"]
    assert count[0] == 3


async def test_async_iter_messages_stops_on_cycling_pages():
    server, count = cycling([[_msg(2), _msg(3)], [_msg(0), _msg(1)]])
    with pytest.raises(APIResponseValidationError, match="no new items"):
        [m async for m in aclient(server).iter_messages(CID, user=USER, page_size=2)]
    assert count[0] == 3


def test_paging_is_capped(monkeypatch):
    from dify_transport import _app_api

    monkeypatch.setattr(_app_api, "MAX_PAGES", 5)
    count = [0]

    def endless(request: httpx.Request) -> httpx.Response:
        count[0] += 1
        return json_page([_conv(2 * count[0]), _conv(2 * count[0] + 1)])

    with pytest.raises(APIResponseValidationError, match="5 pages"):
        list(client(endless).iter_conversations(user=USER, page_size=2))
    assert count[0] == 5


# -- 9.8: an injected client's timeout is used -----------------------------------------------


def _seen_timeouts() -> tuple[Any, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json=PAGE)

    return server, seen


def test_injected_client_timeout_is_used():
    from dify_transport import DifyClient

    server, seen = _seen_timeouts()
    http = httpx.Client(transport=httpx.MockTransport(server), timeout=1)
    c = DifyClient(api_key="app-x", base_url="http://dify.test/v1", http_client=http)
    c.get_conversations(user=USER)
    assert seen[0]["read"] == 1
    assert c.timeout == httpx.Timeout(1)


async def test_async_injected_client_timeout_is_used_but_explicit_timeout_wins():
    from dify_transport import AsyncDifyClient

    server, seen = _seen_timeouts()
    http = httpx.AsyncClient(transport=httpx.MockTransport(server), timeout=2)
    c = AsyncDifyClient(api_key="app-x", base_url="http://dify.test/v1", http_client=http)
    assert c.timeout == httpx.Timeout(2)
    d = AsyncDifyClient(
        api_key="app-x", base_url="http://dify.test/v1", http_client=http, timeout=7
    )
    await d.get_conversations(user=USER)
    assert seen[0]["read"] == 7


def test_injected_client_with_httpx_default_timeout_keeps_ours():
    from dify_transport import DifyClient
    from dify_transport._constants import DEFAULT_TIMEOUT

    c = DifyClient(api_key="app-x", base_url="http://dify.test/v1", http_client=httpx.Client())
    assert c.timeout == DEFAULT_TIMEOUT


# -- 9.11: misleading stream errors ---------------------------------------------------------


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("text/html; charset=utf-8", b"<html><title>Dify console</title></html>"),
        ("application/json", b'{"answer": "hello", "event": "message"}'),
    ],
)
def test_sync_200_that_is_not_a_stream_names_the_content_type(ctype, body):
    c = client(lambda r: httpx.Response(200, content=body, headers={"content-type": ctype}))
    with pytest.raises(APIResponseValidationError, match="base_url") as info:
        c.stream_chat("q", user=USER)
    assert ctype.split(";")[0] in str(info.value)
    assert body[:10].decode() in str(info.value)


async def test_async_200_html_is_not_a_stream():
    body = b"<html><title>Login</title></html>"
    resp = httpx.Response(200, content=body, headers={"content-type": "text/html"})
    with pytest.raises(APIResponseValidationError, match=r"text/html.*Login"):
        await aclient(lambda r: resp).stream_chat("q", user=USER)


class StallAfter(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Sends the chunks, then times out reading (a server that stalls)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Any:
        yield from self.chunks
        raise httpx.ReadTimeout("stalled")

    async def __aiter__(self) -> Any:
        for chunk in self.chunks:
            yield chunk
        raise httpx.ReadTimeout("stalled")


def _stalling(chunks: list[bytes]) -> Any:
    ctype = {"content-type": "text/event-stream"}
    return lambda r: httpx.Response(200, headers=ctype, stream=StallAfter(chunks))


def test_stall_after_message_end_keeps_the_complete_answer():
    script = chat_script(["hel", "lo"], "chat")
    result = client(_stalling([frame(e) for e in script.events])).stream_chat("q", user=USER)
    assert result.final().answer == script.answer


async def test_async_stall_after_message_end_keeps_the_complete_answer():
    script = chat_script(["hel", "lo"], "chat")
    stream = await aclient(_stalling([frame(e) for e in script.events])).stream_chat("q", user=USER)
    assert (await stream.final()).answer == script.answer


def test_stall_before_message_end_is_still_a_timeout():
    from dify_transport import APITimeoutError

    script = chat_script(["hel", "lo"], "chat")
    chunks = [frame(e) for e in script.events[:-1]]
    with pytest.raises(APITimeoutError):
        client(_stalling(chunks)).stream_chat("q", user=USER).final()


def test_truncated_last_frame_at_eof_is_an_incomplete_stream():
    from dify_transport import IncompleteStreamError

    script = chat_script(["hel", "lo"], "chat")
    chunks = [frame(e) for e in script.events[:-1]] + [frame(script.events[-1])[:25]]
    stream = client(lambda r: sse_response(chunks)).stream_chat("q", user=USER)
    with pytest.raises(IncompleteStreamError, match="cut off"):
        stream.final()


async def test_async_truncated_last_frame_at_eof_is_an_incomplete_stream():
    from dify_transport import IncompleteStreamError

    script = chat_script(["hel", "lo"], "chat")
    chunks = [frame(e) for e in script.events[:-1]] + [frame(script.events[-1])[:25]]
    stream = await aclient(lambda r: sse_response(chunks)).stream_chat("q", user=USER)
    with pytest.raises(IncompleteStreamError, match="cut off"):
        await stream.final()


# -- 9.6: a sync stream dropped unread releases its connection -----------------------------


def test_dropped_unread_stream_releases_its_connection_with_a_resource_warning():
    import gc
    import warnings

    from _tr_support import ChunkStream

    bodies: list[ChunkStream] = []

    def server(request: httpx.Request) -> httpx.Response:
        body = ChunkStream([frame(e) for e in chat_script(["hi"], "chat").events])
        bodies.append(body)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)

    c = client(server)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            c.stream_chat("q", user=USER)  # dropped at once, never read
        gc.collect()
    assert all(body.closed for body in bodies)
    assert sum(issubclass(w.category, ResourceWarning) for w in caught) >= 3
