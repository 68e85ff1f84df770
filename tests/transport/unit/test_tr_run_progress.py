"""1.x run events typed and folded: iterations, loops, retries, agent logs, TTS, text_chunk."""

from __future__ import annotations

from typing import Any

import pytest
from _tr_support import CID, MID, RUN, TID, USER, Server, aclient, client, sse
from _tr_support import sse_response as respond

from dify_transport import APIResponseValidationError, StreamAccumulator, StreamEvent
from dify_transport.types import (
    AgentLogEvent,
    IterationEvent,
    LoopEvent,
    NodeRetryEvent,
    TextChunkEvent,
    TTSMessageEvent,
    WorkflowStartedEvent,
)


def wf(event: str, **data: Any) -> dict[str, Any]:
    return {"event": event, "task_id": TID, "workflow_run_id": RUN, "data": data}


def chat(event: str, **fields: Any) -> dict[str, Any]:
    env = {"event": event, "conversation_id": CID, "message_id": MID, "created_at": 1,
           "task_id": TID}  # fmt: skip
    return {**env, **fields}


def log(step: str, status: str, parent: str | None = None) -> dict[str, Any]:
    return {"event": "agent_log", "task_id": TID, "data": {
        "node_execution_id": "agent-exec", "id": step, "label": f"ROUND {step}",
        "parent_id": parent, "error": None, "status": status, "data": {"output": step},
        "metadata": {}, "node_id": "agent"}}  # fmt: skip


PROGRESS = [
    wf("workflow_started", id=RUN, workflow_id="w", inputs={}, reason="initial"),
    wf("iteration_started", id="iter", node_id="iter", node_type="iteration", title="Each"),
    wf("iteration_next", id="iter", node_id="iter", index=0),
    wf("node_started", id="inner-1", node_id="tool", iteration_id="iter"),
    wf("node_retry", id="inner-1", node_id="tool", status="retry", error="flaky", retry_index=0),
    wf("node_retry", id="inner-1", node_id="tool", status="retry", error="flaky", retry_index=1),
    wf("node_finished", id="inner-1", node_id="tool", status="succeeded", iteration_id="iter"),
    wf("iteration_next", id="iter", node_id="iter", index=1),
    wf("iteration_next", id="iter", node_id="iter", index=2),
    wf(
        "iteration_completed",
        id="iter",
        node_id="iter",
        status="succeeded",
        steps=3,
        outputs={"output": [1, 2, 3]},
        elapsed_time=0.5,
    ),
    wf("loop_started", id="loop", node_id="loop", node_type="loop", title="Until done"),
    wf("loop_next", id="loop", node_id="loop", index=0, pre_loop_output=None),
    wf("loop_next", id="loop", node_id="loop", index=1, pre_loop_output={"n": 1}),
    wf("loop_completed", id="loop", node_id="loop", status="succeeded", steps=2),
    wf("node_started", id="agent-exec", node_id="agent", node_type="agent", title="Agent"),
    log("1", "start"),
    log("2", "start", parent="1"),
    log("2", "success", parent="1"),
    log("1", "success"),
    wf("node_finished", id="agent-exec", node_id="agent", status="succeeded"),
    wf("text_chunk", text="done", from_variable_selector=["agent", "text"]),
    wf("workflow_finished", id=RUN, status="succeeded", outputs={"answer": "done"}),
    {"event": "tts_message", "task_id": TID, "workflow_run_id": RUN, "audio": "SUQz"},
    {"event": "tts_message_end", "task_id": TID, "workflow_run_id": RUN, "audio": ""},
]


def _check_progress(result: Any) -> None:
    nodes = {n.id: n for n in result.nodes}
    assert list(nodes) == ["iter", "inner-1", "loop", "agent-exec"]
    assert nodes["iter"].iterations == 3
    assert nodes["iter"].status == "succeeded"
    assert nodes["iter"].node_type == "iteration"
    assert nodes["inner-1"].retries == 2
    assert nodes["inner-1"].iteration_id == "iter"
    assert nodes["loop"].loops == 2
    assert nodes["loop"].iterations is None
    steps = nodes["agent-exec"].agent_log
    assert [(s.id, s.status, s.parent_id) for s in steps] == [("1", "success", None),
                                                             ("2", "success", "1")]  # fmt: skip
    assert steps[0].data == {"output": "1"}
    assert result.start_reason == "initial"
    assert result.answer == "done"
    assert result.status == "succeeded"


def test_progress_folded_from_a_workflow_stream() -> None:
    server = Server()
    server.routes[("POST", "/workflows/run")] = respond([sse(PROGRESS)])
    with client(server) as c:
        stream = c.stream_workflow(user=USER, inputs={})
        names = [e.event for e in stream]
        result = stream.final()
    assert names[-2:] == ["tts_message", "tts_message_end"]  # TTS may follow the closer
    assert stream.done
    _check_progress(result)


async def test_async_progress_folded_from_a_workflow_stream() -> None:
    server = Server()
    server.routes[("POST", "/workflows/run")] = respond([sse(PROGRESS)])
    async with aclient(server) as c:
        stream = await c.stream_workflow(user=USER, inputs={})
        _check_progress(await stream.final())


def test_progress_fold_is_idempotent_for_repeats() -> None:
    acc = StreamAccumulator()
    for data in PROGRESS:
        acc.add(data)
    once = acc.result().nodes
    for data in PROGRESS:
        if data["event"] not in ("text_chunk", "workflow_finished"):
            assert acc.replayed(data) or data["event"].startswith("tts"), data
    assert acc.result().nodes == once


@pytest.mark.parametrize(
    ("data", "model"),
    [
        (PROGRESS[0], WorkflowStartedEvent),
        (PROGRESS[1], IterationEvent),
        (PROGRESS[4], NodeRetryEvent),
        (PROGRESS[11], LoopEvent),
        (PROGRESS[15], AgentLogEvent),
        (PROGRESS[20], TextChunkEvent),
        (PROGRESS[-2], TTSMessageEvent),
    ],
)
def test_typed_events(data: dict[str, Any], model: type) -> None:
    typed = StreamEvent.of(data).typed()
    assert isinstance(typed, model)
    assert typed.event == data["event"]


def test_typed_fields_and_errors() -> None:
    started = StreamEvent.of(PROGRESS[0]).typed()
    assert isinstance(started, WorkflowStartedEvent)
    assert started.data.reason == "initial"
    retry = StreamEvent.of(PROGRESS[5]).typed()
    assert isinstance(retry, NodeRetryEvent)
    assert retry.data.retry_index == 1
    assert StreamEvent.of(chat("message", answer="x")).typed() is None
    with pytest.raises(APIResponseValidationError, match="agent_log"):
        StreamEvent.of({"event": "agent_log", "data": {"status": "start"}}).typed()


def _chat_answer(events: list[dict[str, Any]]) -> tuple[str, list[str | None]]:
    acc = StreamAccumulator()
    texts = [acc.add(e).text for e in events]
    return acc.result().answer, texts


def test_chat_text_chunk_and_message_for_the_same_text_are_not_doubled() -> None:
    both = [chat("text_chunk", data={"text": "Hel"}), chat("message", id=MID, answer="Hel"),
            chat("message", id=MID, answer="lo"), chat("text_chunk", data={"text": "lo"}),
            chat("message_end", id=MID, metadata={})]  # fmt: skip
    answer, texts = _chat_answer(both)
    assert answer == "Hello"
    assert "".join(t or "" for t in texts) == "Hello"
    message_first = [both[1], both[0], both[2], both[3], both[4]]
    answer, texts = _chat_answer(message_first)
    assert answer == "Hello"
    assert "".join(t or "" for t in texts) == "Hello"


def test_chat_answer_sent_only_as_text_chunks_is_kept() -> None:
    only = [chat("text_chunk", data={"text": "Hi "}), chat("text_chunk", data={"text": "there"}),
            chat("message_end", id=MID, metadata={})]  # fmt: skip
    assert _chat_answer(only)[0] == "Hi there"


def test_workflow_started_reason_resumption() -> None:
    acc = StreamAccumulator()
    acc.add(wf("human_input_form_filled", node_id="review"))
    acc.add(wf("workflow_started", id=RUN, reason="resumption"))
    assert acc.result().start_reason == "resumption"
