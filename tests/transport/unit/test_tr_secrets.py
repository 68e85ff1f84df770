"""Acceptance 8: the API key never shows in repr/str of clients and errors, nor in DEBUG logs."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest
from _tr_support import KEY, USER, Server, aclient, client, frame, json_response, sse_response

from dify_transport import (
    APIError,
    AsyncDifyClient,
    AsyncDifyKnowledgeClient,
    DifyClient,
    DifyKnowledgeClient,
)


def test_client_reprs_hide_key():
    for cls in (DifyClient, AsyncDifyClient, DifyKnowledgeClient, AsyncDifyKnowledgeClient):
        c = cls(api_key=KEY, base_url="http://dify.test/v1")
        for text in (repr(c), str(c), repr(vars(c)), f"{c!r}"):
            assert KEY not in text
        assert "http://dify.test/v1" in repr(c)


def error_cases() -> list[httpx.Response]:
    echo = {"code": "unauthorized", "message": f"Access token {KEY} is invalid", "status": 401}
    return [
        json_response(401, echo),
        json_response(
            404, {"code": "not_found", "message": "Conversation Not Exists.", "status": 404}
        ),
        json_response(500, {"code": "unknown", "message": f"Bearer {KEY}"}),
        httpx.Response(502, text=f"<html><title>Bad gateway {KEY}</title></html>"),
    ]


@pytest.mark.parametrize("response", error_cases())
def test_errors_never_contain_key(response, caplog):
    caplog.set_level(logging.DEBUG)
    s = Server()
    s.routes[("POST", "/chat-messages")] = response
    with pytest.raises(APIError) as info:
        client(s, max_retries=0).chat("q", user=USER)
    err = info.value
    texts = [str(err), repr(err), err.message, "".join(traceback.format_exception(err))]
    for text in texts:
        assert KEY not in text
    assert KEY not in caplog.text
    assert s.seen[0].headers["authorization"] == f"Bearer {KEY}"


def test_debug_logging_is_redacted_and_useful(caplog):
    caplog.set_level(logging.DEBUG)
    s = Server()
    s.routes[("GET", "/parameters")] = [json_response(503, {}), json_response(200, {})]
    s.routes[("POST", "/chat-messages")] = lambda _r: sse_response(
        [frame({"event": "message", "task_id": "t", "answer": "x"})], drop=True
    )
    s.routes[("POST", "/chat-messages/*")] = json_response(200, {"result": "success"})
    c = client(s)
    c.get_parameters()
    with pytest.raises(APIError):
        c.stream_chat("q", user=USER).final()
    assert "dify request GET http://dify.test/v1/parameters" in caplog.text
    assert "Bearer ***" in caplog.text
    assert KEY not in caplog.text


def test_connection_errors_never_contain_key():
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"failed with headers {request.headers!r}")

    with pytest.raises(APIError) as info:
        client(boom, max_retries=0).get_info()
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)


async def test_async_errors_never_contain_key(caplog):
    caplog.set_level(logging.DEBUG)
    s = Server()
    s.routes[("GET", "/info")] = json_response(403, {"code": "forbidden", "message": KEY})
    async with aclient(s) as c:
        with pytest.raises(APIError) as info:
            await c.get_info()
    assert KEY not in str(info.value)
    assert KEY not in caplog.text
