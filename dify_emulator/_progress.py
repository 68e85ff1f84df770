"""The ``progress=1`` fault (1.x workflow app): container, retry and agent-log events.

Between the Start and the LLM node the run then also goes through an iteration over two
items (its inner Tool node fails once and is retried: ``node_retry``), a loop of two
rounds and an Agent node that logs a round with one tool call (``agent_log``), with the
fields Dify 1.x sends for these events (``retry_index``,
``pre_loop_output``, ``steps``). Container events carry ``id == node_id`` as Dify's do;
Dify sends no ``node_started`` for the containers themselves.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Generator
from typing import Any, Final

__all__ = ["progress_events"]

ITERATION: Final = ("1711600000010", "iteration", "Each item")
TOOL: Final = ("1711600000011", "tool", "Lookup")
LOOP: Final = ("1711600000020", "loop", "Refine")
AGENT: Final = ("1711600000030", "agent", "Agent")
ITEMS: Final = ("sky", "sea")

Event = Callable[[str, dict[str, Any]], dict[str, Any]]
"""Wraps ``(event name, data)`` in the run's envelope."""


def _head(spec: tuple[str, str, str], exec_id: str) -> dict[str, Any]:
    node_id, node_type, title = spec
    return {"id": exec_id, "node_id": node_id, "node_type": node_type, "title": title,
            "created_at": int(time.time()), "extras": {}}  # fmt: skip


def _node(spec: tuple[str, str, str], exec_id: str, **more: Any) -> dict[str, Any]:
    return {**_head(spec, exec_id), "index": 0, "predecessor_node_id": None, "inputs": None,
            "inputs_truncated": False, "iteration_id": None, "loop_id": None, **more}  # fmt: skip


def _ended(data: dict[str, Any], status: str = "succeeded", **more: Any) -> dict[str, Any]:
    return {**data, "process_data": None, "outputs": more.pop("outputs", None),
            "outputs_truncated": False, "process_data_truncated": False, "status": status,
            "error": more.pop("error", None), "elapsed_time": 0.01, "execution_metadata": {},
            "finished_at": int(time.time()), "files": [], **more}  # fmt: skip


def _iteration(ev: Event) -> Generator[dict[str, Any], None, None]:
    it = ITERATION[0]
    yield ev("iteration_started", {**_head(ITERATION, it), "metadata": {"iterator_length": 2},
                                   "inputs": {"iterator_selector": list(ITEMS)},
                                   "inputs_truncated": False})  # fmt: skip
    for index, item in enumerate(ITEMS):
        yield ev("iteration_next", {**_head(ITERATION, it), "index": index})
        inner = _node(TOOL, str(uuid.uuid4()), iteration_id=it)
        yield ev("node_started", inner)
        if index == 0:
            yield ev("node_retry", _ended(inner, "retry", error="timeout", retry_index=0))
        yield ev("node_finished", _ended(inner, outputs={"text": f"notes on the {item}"}))
    yield ev("iteration_completed", {**_ended(_head(ITERATION, it), steps=len(ITEMS),
             outputs={"output": [f"notes on the {i}" for i in ITEMS]}), "total_tokens": 0,
             "inputs": None, "inputs_truncated": False})  # fmt: skip


def _loop(ev: Event) -> Generator[dict[str, Any], None, None]:
    lp = LOOP[0]
    yield ev("loop_started", {**_head(LOOP, lp), "metadata": {"loop_length": 2},
                              "inputs": {}, "inputs_truncated": False})  # fmt: skip
    previous: Any = None
    for index in range(2):
        yield ev("loop_next", {**_head(LOOP, lp), "index": index, "pre_loop_output": previous})
        previous = {"round": index + 1}
    done = _ended(_head(LOOP, lp), steps=2, outputs=previous)
    yield ev("loop_completed", {**done, "total_tokens": 0, "inputs": {}, "inputs_truncated": False})


def _agent(ev: Event) -> Generator[dict[str, Any], None, None]:
    agent = _node(AGENT, str(uuid.uuid4()), agent_strategy={"name": "function_calling"})
    yield ev("node_started", agent)
    rnd, call = str(uuid.uuid4()), str(uuid.uuid4())

    def log(step: str, label: str, parent: str | None, status: str, data: Any) -> dict[str, Any]:
        return ev("agent_log", {"node_execution_id": agent["id"], "id": step, "label": label,
                                "parent_id": parent, "error": None, "status": status,
                                "data": data, "metadata": {}, "node_id": AGENT[0]})  # fmt: skip

    yield log(rnd, "ROUND 1", None, "start", {})
    yield log(call, "CALL current_time", rnd, "start", {"tool_input": {}})
    yield log(call, "CALL current_time", rnd, "success", {"output": "12:00"})
    yield log(rnd, "ROUND 1", None, "success", {"output": "It is noon."})
    yield ev("node_finished", _ended(agent, outputs={"text": "It is noon."}))


def progress_events(ev: Event) -> Generator[dict[str, Any], None, None]:
    """The iteration, loop and agent node of the ``progress`` fault, in run order."""
    yield from _iteration(ev)
    yield from _loop(ev)
    yield from _agent(ev)
