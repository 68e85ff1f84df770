"""Typed views of the 1.x stream events that carry run progress (``StreamEvent.typed()``).

Streams hand out `StreamEvent` (a cheap dict wrapper); these models are built on demand,
for the events below, keeping every unknown field (``extra="allow"``).
"""

# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any

from dify_transport.types._common import DifyModel

__all__ = [
    "AgentLogEvent",
    "AgentLogStep",
    "IterationEvent",
    "LoopEvent",
    "NodeRetryEvent",
    "RunEventEnvelope",
    "TTSMessageEvent",
    "TextChunkEvent",
    "WorkflowStartedEvent",
]


class RunEventEnvelope(DifyModel):
    """Fields every workflow-family event may carry (chatflow: also the chat envelope)."""

    event: str
    task_id: str | None = None
    workflow_run_id: str | None = None
    conversation_id: str | None = None
    message_id: str | None = None
    created_at: int | None = None


class WorkflowStartedData(DifyModel):
    """``workflow_started.data``."""

    id: str | None = None
    """The run id."""
    workflow_id: str | None = None
    inputs: dict[str, Any] = {}
    created_at: int | None = None
    reason: str | None = None
    """``"initial"`` for a new run, ``"resumption"`` when a paused run continues (1.15+)."""


class WorkflowStartedEvent(RunEventEnvelope):
    """``workflow_started``: a run began (again, with ``reason: "resumption"``, after a pause)."""

    data: WorkflowStartedData = WorkflowStartedData()


class NodeData(DifyModel):
    """What the ``data`` of node, iteration and loop events share."""

    id: str | None = None
    """The node execution id (kept across retries)."""
    node_id: str | None = None
    node_type: str | None = None
    title: str | None = None
    status: str | None = None
    error: str | None = None
    elapsed_time: float | None = None


class NodeRetryData(NodeData):
    """``node_retry.data``: like ``node_finished`` plus ``retry_index``."""

    retry_index: int | None = None
    """0-based: the retry that is about to run."""


class NodeRetryEvent(RunEventEnvelope):
    """``node_retry``: a node with retries enabled failed and will run again."""

    data: NodeRetryData = NodeRetryData()


class ContainerData(NodeData):
    """``iteration_*`` / ``loop_*`` ``data``."""

    index: int | None = None
    """``*_next``: the 0-based round that starts."""
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    total_tokens: int | None = None
    steps: int | None = None
    """``*_completed``: rounds run."""
    pre_loop_output: Any = None
    """``loop_next``: the previous round's output."""


class IterationEvent(RunEventEnvelope):
    """``iteration_started`` / ``iteration_next`` / ``iteration_completed``."""

    data: ContainerData = ContainerData()


class LoopEvent(RunEventEnvelope):
    """``loop_started`` / ``loop_next`` / ``loop_completed``."""

    data: ContainerData = ContainerData()


class AgentLogStep(DifyModel):
    """One step of an Agent node (``agent_log.data``; Dify re-sends a step as it progresses)."""

    id: str
    """Step id."""
    node_execution_id: str | None = None
    """The Agent node's execution id (`NodeRun.id`)."""
    node_id: str | None = None
    label: str | None = None
    """E.g. ``"ROUND 1"``, ``"CALL current_time"``."""
    parent_id: str | None = None
    """The enclosing step (rounds contain tool calls)."""
    status: str | None = None
    """``start``, ``success``, ``error``."""
    error: str | None = None
    data: dict[str, Any] = {}
    """Step payload (tool input/output, model output)."""
    metadata: dict[str, Any] = {}
    """Timing, usage, icons."""


class AgentLogEvent(RunEventEnvelope):
    """``agent_log``: a step of an Agent node (chatflow streams: no ``workflow_run_id``)."""

    data: AgentLogStep


class TextChunkData(DifyModel):
    """``text_chunk.data``."""

    text: str = ""
    from_variable_selector: list[str] | None = None


class TextChunkEvent(RunEventEnvelope):
    """``text_chunk``: answer text of a workflow (in chat streams only if ``message`` is absent)."""

    data: TextChunkData = TextChunkData()


class TTSMessageEvent(RunEventEnvelope):
    """``tts_message`` / ``tts_message_end``: base64 audio (``""`` on the end event).

    May follow ``message_end``; ``tts_message_end`` is then the real last frame.
    """

    audio: str = ""
