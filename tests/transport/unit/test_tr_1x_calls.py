"""Dify 1.x app endpoints: the request each method sends and what it returns (MockTransport)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from dify_transport import (
    AgentBlockingModeError,
    AsyncDifyClient,
    ConversationCompletedError,
    DifyClient,
    EndUserNotFoundError,
    HumanInputFormExpiredError,
    QuotaExceededError,
    TooManyRequestsError,
    WorkflowVersionNotAllowedError,
    make_status_error,
)

CID = "c0000000-0000-0000-0000-000000000001"
BODIES: dict[str, Any] = {
    "variables": {"data": [{"id": "v1", "name": "n", "value": "1"}], "has_more": False},
    "variable": {"id": "v1", "name": "n", "value": "Ada"},
    "end_user": {"id": "e1", "session_id": "alice"},
    "feedbacks": {"data": [{"id": "f1", "rating": "like"}]},
    "annotation": {"id": "a1", "question": "q", "answer": "a"},
    "annotations": {"data": [{"id": "a1"}], "has_more": False, "total": 1, "page": 1},
    "job": {"job_id": "j1", "job_status": "waiting"},
    "form": {"form_content": "ok?", "user_actions": [{"id": "approve"}]},
}

CASES = [
    ("get_conversation_variables", (CID,), {"user": "u", "variable_name": "n"},
     "GET", f"/v1/conversations/{CID}/variables", "variables"),
    ("update_conversation_variable", (CID, "v1"), {"user": "u", "value": "Ada"},
     "PUT", f"/v1/conversations/{CID}/variables/v1", "variable"),
    ("get_end_user", ("e1",), {}, "GET", "/v1/end-users/e1", "end_user"),
    ("get_app_feedbacks", (), {"page": 2}, "GET", "/v1/app/feedbacks", "feedbacks"),
    ("create_annotation", ("q", "a"), {}, "POST", "/v1/apps/annotations", "annotation"),
    ("list_annotations", (), {"keyword": "q"}, "GET", "/v1/apps/annotations", "annotations"),
    ("update_annotation", ("a1",), {"question": "q", "answer": "a"},
     "PUT", "/v1/apps/annotations/a1", "annotation"),
    ("set_annotation_reply", ("enable",),
     {"embedding_provider_name": "p", "embedding_model_name": "m", "score_threshold": 0.8},
     "POST", "/v1/apps/annotation-reply/enable", "job"),
    ("get_annotation_reply_status", ("enable", "j1"), {},
     "GET", "/v1/apps/annotation-reply/enable/status/j1", "job"),
    ("get_human_input_form", ("tok/1",), {}, "GET", "/v1/form/human_input/tok%2F1", "form"),
]  # fmt: skip


def _handler(seen: list[httpx.Request], body: Any) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(("name", "args", "kwargs", "method", "path", "body"), CASES)
def test_sync_request_and_parse(name, args, kwargs, method, path, body) -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(transport=_handler(seen, BODIES[body]))
    client = DifyClient(api_key="app-k", base_url="http://dify.test/v1", http_client=http)
    out = getattr(client, name)(*args, **kwargs)
    assert (seen[0].method, seen[0].url.raw_path.split(b"?")[0].decode()) == (method, path)
    assert out.model_dump(include=set(BODIES[body])) == client_model_view(out, BODIES[body])


def client_model_view(out: Any, body: dict[str, Any]) -> dict[str, Any]:
    return out.model_validate(body).model_dump(include=set(body))


@pytest.mark.parametrize(("name", "args", "kwargs", "method", "path", "body"), CASES)
async def test_async_request_and_parse(name, args, kwargs, method, path, body) -> None:
    seen: list[httpx.Request] = []
    http = httpx.AsyncClient(transport=_handler(seen, BODIES[body]))
    client = AsyncDifyClient(api_key="app-k", base_url="http://dify.test/v1", http_client=http)
    await getattr(client, name)(*args, **kwargs)
    assert (seen[0].method, seen[0].url.raw_path.split(b"?")[0].decode()) == (method, path)


def test_bodies_and_queries_sent() -> None:
    seen: list[httpx.Request] = []

    def client_for(body: Any) -> DifyClient:
        http = httpx.Client(transport=_handler(seen, body))
        return DifyClient(api_key="app-k", base_url="http://dify.test/v1", http_client=http)

    client_for({}).submit_human_input_form("t1", user="u", action="approve", inputs={"x": 1})
    assert json.loads(seen[-1].content) == {"inputs": {"x": 1}, "action": "approve", "user": "u"}
    client_for(BODIES["variable"]).update_conversation_variable(CID, "v1", user="u", value=3)
    assert json.loads(seen[-1].content) == {"value": 3, "user": "u"}
    client_for(None).delete_annotation("a1")
    assert seen[-1].method == "DELETE"

    def png(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"PNG", headers={"content-type": "image/png"})

    http = httpx.Client(transport=httpx.MockTransport(png))
    client = DifyClient(api_key="app-k", base_url="http://dify.test/v1", http_client=http)
    assert client.get_file_preview("f1", as_attachment=True) == b"PNG"
    assert seen[-1].url.params["as_attachment"] == "true"


@pytest.mark.parametrize(
    ("status", "code", "message", "cls"),
    [
        (400, "conversation_completed", "ended", ConversationCompletedError),
        (403, "workflow_version_execution_not_allowed", "plan", WorkflowVersionNotAllowedError),
        (404, "end_user_not_found", "End user not found.", EndUserNotFoundError),
        (412, "human_input_form_expired", "expired", HumanInputFormExpiredError),
        (429, "too_many_requests", "busy", TooManyRequestsError),
        (429, "rate_limit_error", "quota", QuotaExceededError),
        (400, "bad_request", "Agent App only supports streaming response mode.",
         AgentBlockingModeError),
    ],
)  # fmt: skip
def test_new_codes_map_to_named_classes(status, code, message, cls) -> None:
    err = make_status_error(status, {"code": code, "message": message, "status": status})
    assert type(err) is cls


@pytest.mark.parametrize(("code", "calls"), [("rate_limit_error", 1), ("too_many_requests", 3)])
def test_quota_429_is_never_retried_concurrency_429_is(code: str, calls: int) -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(429, json={"code": code, "message": "x", "status": 429})

    http = httpx.Client(transport=httpx.MockTransport(handle))
    client = DifyClient(api_key="app-k", base_url="http://dify.test/v1", http_client=http)
    client._sleep = lambda _s: None
    with pytest.raises((QuotaExceededError, TooManyRequestsError)):
        client.chat("q", user="u")
    assert len(seen) == calls
