"""`answer_form`: submit the paused run's form, then follow the same run (MockTransport)."""

from __future__ import annotations

import json

import httpx
import pytest

from dify_transport import AsyncDifyClient, DifyClient, DifyConfigError, DifyError, PausedRun

RUN = "r0000000-0000-0000-0000-000000000001"
EVENTS = (
    'data: {"event": "workflow_started", "task_id": "t1", "workflow_run_id": "' + RUN + '", '
    '"data": {"id": "' + RUN + '", "reason": "resumption"}}\n\n'
    'data: {"event": "workflow_finished", "task_id": "t1", "workflow_run_id": "' + RUN + '", '
    '"data": {"id": "' + RUN + '", "status": "succeeded", "outputs": {"ok": true}}}\n\n'
)


def _paused(user: str | None = "alice") -> PausedRun:
    return PausedRun.model_validate(
        {
            "workflow_run_id": RUN,
            "task_id": "t1",
            "user": user,
            "forms": {"n1": {"node_id": "n1", "form_token": "tok1"}},
        }
    )


def _handle(seen: list[httpx.Request]):
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(200, json={})
        return httpx.Response(200, text=EVENTS, headers={"content-type": "text/event-stream"})

    return handle


def _check(seen: list[httpx.Request], user: str) -> None:
    post, get = seen
    assert (post.method, post.url.path) == ("POST", "/v1/form/human_input/tok1")
    assert json.loads(post.content) == {"inputs": {"x": 1}, "action": "approve", "user": user}
    assert (get.method, get.url.path) == ("GET", f"/v1/workflow/{RUN}/events")
    assert get.url.params["user"] == user


def test_sync_answer_form_submits_then_follows_the_run() -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(_handle(seen)))
    client = DifyClient(api_key="app-k", base_url="http://dify.test/v1", http_client=http)
    result = client.answer_form(_paused(), action="approve", inputs={"x": 1}, user="other")
    assert result.outputs == {"ok": True}
    assert result.start_reason == "resumption"
    _check(seen, "alice")  # the run's own user wins over user=


async def test_async_answer_form_uses_user_when_the_handle_has_none() -> None:
    seen: list[httpx.Request] = []
    http = httpx.AsyncClient(transport=httpx.MockTransport(_handle(seen)))
    client = AsyncDifyClient(api_key="app-k", base_url="http://dify.test/v1", http_client=http)
    result = await client.answer_form(_paused(None), action="approve", inputs={"x": 1}, user="bob")
    assert result.status == "succeeded"
    _check(seen, "bob")


def test_answer_form_refuses_before_sending() -> None:
    seen: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(_handle(seen)))
    client = DifyClient(api_key="app-k", base_url="http://dify.test/v1", http_client=http)
    with pytest.raises(DifyConfigError, match="user="):
        client.answer_form(_paused(None), action="approve")
    with pytest.raises(DifyError, match="no such form"):
        client.answer_form(_paused(), action="approve", node_id="n9")
    no_run = _paused().model_copy(update={"workflow_run_id": None})
    with pytest.raises(DifyConfigError, match="no workflow_run_id"):
        client.answer_form(no_run, action="approve")  # the form is not submitted either
    assert seen == []
