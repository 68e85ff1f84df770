"""A dropped workflow/chatflow stream resumes from GET /workflow/{id}/events (MockTransport)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from _tr_support import CID, MID, RUN, TID, USER, Server, aclient, client, json_response, sse
from _tr_support import sse_response as respond

from dify_transport import (
    APIConnectionError,
    DifyConfigError,
    NotFoundError,
    ReconnectError,
    ReconnectPolicy,
)


def wf(event: str, **data: Any) -> dict[str, Any]:
    return {"event": event, "task_id": TID, "workflow_run_id": RUN, "data": data}


def chat(event: str, **fields: Any) -> dict[str, Any]:
    env = {"event": event, "conversation_id": CID, "message_id": MID, "created_at": 1,
           "task_id": TID, "workflow_run_id": RUN}  # fmt: skip
    return {**env, **fields}


OUTPUTS = {"answer": "Hello brave new world"}
FIRST = [
    wf("workflow_started", id=RUN, workflow_id="w1", reason="initial"),
    wf("node_started", id="e1", node_id="start", title="Start"),
    wf("node_finished", id="e1", node_id="start", status="succeeded"),
    wf("node_started", id="e2", node_id="llm", title="LLM"),
    wf("text_chunk", text="Hello "),
]
REST = [  # what the events endpoint sends: repeats, then the run from the moment of connection
    wf("workflow_started", id=RUN, workflow_id="w1", reason="initial"),
    wf("node_finished", id="e1", node_id="start", status="succeeded"),
    wf("node_started", id="e2", node_id="llm", title="LLM"),
    wf("text_chunk", text="world"),
    wf("node_finished", id="e2", node_id="llm", status="succeeded"),
    wf("node_started", id="e3", node_id="end", title="End"),
    wf("node_finished", id="e3", node_id="end", status="succeeded"),
    wf("workflow_finished", id=RUN, status="succeeded", outputs=OUTPUTS, total_tokens=9),
]
DETAIL = {"id": RUN, "status": "succeeded", "outputs": json.dumps(OUTPUTS), "total_steps": 3}


def _workflow_server(events: list[httpx.Response] | None = None) -> Server:
    server = Server()
    server.routes[("POST", "/workflows/run")] = lambda _r: respond([sse(FIRST)], drop=True)
    server.routes[("GET", f"/workflow/{RUN}/events")] = events or [respond([sse(REST)])]
    server.routes[("GET", f"/workflows/run/{RUN}")] = json_response(200, DETAIL)
    return server


def _check_workflow(server: Server, names: list[str], ids: list[tuple[str, str]]) -> None:
    assert len(server.calls("POST", "/workflows/run")) == 1
    (events_call,) = server.calls("GET", "/events")
    assert events_call.params == {"user": USER}
    assert len(server.calls("GET", f"/workflows/run/{RUN}")) == 1
    assert len(ids) == len(set(ids))  # no node event twice
    assert names.count("workflow_started") == 1
    assert ("node_finished", "e3") in ids


def test_workflow_stream_resumes_once_without_repeats() -> None:
    server = _workflow_server()
    with client(server) as c:
        stream = c.stream_workflow(user=USER, inputs={"q": "x"})
        seen = list(stream)
        result = stream.final()
    names = [e.event for e in seen]
    ids = [(e.event, e.data["data"]["id"]) for e in seen if e.event.startswith("node_")]
    _check_workflow(server, names, ids)
    assert stream.resumed
    assert result.resumed
    assert result.outputs == OUTPUTS
    assert result.answer == "Hello brave new world"  # "brave new " was sent while disconnected
    assert [n.id for n in result.nodes] == ["e1", "e2", "e3"]
    assert result.finish_reason == "stop"


async def test_async_workflow_stream_resumes_once_without_repeats() -> None:
    server = _workflow_server()
    async with aclient(server) as c:
        stream = await c.stream_workflow(user=USER, inputs={"q": "x"})
        seen = [e async for e in stream]
        result = await stream.final()
    names = [e.event for e in seen]
    ids = [(e.event, e.data["data"]["id"]) for e in seen if e.event.startswith("node_")]
    _check_workflow(server, names, ids)
    assert result.resumed
    assert result.answer == "Hello brave new world"


def test_clean_eof_without_terminal_event_resumes_too() -> None:
    server = _workflow_server()
    server.routes[("POST", "/workflows/run")] = respond([sse(FIRST)])  # no drop, just EOF
    with client(server) as c:
        result = c.stream_workflow(user=USER, inputs={}).final()
    assert result.resumed
    assert result.outputs == OUTPUTS


def _chatflow_server() -> Server:
    first = [
        chat("workflow_started", data={"id": RUN, "reason": "initial"}),
        chat("node_started", data={"id": "e1", "node_id": "llm"}),
        chat("message", id=MID, answer="Hello "),
    ]
    rest = [
        chat("message", id=MID, answer="world"),
        chat("node_finished", data={"id": "e1", "node_id": "llm", "status": "succeeded"}),
        chat("message_end", id=MID, metadata={"usage": {"total_tokens": 9}}),
        chat("workflow_finished", data={"id": RUN, "status": "succeeded", "outputs": OUTPUTS}),
    ]
    mine = {"id": MID, "conversation_id": CID, "answer": "Hello brave new world", "query": "hi"}
    page = {"data": [{"id": "older", "answer": "no"}, mine], "has_more": False, "limit": 20}
    server = Server()
    server.routes[("POST", "/chat-messages")] = respond([sse(first)], drop=True)
    server.routes[("GET", f"/workflow/{RUN}/events")] = respond([sse(rest)])
    server.routes[("GET", "/messages")] = json_response(200, page)
    return server


def test_chatflow_answer_completed_from_the_message() -> None:
    server = _chatflow_server()
    with client(server) as c:
        result = c.stream_chat("hi", user=USER).final()
    assert result.resumed
    assert result.answer == "Hello brave new world"
    assert result.usage is not None
    assert result.usage.total_tokens == 9
    assert len(server.calls("POST", "/chat-messages")) == 1
    (messages,) = server.calls("GET", "/messages")
    assert messages.params["conversation_id"] == CID
    assert messages.params["user"] == USER


async def test_async_chatflow_answer_completed_from_the_message() -> None:
    server = _chatflow_server()
    async with aclient(server) as c:
        stream = await c.stream_chat("hi", user=USER)
        result = await stream.final()
    assert result.resumed
    assert result.answer == "Hello brave new world"


def test_chatflow_without_message_falls_back_to_outputs_answer() -> None:
    server = _chatflow_server()
    server.routes[("GET", "/messages")] = json_response(500, {"code": "x", "message": "boom"})
    with client(server, max_retries=0) as c:
        result = c.stream_chat("hi", user=USER).final()
    assert result.answer == "Hello brave new world"


def test_turned_off_per_call_and_per_client() -> None:
    server = _workflow_server()
    with client(server) as c, pytest.raises(APIConnectionError) as info:
        c.stream_workflow(user=USER, inputs={}, reconnect=False).final()
    assert not isinstance(info.value, ReconnectError)
    with client(server, reconnect=False) as c, pytest.raises(APIConnectionError):
        c.stream_workflow(user=USER, inputs={}).final()
    assert server.calls("GET", "/events") == []


def test_a_chat_app_stream_has_no_run_to_resume() -> None:
    server = Server()
    first = [{"event": "message", "conversation_id": CID, "message_id": MID, "task_id": TID,
              "answer": "Hi"}]  # fmt: skip
    server.routes[("POST", "/chat-messages")] = respond([sse(first)], drop=True)
    with client(server) as c, pytest.raises(APIConnectionError) as info:
        c.stream_chat("hi", user=USER).final()
    assert not isinstance(info.value, ReconnectError)
    assert info.value.partial_answer == "Hi"
    assert server.calls("GET", "/events") == []


def test_budget_spent_raises_reconnect_error() -> None:
    down = json_response(503, {"code": "unavailable", "message": "down"})
    server = _workflow_server([down])
    slept: list[float] = []
    with client(server, reconnect=ReconnectPolicy(attempts=3, within=60)) as c:
        c._sleep = slept.append
        with pytest.raises(ReconnectError) as info:
            c.stream_workflow(user=USER, inputs={}).final()
    err = info.value
    assert isinstance(err, APIConnectionError)
    assert err.attempts == 3
    assert err.workflow_run_id == RUN
    assert len(server.calls("GET", "/events")) == 3  # one request per attempt, no inner retries
    assert len(slept) == 2
    assert err.partial_answer == "Hello "
    assert "stream_workflow_events" in str(err)
    assert len(server.calls("POST", "/workflows/run")) == 1


def test_time_budget_bounds_the_attempts() -> None:
    down = json_response(503, {"code": "unavailable", "message": "down"})
    server = _workflow_server([down])
    with client(server, reconnect=ReconnectPolicy(attempts=50, within=0.2)) as c:
        c._sleep = lambda _s: None
        with pytest.raises(ReconnectError) as info:
            c.stream_workflow(user=USER, inputs={}).final()
    assert info.value.attempts == 1  # the first backoff (>= 0.25 s) would pass the 0.2 s budget


def test_not_found_is_not_retried() -> None:
    gone = json_response(404, {"code": "not_found", "message": "Workflow run not found"})
    server = _workflow_server([gone])
    with client(server) as c, pytest.raises(ReconnectError) as info:
        c.stream_workflow(user=USER, inputs={}).final()
    assert info.value.attempts == 1
    assert isinstance(info.value.__cause__, NotFoundError)


def test_reconnections_that_deliver_nothing_are_bounded() -> None:
    server = _workflow_server(lambda _r: respond([b""]))  # type: ignore[arg-type]  # 200, EOF
    slept: list[float] = []
    with client(server, reconnect=ReconnectPolicy(attempts=3)) as c:
        c._sleep = slept.append
        with pytest.raises(ReconnectError) as info:
            c.stream_workflow(user=USER, inputs={}).final()
    assert "budget is spent" in str(info.value)
    assert len(server.calls("GET", "/events")) == 3
    assert len(slept) == 2


def test_each_drop_that_made_progress_gets_a_fresh_budget() -> None:
    rest_a, rest_b = REST[:4], REST[4:]
    server = _workflow_server([respond([sse(rest_a)], drop=True), respond([sse(rest_b)])])
    with client(server, reconnect=ReconnectPolicy(attempts=1)) as c:
        result = c.stream_workflow(user=USER, inputs={}).final()
    assert result.resumed
    assert len(server.calls("GET", "/events")) == 2
    assert [n.status for n in result.nodes] == ["succeeded"] * 3


def test_a_run_that_paused_or_failed_is_not_read_back() -> None:
    failed = [wf("workflow_finished", id=RUN, status="failed", error="boom", outputs=None)]
    server = _workflow_server([respond([sse(failed)])])
    with client(server) as c, pytest.raises(Exception, match="boom"):
        c.stream_workflow(user=USER, inputs={}).final()
    assert server.calls("GET", f"/workflows/run/{RUN}") == []


def test_policy_and_flag_are_checked() -> None:
    with pytest.raises(DifyConfigError):
        ReconnectPolicy(attempts=0)
    with pytest.raises(DifyConfigError):
        ReconnectPolicy(within=float("nan"))
    server = _workflow_server()
    with client(server) as c, pytest.raises(DifyConfigError):
        c.stream_workflow(user=USER, inputs={}, reconnect="yes")  # type: ignore[arg-type]
    assert server.seen == []


def test_chatflow_answer_that_cannot_be_read_back_is_an_error() -> None:
    server = _chatflow_server()
    server.routes[("GET", "/messages")] = json_response(200, {"data": [], "has_more": False})
    done = {"id": RUN, "status": "succeeded", "outputs": {}}
    rest = [chat("message", id=MID, answer="world"), chat("message_end", id=MID, metadata={}),
            chat("workflow_finished", data=done)]  # fmt: skip
    server.routes[("GET", f"/workflow/{RUN}/events")] = respond([sse(rest)])
    with client(server) as c, pytest.raises(ReconnectError) as info:
        c.stream_chat("hi", user=USER).final()
    assert "get_messages" in str(info.value)
    assert info.value.partial_answer == "Hello world"  # what the stream saw, with its gap
