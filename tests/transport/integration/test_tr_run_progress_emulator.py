"""Run progress (iterations, loops, retries, agent logs) folded from the emulator's stream."""

from __future__ import annotations

import uuid

from dify_emulator import FAULT_HEADER, Emulator
from dify_transport import AsyncDifyClient, DifyClient, Result
from dify_transport.types import AgentLogEvent, IterationEvent, NodeRetryEvent

PROGRESS = {FAULT_HEADER: "progress=1"}


def _check(result: Result) -> None:
    by_title: dict[str, list] = {}
    for node in result.nodes:
        by_title.setdefault(node.title or "", []).append(node)
    assert list(by_title) == ["Start", "Each item", "Lookup", "Refine", "Agent", "LLM", "End"]
    (iteration,) = by_title["Each item"]
    assert iteration.iterations == 2
    assert iteration.status == "succeeded"
    lookups = by_title["Lookup"]
    assert [n.retries for n in lookups] == [1, 0]  # one execution per round, kept apart
    assert {n.iteration_id for n in lookups} == {iteration.id}
    assert by_title["Refine"][0].loops == 2
    steps = by_title["Agent"][0].agent_log
    assert [(s.label, s.status) for s in steps] == [("ROUND 1", "success"),
                                                   ("CALL current_time", "success")]  # fmt: skip
    assert steps[1].parent_id == steps[0].id
    assert result.start_reason == "initial"
    assert result.status == "succeeded"


def test_progress_folded(emulator: Emulator) -> None:
    with DifyClient(api_key=emulator.keys.workflow, base_url=emulator.base_url) as client:
        stream = client.stream_workflow(user="rp", inputs={"text": "hi"}, extra_headers=PROGRESS)
        typed = [e.typed() for e in stream]
        result = stream.final()
    _check(result)
    assert any(isinstance(t, IterationEvent) and t.data.index == 1 for t in typed)
    assert any(isinstance(t, NodeRetryEvent) and t.data.retry_index == 0 for t in typed)
    assert sum(isinstance(t, AgentLogEvent) for t in typed) == 4


async def test_async_progress_folded(emulator: Emulator) -> None:
    async with AsyncDifyClient(api_key=emulator.keys.workflow, base_url=emulator.base_url) as c:
        stream = await c.stream_workflow(user="rp", inputs={"text": "hi"}, extra_headers=PROGRESS)
        _check(await stream.final())


def test_progress_survives_a_reconnect_without_repeats(emulator: Emulator) -> None:
    user = f"rp-{uuid.uuid4().hex[:8]}"
    fault = {FAULT_HEADER: "progress=1; detach_after=8; replay=1; delay=0.02"}
    with DifyClient(api_key=emulator.keys.workflow, base_url=emulator.base_url) as client:
        stream = client.stream_workflow(user=user, inputs={"text": "long 20"}, extra_headers=fault)
        events = list(stream)
        result = stream.final()
        run = client.get_workflow_run(result.workflow_run_id or "")
    assert result.resumed
    assert result.outputs == run.outputs
    keyed = [(e.event, e.data["data"]["id"]) for e in events if e.event.startswith("node_")]
    assert len(keyed) == len(set(keyed))
    assert len({n.id for n in result.nodes}) == len(result.nodes)
    posts = [r for r in emulator.requests if r.user == user and r.method == "POST"]
    assert len(posts) == 1
