"""Dify human-input pauses as LangGraph interrupts (used only inside a LangGraph run).

LangGraph re-runs an interrupted node from its start when the graph resumes. The run's
start and each resume are LangGraph tasks, whose results the checkpointer keeps: the
replay gets the paused run back from the checkpoint instead of POSTing a new run.
The interrupt's value is plain data (any checkpointer can store it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from langchain_core.runnables.config import var_child_runnable_config

from dify_transport import DifyError, PausedRun, Result

__all__ = [
    "arun_in_graph",
    "arun_values_in_graph",
    "in_graph",
    "interrupt_value",
    "resume_choice",
    "run_in_graph",
    "run_values_in_graph",
]

Start = Callable[[], dict[str, Any]]
Resume = Callable[[dict[str, Any], str, dict[str, Any], str | None], dict[str, Any]]


def in_graph() -> bool:
    """Whether the current call runs inside a LangGraph node."""
    config = var_child_runnable_config.get() or {}
    return any(str(k).startswith("__pregel_") for k in config.get("configurable", {}))


def interrupt_value(paused: PausedRun) -> dict[str, Any]:
    """What the graph's interrupt carries: the forms to answer, and the run's handle."""
    forms = paused.form_views()
    return {"type": "dify_human_input", "forms": forms, "paused": paused.model_dump(mode="json")}


def resume_choice(answer: object, paused: PausedRun) -> tuple[str, dict[str, Any], str | None]:
    """``(action, inputs, node_id)`` from ``Command(resume=...)``.

    The value is ``{"action": ..., "inputs": {...}}``, or, with several pending forms,
    ``{node_id: {"action": ..., "inputs": {...}}}``.
    """
    if isinstance(answer, Mapping) and "action" not in answer and len(answer) == 1:
        ((node_id, inner),) = answer.items()
        if str(node_id) in paused.forms and isinstance(inner, Mapping):
            return str(inner.get("action")), dict(inner.get("inputs") or {}), str(node_id)
    if not isinstance(answer, Mapping) or not isinstance(answer.get("action"), str):
        msg = (
            "Resume a Dify human-input interrupt with Command(resume={'action': ..., "
            "'inputs': {...}}) (keyed by node_id when several forms are pending)"
        )
        raise DifyError(msg)
    node_id = None if len(paused.forms) == 1 else str(answer.get("node_id") or "") or None
    return answer["action"], dict(answer.get("inputs") or {}), node_id


def _result_paused(value: dict[str, Any]) -> PausedRun | None:
    return Result.model_validate(value).paused


def run_in_graph(start: Start, resume: Resume) -> Result:
    """Run to the end, interrupting the graph at each pause (sync)."""
    return Result.model_validate(run_values_in_graph(start, resume, _result_paused))


async def arun_in_graph(
    start: Callable[[], Awaitable[dict[str, Any]]],
    resume: Callable[[dict[str, Any], str, dict[str, Any], str | None], Awaitable[dict[str, Any]]],
) -> Result:
    """Async `run_in_graph`."""
    return Result.model_validate(await arun_values_in_graph(start, resume, _result_paused))


def _tasks(start: Any, resume: Any, name: str) -> tuple[Any, Any]:
    """``start`` and ``resume`` as LangGraph tasks (their results are checkpointed)."""
    from langgraph.func import task  # noqa: PLC0415 - only inside a LangGraph run

    make_task: Any = task  # its ParamSpec typing does not take a Callable alias
    return make_task(name=f"{name}_start")(start), make_task(name=f"{name}_resume")(resume)


def _interrupt(paused: PausedRun) -> tuple[dict[str, Any], str, dict[str, Any], str | None]:
    """Interrupt the graph; on resume, the arguments of ``resume`` (handle, action, ...)."""
    from langgraph.types import interrupt  # noqa: PLC0415 - only inside a LangGraph run

    action, inputs, node_id = resume_choice(interrupt(interrupt_value(paused)), paused)
    return paused.model_dump(mode="json"), action, inputs, node_id


def run_values_in_graph(
    start: Start,
    resume: Resume,
    paused_of: Callable[[dict[str, Any]], PausedRun | None],
    name: str = "dify_workflow",
) -> dict[str, Any]:
    """`run_in_graph` for any plain-data value; ``paused_of`` finds its pause (sync)."""
    started, resumed = _tasks(start, resume, name)
    value: dict[str, Any] = started().result()
    while (paused := paused_of(value)) is not None:
        value = resumed(*_interrupt(paused)).result()
    return value


async def arun_values_in_graph(
    start: Callable[[], Awaitable[dict[str, Any]]],
    resume: Callable[[dict[str, Any], str, dict[str, Any], str | None], Awaitable[dict[str, Any]]],
    paused_of: Callable[[dict[str, Any]], PausedRun | None],
    name: str = "dify_workflow",
) -> dict[str, Any]:
    """Async `run_values_in_graph`."""
    started, resumed = _tasks(start, resume, name)
    value: dict[str, Any] = await started()
    while (paused := paused_of(value)) is not None:
        value = await resumed(*_interrupt(paused))
    return value
