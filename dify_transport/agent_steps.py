"""Agent apps' ``agent_thought`` events as tool calls that start and end (pure, no I/O).

Dify re-sends one ``agent_thought`` (same ``id``) as the step progresses: first
empty, then with ``tool`` and ``tool_input`` (the call), then with ``observation``
(the result); a step with no tool is the model's own reasoning. ``tool`` may name
several tools (``;``-separated); ``tool_input`` and ``observation`` are then JSON
objects keyed by tool name. :class:`AgentSteps` folds the events into
:class:`ToolStep` starts and ends, once each, for the frameworks' tool callbacks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = ["AgentSteps", "ToolStep"]


@dataclass(frozen=True, slots=True)
class ToolStep:
    """One agent tool call starting (``phase="start"``) or ending (``"end"``)."""

    phase: Literal["start", "end"]
    key: str
    """Stable id of this call: the thought id and the tool name."""
    tool: str
    input: dict[str, Any] = field(default_factory=dict)
    """The tool's arguments (parsed from ``tool_input``)."""
    observation: str = ""
    """The tool's output (``end`` only)."""
    thought_id: str | None = None
    position: int | None = None


def _loads(text: object) -> object:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _input_for(tool: str, raw: object, several: bool) -> dict[str, Any]:
    parsed = _loads(raw)
    if isinstance(parsed, Mapping) and tool in parsed:
        parsed = parsed[tool]
    elif several:
        parsed = None
    if isinstance(parsed, Mapping):
        return dict(parsed)
    return {} if parsed is None else {"input": parsed}


def _observation_for(tool: str, raw: object, several: bool) -> str:
    parsed = _loads(raw)
    if isinstance(parsed, Mapping) and tool in parsed:
        value = parsed[tool]
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if several:
        return ""
    return str(raw or "")


class AgentSteps:
    """Fold ``agent_thought`` events into tool-call starts and ends (each exactly once).

    Example:
        ```python
        steps = AgentSteps()
        for event in stream:
            for step in steps.feed(event.event, event.data):
                ...  # step.phase == "start" / "end"
        for step in steps.finish():  # calls that never reported an observation
            ...
        ```
    """

    __slots__ = ("_ended", "_open")

    def __init__(self) -> None:
        self._open: dict[str, ToolStep] = {}
        self._ended: set[str] = set()

    def feed(self, name: str, data: Mapping[str, Any]) -> list[ToolStep]:
        """The starts and ends this event makes (empty for other events)."""
        if name != "agent_thought":
            return []
        thought_id = data.get("id") if isinstance(data.get("id"), str) else None
        position = data.get("position") if isinstance(data.get("position"), int) else None
        tools = [t.strip() for t in str(data.get("tool") or "").split(";") if t.strip()]
        several = len(tools) > 1
        out: list[ToolStep] = []
        for tool in tools:
            key = f"{thought_id or position}:{tool}"
            if key in self._ended:
                continue
            if key not in self._open:
                start = ToolStep(
                    "start",
                    key,
                    tool,
                    _input_for(tool, data.get("tool_input"), several),
                    thought_id=thought_id,
                    position=position,
                )
                self._open[key] = start
                out.append(start)
            observation = data.get("observation")
            if isinstance(observation, str) and observation:
                out.append(self._end(key, _observation_for(tool, observation, several)))
        return out

    def finish(self) -> list[ToolStep]:
        """End the calls still open (the stream ended before their observation)."""
        return [self._end(key, "") for key in list(self._open)]

    def _end(self, key: str, observation: str) -> ToolStep:
        self._ended.add(key)
        return replace(self._open.pop(key), phase="end", observation=observation)
