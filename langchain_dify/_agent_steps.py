"""An agent app's tool calls as child tool runs of the chat model's run.

``ChatDify`` feeds each stream event here; each ``agent_thought`` tool call becomes
``on_tool_start`` / ``on_tool_end`` on the model run's child callback manager, so
LangSmith traces and ``astream_events`` (``on_tool_start`` / ``on_tool_end`` events)
show the agent's tool use with its name, input and observation. The folding of
Dify's thoughts lives in :mod:`dify_transport.agent_steps`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_core.callbacks import AsyncCallbackManager, CallbackManager

from dify_transport.agent_steps import AgentSteps, ToolStep

if TYPE_CHECKING:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForLLMRun,
        AsyncCallbackManagerForToolRun,
        CallbackManagerForLLMRun,
        CallbackManagerForToolRun,
    )

    from dify_transport import StreamEvent

__all__ = ["AgentToolRuns", "AsyncAgentToolRuns", "model_run"]

# langchain-core hands ``_stream`` no run manager when it streams for ``invoke``
# (it fires the token callbacks itself): the model run is kept here for the tool runs.
_MODEL_RUN: ContextVar[Any] = ContextVar("dify_model_run", default=None)


@contextmanager
def model_run(run_manager: object) -> Iterator[None]:
    """Make ``run_manager`` the parent of agent tool runs reported inside the block."""
    token = _MODEL_RUN.set(run_manager)
    try:
        yield
    finally:
        _MODEL_RUN.reset(token)


M = TypeVar("M", CallbackManager, AsyncCallbackManager)


def _child(
    run: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None, kind: type[M]
) -> M | None:
    """The manager for runs nested under the model's run (LLM run managers have none)."""
    if run is None:
        return None
    manager = kind(handlers=[], parent_run_id=run.run_id)
    manager.set_handlers(run.inheritable_handlers)
    manager.add_tags(run.inheritable_tags)
    manager.add_metadata(run.inheritable_metadata)
    return manager


def _start_args(step: ToolStep) -> dict[str, Any]:
    return {
        "serialized": {"name": step.tool, "description": f"Dify agent tool {step.tool}"},
        "input_str": json.dumps(step.input, ensure_ascii=False),
        "inputs": step.input,
        "name": step.tool,
    }


class AgentToolRuns:
    """Report an agent app's tool calls as child tool runs (sync; a no-op without callbacks)."""

    def __init__(self, run_manager: CallbackManagerForLLMRun | None) -> None:
        self._manager = _child(run_manager or _MODEL_RUN.get(), CallbackManager)
        self._steps = AgentSteps()
        self._runs: dict[str, CallbackManagerForToolRun] = {}

    def feed(self, event: StreamEvent) -> None:
        """Start or end the tool runs this event reports."""
        if self._manager is None or event.event != "agent_thought":
            return
        for step in self._steps.feed(event.event, event.data):
            self._apply(step)

    def _apply(self, step: ToolStep) -> None:
        if step.phase == "start" and self._manager is not None:
            self._runs[step.key] = self._manager.on_tool_start(**_start_args(step))
        elif (run := self._runs.pop(step.key, None)) is not None:
            run.on_tool_end(step.observation)

    def __enter__(self) -> AgentToolRuns:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None and isinstance(exc, Exception):
            for run in self._runs.values():
                run.on_tool_error(exc)
            self._runs.clear()
            return
        for step in self._steps.finish():
            self._apply(step)


class AsyncAgentToolRuns:
    """Async `AgentToolRuns`."""

    def __init__(self, run_manager: AsyncCallbackManagerForLLMRun | None) -> None:
        self._manager = _child(run_manager or _MODEL_RUN.get(), AsyncCallbackManager)
        self._steps = AgentSteps()
        self._runs: dict[str, AsyncCallbackManagerForToolRun] = {}

    async def feed(self, event: StreamEvent) -> None:
        """Start or end the tool runs this event reports."""
        if self._manager is None or event.event != "agent_thought":
            return
        for step in self._steps.feed(event.event, event.data):
            await self._apply(step)

    async def _apply(self, step: ToolStep) -> None:
        if step.phase == "start" and self._manager is not None:
            self._runs[step.key] = await self._manager.on_tool_start(**_start_args(step))
        elif (run := self._runs.pop(step.key, None)) is not None:
            await run.on_tool_end(step.observation)

    async def __aenter__(self) -> AsyncAgentToolRuns:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None and isinstance(exc, Exception):
            for run in self._runs.values():
                await run.on_tool_error(exc)
            self._runs.clear()
            return
        for step in self._steps.finish():
            await self._apply(step)
