"""An agent app's tool calls as LlamaIndex instrumentation and callback events.

``DifyLLM`` feeds each stream event here. Each ``agent_thought`` tool call becomes,
on the instrumentation dispatcher, an ``AgentToolCallEvent`` (the tool's name and
arguments) when it starts and a `DifyAgentToolResultEvent` (with the observation)
when it ends; and, for legacy callback handlers, a ``FUNCTION_CALL`` event pair on
the model's ``CallbackManager``. The folding of Dify's thoughts lives in
:mod:`dify_transport.agent_steps`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.agent import AgentToolCallEvent
from llama_index.core.tools import ToolMetadata

from dify_transport.agent_steps import AgentSteps, ToolStep

if TYPE_CHECKING:
    from llama_index.core.callbacks import CallbackManager

    from dify_transport import StreamEvent

__all__ = ["AgentToolEvents", "DifyAgentToolResultEvent"]

dispatcher = get_dispatcher(__name__)


class DifyAgentToolResultEvent(BaseEvent):
    """A Dify agent app's tool call ended: its name, arguments and observation."""

    tool_name: str
    arguments: str
    observation: str

    @classmethod
    def class_name(cls) -> str:
        """Class name."""
        return "DifyAgentToolResultEvent"


class AgentToolEvents:
    """Report an agent app's tool calls (instrumentation events and callback events)."""

    def __init__(self, callback_manager: CallbackManager | None) -> None:
        self._callbacks = callback_manager
        self._steps = AgentSteps()
        self._ids: dict[str, str] = {}

    def feed(self, event: StreamEvent) -> None:
        """Dispatch the tool-call starts and ends this event reports."""
        if event.event == "agent_thought":
            for step in self._steps.feed(event.event, event.data):
                self._apply(step)

    def finish(self) -> None:
        """End the calls the stream left open (no observation came)."""
        for step in self._steps.finish():
            self._apply(step)

    def _apply(self, step: ToolStep) -> None:
        arguments = json.dumps(step.input, ensure_ascii=False)
        tool = ToolMetadata(name=step.tool, description=f"Dify agent tool {step.tool}")
        if step.phase == "start":
            dispatcher.event(AgentToolCallEvent(arguments=arguments, tool=tool))
            if self._callbacks is not None:
                payload: dict[str, Any] = {
                    EventPayload.FUNCTION_CALL: arguments,
                    EventPayload.TOOL: tool,
                }
                self._ids[step.key] = self._callbacks.on_event_start(
                    CBEventType.FUNCTION_CALL, payload=payload
                )
            return
        dispatcher.event(
            DifyAgentToolResultEvent(
                tool_name=step.tool, arguments=arguments, observation=step.observation
            )
        )
        event_id = self._ids.pop(step.key, None)
        if self._callbacks is not None and event_id is not None:
            self._callbacks.on_event_end(
                CBEventType.FUNCTION_CALL,
                payload={EventPayload.FUNCTION_OUTPUT: step.observation},
                event_id=event_id,
            )
