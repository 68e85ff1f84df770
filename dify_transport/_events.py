"""`StreamEvent`: a cheap, slotted view over one decoded Dify event."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from dify_transport._errors import APIResponseValidationError
from dify_transport.types._stream_events import (
    AgentLogEvent,
    IterationEvent,
    LoopEvent,
    NodeRetryEvent,
    RunEventEnvelope,
    TextChunkEvent,
    TTSMessageEvent,
    WorkflowStartedEvent,
)

__all__ = ["TERMINAL_EVENTS", "TEXT_EVENTS", "StreamEvent", "text_of"]

TERMINAL_EVENTS = frozenset({"message_end", "workflow_finished", "error", "workflow_paused"})
"""Events after which Dify generates nothing more (TTS frames may still follow)."""

TEXT_EVENTS = frozenset({"message", "agent_message"})
"""Events whose ``answer`` is a text delta."""


_TYPED: dict[str, type[RunEventEnvelope]] = {
    "workflow_started": WorkflowStartedEvent,
    "node_retry": NodeRetryEvent,
    "agent_log": AgentLogEvent,
    "text_chunk": TextChunkEvent,
    "tts_message": TTSMessageEvent,
    "tts_message_end": TTSMessageEvent,
    **{f"iteration_{s}": IterationEvent for s in ("started", "next", "completed")},
    **{f"loop_{s}": LoopEvent for s in ("started", "next", "completed")},
}


def text_of(data: dict[str, Any]) -> str | None:
    """Return the text delta carried by an event, or None.

    ``message`` / ``agent_message`` carry ``answer``; workflow ``text_chunk`` carries
    ``data.text``; and (wire trap T5) a ``message_file`` event with an ``answer`` string and
    no ``url`` is a text delta in disguise.

    Args:
        data: The event JSON.

    Returns:
        The delta text, or None if the event carries none.
    """
    name = data.get("event")
    if name in TEXT_EVENTS:
        answer = data.get("answer")
        return answer if isinstance(answer, str) else None
    if name == "text_chunk":
        inner = data.get("data")
        if isinstance(inner, dict):
            text = inner.get("text")
            return text if isinstance(text, str) else None
        return None
    if name == "message_file":
        answer = data.get("answer")
        if isinstance(answer, str) and not data.get("url"):
            return answer
    return None


class StreamEvent:
    """One event of a Dify stream, as Dify sent it.

    Attributes:
        event: The event name (``message``, ``message_end``, ``workflow_started``, ...).
        data: The JSON object exactly as decoded.
        text: The text delta this event adds to the answer, or None. (Set by the
            stream; a New-Agent closing ``message`` that repeats the whole answer
            gets None, and so does text of a leading ``<think>`` block.)
        reasoning: The reasoning delta this event carries (``reasoning_chunk``, or
            text inside a leading ``<think>`` block), or None; never part of ``text``.
    """

    __slots__ = ("data", "event", "reasoning", "text")

    def __init__(
        self, data: dict[str, Any], event: str | None = None, text: str | None = None
    ) -> None:
        self.data = data
        self.event = event if event is not None else (data.get("event") or "message")
        self.text = text
        self.reasoning: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> StreamEvent:
        """Wrap a decoded event dict (computing its text delta)."""
        name = data.get("event")
        return cls(data, name if isinstance(name, str) else "message", text_of(data))

    @property
    def task_id(self) -> str | None:
        """The task id (what the stop endpoints take); absent on ``error`` events."""
        value = self.data.get("task_id")
        return value if isinstance(value, str) else None

    @property
    def conversation_id(self) -> str | None:
        """The conversation id (chat-family apps only)."""
        value = self.data.get("conversation_id")
        return value if isinstance(value, str) else None

    @property
    def message_id(self) -> str | None:
        """The message id (``message_id``, or ``id`` on message/message_end events)."""
        value = self.data.get("message_id")
        if value is None and self.event in ("message", "agent_message", "message_end"):
            value = self.data.get("id")
        return value if isinstance(value, str) else None

    @property
    def workflow_run_id(self) -> str | None:
        """The workflow run id (workflow and chatflow events)."""
        value = self.data.get("workflow_run_id")
        return value if isinstance(value, str) else None

    def typed(self) -> RunEventEnvelope | None:
        """This event as its pydantic model, for the 1.x run events that have one.

        ``workflow_started`` (with ``data.reason``), ``node_retry``, ``iteration_*``,
        ``loop_*``, ``agent_log``, ``text_chunk`` and ``tts_message(_end)``; None for
        other events (their fields are folded into the stream's `Result`).

        Raises:
            APIResponseValidationError: The event does not fit its model.
        """
        model = _TYPED.get(self.event)
        if model is None:
            return None
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            raise APIResponseValidationError(
                f"Dify sent a {self.event} event we could not read: {exc.errors()[0]['msg']}"
            ) from exc

    @property
    def is_terminal(self) -> bool:
        """True for ``message_end``, ``workflow_finished``, ``error`` and ``workflow_paused``."""
        return self.event in TERMINAL_EVENTS

    def __repr__(self) -> str:
        if self.text is not None:
            return f"StreamEvent({self.event!r}, text={self.text!r})"
        return f"StreamEvent({self.event!r})"
