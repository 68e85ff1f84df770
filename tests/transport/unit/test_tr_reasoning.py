"""Reasoning stays out of the answer: a leading <think> block, split anywhere (pure)."""

from __future__ import annotations

import itertools

import httpx
import pytest

from dify_transport import StreamAccumulator
from dify_transport import _app_api as api
from dify_transport._aggregate import result_from_blocking
from dify_transport._reasoning import ThinkSplitter, split_think

WHOLE = "<think>Let me see: a < b.</think>\n\nThe answer is 42."


@pytest.mark.parametrize("cut", range(1, len(WHOLE)))
def test_every_two_way_split_gives_the_same_parts(cut: int) -> None:
    splitter = ThinkSplitter()
    parts = [splitter.feed(WHOLE[:cut]), splitter.feed(WHOLE[cut:]), splitter.pending()]
    answer = "".join(a for a, _ in parts)
    reasoning = "".join(r for _, r in parts)
    assert (answer, reasoning) == ("The answer is 42.", "Let me see: a < b.")


def test_character_by_character() -> None:
    splitter = ThinkSplitter()
    out = [splitter.feed(c) for c in WHOLE]
    assert "".join(a for a, _ in out) == "The answer is 42."
    assert "".join(r for _, r in out) == "Let me see: a < b."


@pytest.mark.parametrize(
    ("text", "answer", "reasoning"),
    [
        ("Plain answer.", "Plain answer.", ""),
        ("Use <think> tags like <think>x</think>.", "Use <think> tags like <think>x</think>.", ""),
        ("  <think>r</think>a", "a", "r"),
        ("<think>never closed", "", "never closed"),
        ("<", "<", ""),
        ("", "", ""),
    ],
)
def test_only_a_leading_block_is_reasoning(text: str, answer: str, reasoning: str) -> None:
    assert split_think(text) == (answer, reasoning)


def _message(answer: str) -> dict:
    return {"event": "message", "task_id": "t", "message_id": "m", "answer": answer}


def test_accumulator_events_carry_reasoning_apart() -> None:
    acc = StreamAccumulator()
    chunks = ["<thi", "nk>step one", " and two</th", "ink>", "Hello", " world"]
    events = [acc.add(_message(c)) for c in chunks]
    assert "".join(e.text or "" for e in events) == "Hello world"
    assert "".join(e.reasoning or "" for e in events) == "step one and two"
    result = acc.result()
    assert (result.answer, result.reasoning) == ("Hello world", "step one and two")


@pytest.mark.parametrize(
    ("chunks", "end", "answer", "reasoning"),
    [
        (["\r"], "message_end", "\r", ""),
        ([" ", "\n"], "workflow_finished", " \n", ""),
        (["<think>unfinished"], "message_end", "", "unfinished"),
    ],
)
def test_what_the_splitter_holds_is_sent_with_the_end(
    chunks: list[str], end: str, answer: str, reasoning: str
) -> None:
    # found by the any-chunking property test: an answer of blanks only had no text event
    acc = StreamAccumulator()
    events = [acc.add(_message(c)) for c in chunks]
    events.append(acc.add({"event": end, "task_id": "t", "data": {}}))
    assert "".join(e.text or "" for e in events) == answer
    assert "".join(e.reasoning or "" for e in events) == reasoning
    result = acc.result()
    assert (result.answer, result.reasoning) == (answer, reasoning)


def test_reasoning_chunk_events() -> None:
    acc = StreamAccumulator()
    acc.add(
        {
            "event": "reasoning_chunk",
            "task_id": "t",
            "data": {"reasoning": "hmm ", "is_final": False},
        }
    )
    acc.add(
        {"event": "reasoning_chunk", "task_id": "t", "data": {"reasoning": "ok", "is_final": True}}
    )
    acc.add(_message("Answer"))
    result = acc.result()
    assert (result.answer, result.reasoning) == ("Answer", "hmm ok")


def test_blocking_answer_is_split() -> None:
    result = result_from_blocking({"answer": WHOLE, "message_id": "m"})
    assert (result.answer, result.reasoning) == ("The answer is 42.", "Let me see: a < b.")


def test_pause_is_a_result_not_an_error() -> None:
    acc = StreamAccumulator(user="alice")
    form = {"node_id": "n1", "form_token": "tok", "actions": [{"id": "approve"}]}
    acc.add(
        {"event": "workflow_started", "task_id": "t", "workflow_run_id": "r", "data": {"id": "r"}}
    )
    acc.add({"event": "human_input_required", "task_id": "t", "workflow_run_id": "r", "data": form})
    acc.add({"event": "workflow_paused", "task_id": "t", "workflow_run_id": "r",
             "data": {"status": "paused", "outputs": {"draft": "x"}, "reasons": []}})  # fmt: skip
    assert acc.terminal
    result = acc.result()
    assert (result.status, result.finish_reason) == ("paused", "paused")
    paused = result.paused
    assert paused is not None
    assert (paused.workflow_run_id, paused.task_id, paused.user) == ("r", "t", "alice")
    assert paused.forms["n1"].form_token == "tok"
    assert paused.outputs == {"draft": "x"}
    assert type(paused).model_validate(paused.model_dump(mode="json")) == paused


def test_blocking_pause_is_paused_not_succeeded() -> None:
    body = {"task_id": "t", "workflow_run_id": "r",
            "data": {"id": "r", "status": "paused", "outputs": {},
                     "reasons": [{"TYPE": "human_input_required", "node_id": "n1",
                                  "form_token": None}]}}  # fmt: skip
    result = result_from_blocking(body)
    assert result.finish_reason == "paused"
    assert result.paused is not None
    assert result.paused.forms["n1"].form_token is None


def test_blocking_pause_records_the_user_that_answers_it() -> None:
    body = {"task_id": "t", "workflow_run_id": "r",
            "data": {"id": "r", "status": "paused", "outputs": {},
                     "reasons": [{"TYPE": "human_input_required", "node_id": "n1"}]}}  # fmt: skip
    call = api.run_workflow(user="alice", streaming=False, inputs={}, files=None, workflow_id=None)
    request = httpx.Request("POST", "https://dify.test/v1/workflows/run")
    result = call.parse(httpx.Response(200, json=body, request=request))
    assert result.paused is not None
    assert result.paused.user == "alice"  # answer_form needs no user= again


def test_splits_are_exhaustive_for_a_short_block() -> None:
    text = "<think>r</think>a"
    for cuts in itertools.combinations(range(1, len(text)), 2):
        splitter = ThinkSplitter()
        pieces = [text[: cuts[0]], text[cuts[0] : cuts[1]], text[cuts[1] :]]
        out = [splitter.feed(p) for p in pieces] + [splitter.pending()]
        assert ("".join(a for a, _ in out), "".join(r for _, r in out)) == ("a", "r")


def test_node_progress_is_folded_by_execution_id() -> None:
    acc = StreamAccumulator()
    started = {"id": "e1", "node_id": "llm", "node_type": "llm", "title": "LLM", "index": 2}
    acc.add({"event": "node_started", "task_id": "t", "workflow_run_id": "r", "data": started})
    acc.add({"event": "node_retry", "task_id": "t", "workflow_run_id": "r", "data": started})
    acc.add({"event": "node_started", "task_id": "t", "workflow_run_id": "r", "data": started})
    done = {**started, "status": "succeeded", "elapsed_time": 0.5}
    acc.add({"event": "node_finished", "task_id": "t", "workflow_run_id": "r", "data": done})
    (node,) = acc.result().nodes
    assert (node.title, node.status, node.retries, node.elapsed_time) == (
        "LLM",
        "succeeded",
        1,
        0.5,
    )


def test_text_chunk_never_doubles_a_chat_answer() -> None:
    acc = StreamAccumulator()
    env = {"task_id": "t", "conversation_id": "c", "message_id": "m"}
    acc.add({**env, "event": "message", "answer": "Hi"})
    event = acc.add({**env, "event": "text_chunk", "data": {"text": "Hi"}})
    assert event.text is None
    assert acc.result().answer == "Hi"
    workflow = StreamAccumulator()
    workflow.add(
        {"event": "text_chunk", "task_id": "t", "workflow_run_id": "r", "data": {"text": "Hi"}}
    )
    assert workflow.result().answer == "Hi"
