"""Acceptance 2 and 4: aggregates equal the server's answer; stream failures raise with partials."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest
from _tr_support import (
    CID,
    MID,
    MODES,
    PING,
    RUN,
    TID,
    USER,
    Script,
    Server,
    aclient,
    chat_script,
    client,
    frame,
    json_response,
    split,
    sse,
    sse_response,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dify_transport import (
    APIConnectionError,
    CompletionRequestError,
    IncompleteStreamError,
    InternalServerError,
    InvalidParamError,
    Result,
    StreamEvent,
    WorkflowFailedError,
)

PATHS = {
    "chat": "/chat-messages",
    "agent-chat": "/chat-messages",
    "advanced-chat": "/chat-messages",
    "completion": "/completion-messages",
    "workflow": "/workflows/run",
}


def open_stream(c: Any, mode: str) -> Any:
    if mode == "completion":
        return c.stream_completion(user=USER, inputs={}, query="q")
    if mode == "workflow":
        return c.stream_workflow(user=USER, inputs={"text": "q"})
    return c.stream_chat("q", user=USER)


def blocking(c: Any, mode: str) -> Any:
    if mode == "completion":
        return c.completion(user=USER, inputs={}, query="q")
    if mode == "workflow":
        return c.run_workflow(user=USER, inputs={"text": "q"})
    return c.chat("q", user=USER)


def check(result: Result, script: Script) -> None:
    assert result.answer == script.answer
    assert result.conversation_id == script.conversation_id
    assert result.message_id == script.message_id
    assert result.task_id == script.task_id
    if script.usage is None:
        assert result.usage is None
    else:
        assert result.usage is not None
        assert result.usage.total_tokens == script.usage["total_tokens"]
        if "total_price" in script.usage:
            assert result.usage.total_price == Decimal(script.usage["total_price"])
            assert result.usage.currency == "USD"
    assert [r.model_dump(exclude_none=True) for r in result.retriever_resources] == [
        {k: v for k, v in r.items() if v is not None} for r in script.resources
    ]
    if script.mode == "workflow":
        assert result.workflow_run_id == RUN
        assert result.status == "succeeded"


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(MODES),
    parts=st.lists(TEXT, min_size=1, max_size=8),
    crlf=st.booleans(),
    compact=st.booleans(),
    data=st.data(),
)
def test_stream_aggregate_equals_server_answer_any_chunking(mode, parts, crlf, compact, data):
    script = chat_script(parts, mode)
    pings = data.draw(st.lists(st.integers(0, len(script.events)), max_size=6))
    raw = sse(script.events, pings=pings, crlf=crlf, compact=compact)
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=30))
    server = Server()
    server.routes[("POST", PATHS[mode])] = lambda _r: sse_response(split(raw, cuts))
    with client(server) as c:
        stream = open_stream(c, mode)
        texts = [ev.text for ev in stream if ev.text is not None]
        result = stream.final()
    assert "".join(texts) == script.answer
    check(result, script)
    assert stream.done
    assert server.calls("POST", "/stop") == []


@pytest.mark.parametrize("mode", MODES)
def test_blocking_result_equals_server_answer(mode):
    script = chat_script(["Hel", "lo ", "wörld 🌍"], mode)
    server = Server()
    server.routes[("POST", PATHS[mode])] = json_response(200, script.blocking)
    with client(server) as c:
        result = blocking(c, mode)
    check(result, script)
    body = server.seen[0].body
    assert body["response_mode"] == "blocking"
    assert body["user"] == USER


@pytest.mark.parametrize("mode", MODES)
async def test_async_stream_aggregate(mode):
    script = chat_script(["a", "ß", "🌍", ""], mode)
    raw = sse(script.events, pings=[0, 2, len(script.events)])
    server = Server()
    server.routes[("POST", PATHS[mode])] = lambda _r: sse_response(
        [raw[i : i + 3] for i in range(0, len(raw), 3)]
    )
    async with aclient(server) as c:
        stream = await open_stream(c, mode)
        texts = [ev.text async for ev in stream if ev.text]
        result = await stream.final()
    assert "".join(texts) == script.answer
    check(result, script)


@pytest.mark.parametrize("mode", MODES)
async def test_async_blocking(mode):
    script = chat_script(["x", "y"], mode)
    server = Server()
    server.routes[("POST", PATHS[mode])] = json_response(200, script.blocking)
    async with aclient(server) as c:
        check(await blocking(c, mode), script)


# -- special events ----------------------------------------------------------------------


def run_events(events: list[dict[str, Any]], *, drop: bool = False) -> Any:
    server = Server()
    server.routes[("POST", "/chat-messages")] = lambda _r: sse_response([sse(events)], drop=drop)
    c = client(server)
    return c.stream_chat("q", user=USER), server


def env(**kw: Any) -> dict[str, Any]:
    base = {"conversation_id": CID, "message_id": MID, "created_at": 1, "task_id": TID}
    base.update(kw)
    return base


END = env(event="message_end", id=MID, metadata={"usage": {"total_tokens": 3}}, files=None)


def test_message_file_text_delta_trap_t5_and_real_file():
    events = [
        env(event="message_file", id=MID, answer="Hello ", from_variable_selector=None),
        env(event="message_file", id="f1", type="image", belongs_to="assistant", url="/files/x"),
        env(event="message", id=MID, answer="world"),
        END,
    ]
    stream, _ = run_events(events)
    seen = list(stream)
    assert [e.text for e in seen] == ["Hello ", None, "world", None]
    result = stream.final()
    assert result.answer == "Hello world"
    assert [f["id"] for f in result.files] == ["f1"]


def test_message_replace_replaces_answer():
    events = [
        env(event="message", id=MID, answer="bad words"),
        env(event="message_replace", answer="[moderated]", reason=""),
        END,
    ]
    stream, _ = run_events(events)
    result = stream.final()
    assert result.answer == "[moderated]"
    assert result.message_replace == "[moderated]"


def test_agent_thoughts_upserted_by_id_in_position_order():
    events = [
        env(event="agent_thought", id="t2", position=2, thought=""),
        env(event="agent_thought", id="t1", position=1, thought=""),
        env(event="agent_thought", id="t1", position=1, thought="", tool="time"),
        env(event="agent_message", id=MID, answer="It is noon"),
        env(event="agent_thought", id="t1", position=1, thought="x", observation="noon"),
        env(event="agent_thought", id="t2", position=2, thought="It is noon"),
        END,
    ]
    stream, _ = run_events(events)
    result = stream.final()
    assert [(t.id, t.position) for t in result.agent_thoughts] == [("t1", 1), ("t2", 2)]
    assert result.agent_thoughts[0].observation == "noon"
    assert result.agent_thoughts[0].tool is None  # replaced by the later version
    assert result.answer == "It is noon"


def test_new_agent_closing_message_is_not_appended():
    events = [
        env(event="agent_message", id=MID, answer="It is "),
        env(event="agent_message", id=MID, answer="noon"),
        env(event="message", id=MID, answer="It is noon"),
        END,
    ]
    stream, _ = run_events(events)
    texts = [e.text for e in stream]
    assert texts == ["It is ", "noon", None, None]
    assert stream.final().answer == "It is noon"


@pytest.mark.parametrize("order", ["workflow_first", "message_end_first"])
def test_chatflow_reads_past_first_terminal_and_tts(order):
    finished = env(
        event="workflow_finished",
        workflow_run_id=RUN,
        data={"id": RUN, "status": "succeeded", "outputs": {"answer": "hi"}},
    )
    end = env(
        event="message_end",
        id=MID,
        metadata={"usage": {"total_tokens": 5}, "retriever_resources": []},
        files=[{"id": "file-1", "type": "image"}],
    )
    terminals = [finished, end] if order == "workflow_first" else [end, finished]
    events = [
        env(event="workflow_started", workflow_run_id=RUN, data={"id": RUN}),
        env(event="message", id=MID, answer="hi"),
        *terminals,
        env(event="tts_message", audio="AAAA"),
        env(event="tts_message_end", audio=""),
    ]
    stream, _ = run_events(events)
    names = [e.event for e in stream]
    assert names[-2:] == ["tts_message", "tts_message_end"]
    result = stream.final()
    assert result.usage is not None
    assert result.usage.total_tokens == 5
    assert result.status == "succeeded"
    assert result.workflow_run_id == RUN
    assert result.files == [{"id": "file-1", "type": "image"}]


@pytest.mark.parametrize("order", ["workflow_first", "message_end_first"])
def test_chatflow_files_in_both_terminals_are_kept_once(order):
    by_id = {"id": "file-1", "type": "image", "url": "https://x/1.png"}
    by_url = {"type": "document", "url": "https://x/2.pdf"}
    finished = env(
        event="workflow_finished",
        workflow_run_id=RUN,
        data={"id": RUN, "status": "succeeded", "files": [by_id, dict(by_url)]},
    )
    end = env(event="message_end", id=MID, metadata={}, files=[dict(by_id), by_url])
    terminals = [finished, end] if order == "workflow_first" else [end, finished]
    events = [
        env(event="workflow_started", workflow_run_id=RUN, data={"id": RUN}),
        env(event="message_file", id="file-1", type="image", url="https://x/1.png"),
        env(event="message", id=MID, answer="hi"),
        *terminals,
    ]
    stream, _ = run_events(events)
    result = stream.final()
    assert [(f.get("id"), f["url"]) for f in result.files] == [
        ("file-1", "https://x/1.png"),
        (None, "https://x/2.pdf"),
    ]


def test_sparse_015_metadata_and_exponent_price():
    end = env(
        event="message_end",
        id=MID,
        metadata={"usage": {"total_tokens": 1, "total_price": "0E-7", "currency": "USD"}},
    )
    stream, _ = run_events([env(event="message", id=MID, answer="a"), end])
    result = stream.final()
    assert result.usage is not None
    assert result.usage.total_price == Decimal(0)
    assert result.retriever_resources == []
    assert result.metadata == end["metadata"]


def test_stream_event_properties():
    ev = StreamEvent.of(env(event="message", id=MID, answer="x"))
    assert (ev.task_id, ev.conversation_id, ev.message_id, ev.is_terminal) == (TID, CID, MID, False)
    assert StreamEvent.of(END).is_terminal
    assert "message" in repr(ev)


# -- acceptance 4: failures raise with partial text ---------------------------------------


def test_in_stream_error_after_partial_text_raises_typed_error():
    events = [
        env(event="message", id=MID, answer="Partial "),
        env(event="message", id=MID, answer="text"),
        {
            "event": "error",
            "conversation_id": CID,
            "message_id": MID,
            "created_at": 1,
            "code": "completion_request_error",
            "status": 400,
            "message": "provider failed",
        },
    ]
    stream, server = run_events(events)
    got: list[str] = []

    def consume() -> None:
        got.extend(ev.text or "" for ev in stream)

    with pytest.raises(CompletionRequestError) as info:
        consume()
    err = info.value
    assert err.in_stream is True
    assert err.partial_answer == "Partial text" == "".join(got)
    assert (err.conversation_id, err.message_id, err.task_id) == (CID, MID, TID)
    assert err.code == "completion_request_error"
    assert server.calls("POST", "/stop") == []  # the server already ended the task


def test_in_stream_internal_error_maps_to_internal_server_error_via_final():
    error = {"event": "error", "code": "internal_server_error", "status": 500, "message": "boom"}
    stream, _ = run_events([env(event="message", id=MID, answer="a"), error])
    with pytest.raises(InternalServerError) as info:
        stream.final()
    assert info.value.partial_answer == "a"
    with pytest.raises(InternalServerError):  # final() again re-raises, never hangs
        stream.final()


def test_chatflow_failure_raises_the_error_event_not_workflow_failed():
    events = [
        env(event="message", id=MID, answer="a"),
        env(
            event="workflow_finished", workflow_run_id=RUN, data={"status": "failed", "error": "x"}
        ),
        {"event": "error", "code": "invalid_param", "status": 400, "message": "Run failed: x"},
    ]
    stream, _ = run_events(events)
    with pytest.raises(InvalidParamError) as info:
        stream.final()
    assert info.value.partial_answer == "a"


def test_workflow_failed_stream_raises_at_eof():
    events = [
        {"event": "workflow_started", "workflow_run_id": RUN, "task_id": TID, "data": {"id": RUN}},
        {"event": "text_chunk", "workflow_run_id": RUN, "task_id": TID, "data": {"text": "pa"}},
        {
            "event": "workflow_finished",
            "workflow_run_id": RUN,
            "task_id": TID,
            "data": {"id": RUN, "status": "failed", "error": "LLM node failed", "outputs": None},
        },
    ]
    server = Server()
    server.routes[("POST", "/workflows/run")] = lambda _r: sse_response([sse(events)])
    with pytest.raises(WorkflowFailedError) as info:
        client(server).stream_workflow(user=USER, inputs={}).final()
    assert info.value.workflow_run_id == RUN
    assert info.value.partial_answer == "pa"
    assert "LLM node failed" in str(info.value)


def test_dropped_connection_raises_with_partial_text():
    stream, _ = run_events([env(event="message", id=MID, answer="half an ans")], drop=True)
    with pytest.raises(APIConnectionError) as info:
        stream.final()
    assert info.value.partial_answer == "half an ans"
    assert info.value.task_id == TID


def test_eof_without_terminal_event_raises_incomplete():
    stream, server = run_events([env(event="message", id=MID, answer="cut")])
    with pytest.raises(IncompleteStreamError) as info:
        for _ in stream:
            pass
    assert info.value.partial_answer == "cut"
    assert info.value.conversation_id == CID
    assert not stream.done
    assert server.calls("POST", "/stop") == []  # the server ended the response itself


def test_empty_body_is_incomplete():
    server = Server()
    server.routes[("POST", "/chat-messages")] = lambda _r: sse_response([PING])
    with pytest.raises(IncompleteStreamError) as info:
        client(server).stream_chat("q", user=USER).final()
    assert info.value.partial_answer == ""


async def test_async_error_and_drop_carry_partial():
    events = [
        env(event="message", id=MID, answer="p1"),
        {"event": "error", "code": "completion_request_error", "status": 400, "message": "x"},
    ]
    server = Server()
    server.routes[("POST", "/chat-messages")] = lambda _r: sse_response([sse(events)])
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER)
        with pytest.raises(CompletionRequestError) as info:
            async for _ in stream:
                pass
        assert info.value.partial_answer == "p1"
    server.routes[("POST", "/chat-messages")] = lambda _r: sse_response(
        [frame(env(event="message", id=MID, answer="p2"))], drop=True
    )
    async with aclient(server) as c:
        stream = await c.stream_chat("q", user=USER)
        with pytest.raises(APIConnectionError) as info2:
            await asyncio.wait_for(stream.final(), 5)
        assert info2.value.partial_answer == "p2"


def test_read_timeout_mid_stream_is_api_timeout():
    class Slow(httpx.SyncByteStream):
        def __iter__(self):
            yield frame(env(event="message", id=MID, answer="t"))
            raise httpx.ReadTimeout("timed out")

    server = Server()
    server.routes[("POST", "/chat-messages")] = lambda _r: httpx.Response(200, stream=Slow())
    from dify_transport import APITimeoutError

    with pytest.raises(APITimeoutError) as info:
        client(server).stream_chat("q", user=USER).final()
    assert info.value.partial_answer == "t"
