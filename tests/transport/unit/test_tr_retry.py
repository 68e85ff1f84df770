"""Acceptance 6: never resend a turn that may have reached Dify; retry what is safe."""

from __future__ import annotations

import httpx
import pytest
from _tr_support import USER, Server, aclient, chat_script, client, json_response

from dify_transport import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
    _retry,
)

ERR500 = {"code": "internal_server_error", "message": "boom", "status": 500}
PAGE = {"limit": 20, "has_more": False, "data": []}


def counting(responses: list[httpx.Response | Exception]):
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        item = responses.pop(0) if len(responses) > 1 else responses[0]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, calls


def test_chat_post_500_is_not_retried():
    handler, calls = counting([json_response(500, ERR500)])
    with pytest.raises(InternalServerError):
        client(handler).chat("q", user=USER)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "exc",
    [
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset"),
        httpx.ReadTimeout("read timed out"),
        httpx.WriteError("broken pipe"),
    ],
)
def test_chat_post_dropped_after_send_is_not_retried(exc):
    handler, calls = counting([exc])
    with pytest.raises(APIConnectionError):
        client(handler).stream_chat("q", user=USER)
    assert len(calls) == 1


@pytest.mark.parametrize("exc", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow")])
def test_chat_post_never_connected_is_retried(exc, instant_sleep):
    ok = json_response(200, chat_script(["hi"], "chat").blocking)
    handler, calls = counting([exc, ok])
    assert client(handler).chat("q", user=USER).answer == "hi"
    assert len(calls) == 2
    assert len(instant_sleep) == 1


def test_chat_post_429_is_retried_after_retry_after(instant_sleep):
    ok = json_response(200, chat_script(["hi"], "chat").blocking)
    limited = json_response(
        429,
        {"code": "too_many_requests", "message": "slow down", "status": 429},
        {"Retry-After": "3"},
    )
    handler, calls = counting([limited, ok])
    assert client(handler).chat("q", user=USER).answer == "hi"
    assert len(calls) == 2
    assert instant_sleep == [3.0]


def test_retry_after_is_capped_and_429_exhaustion_raises(instant_sleep):
    limited = json_response(
        429, {"code": "too_many_requests", "message": "x"}, {"Retry-After": "9999"}
    )
    handler, calls = counting([limited])
    with pytest.raises(RateLimitError) as info:
        client(handler, max_retries=2).chat("q", user=USER)
    assert len(calls) == 3
    assert instant_sleep == [30.0, 30.0]
    assert info.value.retry_after == 30.0  # the delay waited: validated and capped (issue 9.2)


def test_get_503_twice_then_200_succeeds(instant_sleep):
    unavailable = json_response(503, {"code": "unavailable", "message": "later", "status": 503})
    handler, calls = counting([unavailable, unavailable, json_response(200, PAGE)])
    page = client(handler).get_conversations(user=USER)
    assert page.data == []
    assert len(calls) == 3
    assert len(instant_sleep) == 2
    assert 0.375 <= instant_sleep[0] <= 0.5  # 0.5 s with up to 25 % jitter
    assert 0.75 <= instant_sleep[1] <= 1.0


def test_get_gives_up_after_max_retries():
    handler, calls = counting([json_response(502, {"message": "bad gateway"})])
    with pytest.raises(InternalServerError):
        client(handler, max_retries=1).get_parameters()
    assert len(calls) == 2


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout("t"), httpx.RemoteProtocolError("closed"), httpx.ConnectError("x")]
)
def test_get_retries_transport_errors(exc):
    handler, calls = counting([exc, json_response(200, {"tool_icons": {}})])
    client(handler).get_meta()
    assert len(calls) == 2


def test_timeout_exhaustion_raises_api_timeout_error():
    handler, calls = counting([httpx.ConnectTimeout("slow")])
    with pytest.raises(APITimeoutError):
        client(handler, max_retries=0).get_info()
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("stop_chat", {"task_id": "t", "user": USER}),
        ("send_feedback", {"message_id": "m", "user": USER, "rating": "like"}),
        ("rename_conversation", {"conversation_id": "c", "user": USER, "name": "n"}),
        ("delete_conversation", {"conversation_id": "c", "user": USER}),
    ],
)
def test_idempotent_posts_and_delete_retry_on_5xx(method, kwargs):
    ok = json_response(200, {"result": "success", "id": "c", "name": "n"})
    handler, calls = counting([json_response(500, ERR500), ok])
    getattr(client(handler), method)(**kwargs)
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("completion", {"user": USER, "inputs": {}}),
        ("run_workflow", {"user": USER, "inputs": {}}),
        ("upload_file", {"file": b"x", "user": USER}),
        ("audio_to_text", {"file": b"x", "user": USER}),
        ("text_to_audio", {"user": USER, "text": "x"}),
    ],
)
def test_work_creating_posts_not_retried_on_5xx(method, kwargs):
    handler, calls = counting([json_response(503, ERR500)])
    with pytest.raises(InternalServerError):
        getattr(client(handler), method)(**kwargs)
    assert len(calls) == 1


def test_stream_is_not_restarted_after_first_byte():
    server = Server()
    from _tr_support import frame, sse_response

    server.routes[("POST", "/chat-messages")] = lambda _r: sse_response(
        [frame({"event": "message", "task_id": "t", "answer": "a"})], drop=True
    )
    server.routes[("POST", "/chat-messages/*")] = json_response(200, {"result": "success"})
    with pytest.raises(APIConnectionError):
        client(server).stream_chat("q", user=USER).final()
    assert len(server.calls("POST", "/chat-messages")) - len(server.calls("POST", "/stop")) == 1


async def test_async_retry_policy(instant_sleep):
    unavailable = json_response(503, {"message": "later"})
    handler, calls = counting([unavailable, unavailable, json_response(200, PAGE)])
    async with aclient(handler) as c:
        await c.get_messages("c", user=USER)
    assert len(calls) == 3
    handler2, calls2 = counting([json_response(500, ERR500)])
    async with aclient(handler2) as c:
        with pytest.raises(InternalServerError):
            await c.chat("q", user=USER)
    assert len(calls2) == 1


def test_client_level_sleep_override():
    waits: list[float] = []
    handler, _ = counting([json_response(503, {}), json_response(200, PAGE)])
    c = client(handler)
    c._sleep = waits.append
    c.get_conversations(user=USER)
    assert len(waits) == 1


def test_backoff_and_retry_after_parsing():
    assert _retry.backoff_delay(10) <= 8.0
    assert _retry.backoff_delay(0, 2.5) == 2.5
    assert _retry.parse_retry_after(httpx.Headers({"retry-after-ms": "1500"})) == 1.5
    assert _retry.parse_retry_after(httpx.Headers({"retry-after": "nonsense"})) is None
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert _retry.parse_retry_after(httpx.Headers({"retry-after": date})) == 0.0
