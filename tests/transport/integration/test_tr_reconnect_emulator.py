"""A dropped workflow/chatflow stream resumes from the run's events (emulator, sync + async).

The emulator's ``detach_after=N`` fault drops the stream after N events while the run goes
on; ``replay=1`` makes the events endpoint repeat the node events already sent.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from dify_emulator import FAULT_HEADER, Emulator
from dify_transport import (
    APIConnectionError,
    AsyncDifyClient,
    DifyClient,
    ReconnectError,
    Result,
    StreamEvent,
)

MID_RUN = {FAULT_HEADER: "detach_after=6; delay=0.02; replay=1"}
"""Dropped after 6 events while text is still streaming (the run outlives the stream)."""


def _user() -> str:
    return f"rc-{uuid.uuid4().hex[:8]}"


def _requests(emu: Emulator, user: str) -> Counter[tuple[str, str]]:
    """(method, path kind) of every request this user made."""
    kinds: Counter[tuple[str, str]] = Counter()
    for r in emu.requests:
        if r.user == user or r.query.get("user") == user:
            kind = "events" if r.path.endswith("/events") else r.path.removeprefix("/v1")
            kinds[r.method, kind] += 1
    return kinds


def _no_repeats(events: list[StreamEvent]) -> None:
    node_events = [(e.event, e.data["data"]["id"]) for e in events if e.event.startswith("node_")]
    assert node_events
    assert len(node_events) == len(set(node_events)), node_events
    assert [e.event for e in events].count("workflow_started") == 1


def _check_workflow(
    emu: Emulator, user: str, result: Result, run: Any, nodes: list[str | None] | None = None
) -> None:
    assert result.resumed
    assert result.status == "succeeded"
    assert result.outputs == run.outputs
    assert result.answer == run.outputs["result"]
    assert "w30" in result.answer
    assert [n.status for n in result.nodes] == (nodes or ["succeeded"] * 3)
    kinds = _requests(emu, user)
    assert kinds["POST", "/workflows/run"] == 1  # never sent again
    assert kinds["GET", "events"] == 1


def test_workflow_stream_dropped_mid_run_resumes(emulator: Emulator) -> None:
    user = _user()
    with DifyClient(api_key=emulator.keys.workflow, base_url=emulator.base_url) as client:
        stream = client.stream_workflow(
            user=user, inputs={"text": "long 30"}, extra_headers=MID_RUN
        )
        events = list(stream)
        result = stream.final()
        run = client.get_workflow_run(result.workflow_run_id or "")
    _no_repeats(events)
    _check_workflow(emulator, user, result, run)


async def test_async_workflow_stream_dropped_mid_run_resumes(emulator: Emulator) -> None:
    user = _user()
    async with AsyncDifyClient(api_key=emulator.keys.workflow, base_url=emulator.base_url) as c:
        stream = await c.stream_workflow(
            user=user, inputs={"text": "long 30"}, extra_headers=MID_RUN
        )
        events = [e async for e in stream]
        result = await stream.final()
        run = await c.get_workflow_run(result.workflow_run_id or "")
    _no_repeats(events)
    _check_workflow(emulator, user, result, run)


def test_workflow_that_finished_while_disconnected(emulator: Emulator) -> None:
    user = _user()
    with DifyClient(api_key=emulator.keys.workflow, base_url=emulator.base_url) as client:
        stream = client.stream_workflow(
            user=user, inputs={"text": "long 30"}, extra_headers={FAULT_HEADER: "detach_after=6"}
        )
        first = [next(stream) for _ in range(6)]
        run_id = stream.workflow_run_id or ""
        for _ in range(200):  # let the run finish server-side before reading on
            if client.get_workflow_run(run_id).status == "succeeded":
                break
        result = stream.final()
        run = client.get_workflow_run(run_id)
    assert len(first) == 6
    # Only workflow_finished comes back: the LLM node's end (and the End node) were missed.
    _check_workflow(emulator, user, result, run, nodes=["succeeded", None])


def _check_chatflow(emu: Emulator, user: str, result: Result, stored: str) -> None:
    assert result.resumed
    assert result.answer == stored
    assert "w30" in result.answer
    assert result.status == "succeeded"
    kinds = _requests(emu, user)
    assert kinds["POST", "/chat-messages"] == 1
    assert kinds["GET", "events"] == 1


def test_chatflow_stream_dropped_mid_run_resumes(emulator: Emulator) -> None:
    user = _user()
    with DifyClient(api_key=emulator.keys.chatflow, base_url=emulator.base_url) as client:
        stream = client.stream_chat(
            "Tell me about the sky, long 30", user=user, extra_headers=MID_RUN
        )
        events = list(stream)
        result = stream.final()
        page = client.get_messages(result.conversation_id or "", user=user)
    _no_repeats(events)
    (stored,) = [m.answer for m in page.data if m.id == result.message_id]
    _check_chatflow(emulator, user, result, stored)
    assert result.answer.startswith(result.outputs["answer"][:10] if result.outputs else "")


async def test_async_chatflow_stream_dropped_mid_run_resumes(emulator: Emulator) -> None:
    user = _user()
    async with AsyncDifyClient(api_key=emulator.keys.chatflow, base_url=emulator.base_url) as c:
        stream = await c.stream_chat(
            "Tell me about the sky, long 30", user=user, extra_headers=MID_RUN
        )
        events = [e async for e in stream]
        result = await stream.final()
        page = await c.get_messages(result.conversation_id or "", user=user)
    _no_repeats(events)
    (stored,) = [m.answer for m in page.data if m.id == result.message_id]
    _check_chatflow(emulator, user, result, stored)


def test_reconnect_off_raises_the_drop(emulator: Emulator) -> None:
    user = _user()
    with (
        DifyClient(
            api_key=emulator.keys.workflow, base_url=emulator.base_url, reconnect=False
        ) as client,
        pytest.raises(APIConnectionError) as info,
    ):
        client.stream_workflow(user=user, inputs={"text": "long 30"}, extra_headers=MID_RUN).final()
    assert not isinstance(info.value, ReconnectError)
    assert _requests(emulator, user)["GET", "events"] == 0


def test_older_dify_without_events_endpoint_names_the_failure(emulator_015: Emulator) -> None:
    # 0.15 has no detach fault: drop the stream itself and let the reconnect meet a 404.
    user = _user()
    with DifyClient(api_key=emulator_015.keys.workflow, base_url=emulator_015.base_url) as c:
        with pytest.raises(ReconnectError) as info:
            c.stream_workflow(
                user=user, inputs={"text": "long 30"}, extra_headers={FAULT_HEADER: "drop_after=3"}
            ).final()
    assert info.value.attempts == 1
    assert "1.14" in str(info.value.__cause__)
    assert _requests(emulator_015, user)["POST", "/workflows/run"] == 1
