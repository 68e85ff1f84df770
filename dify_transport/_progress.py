"""`NodeProgress`: the fold of a run's node events into `NodeRun` dicts.

Keyed by execution id (``data.id``; loops and iterations reuse ``node_id``), so a
replayed event changes nothing and `seen` can tell a reconnected stream's repeats.
Which events fold into what: docs/architecture.md (``Result.nodes``, "Streams").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PROGRESS_EVENTS", "NodeProgress"]

_CONTAINER = {
    "iteration_started": ("iterations", "started"),
    "iteration_next": ("iterations", "next"),
    "iteration_completed": ("iterations", "completed"),
    "loop_started": ("loops", "started"),
    "loop_next": ("loops", "next"),
    "loop_completed": ("loops", "completed"),
}
PROGRESS_EVENTS = frozenset(
    {"node_started", "node_finished", "node_retry", "agent_log", *_CONTAINER}
)
"""Events folded into node progress (and de-duplicated after a reconnect)."""

_NODE_KEYS = ("node_id", "node_type", "title", "index", "iteration_id", "loop_id")
_END_KEYS = ("status", "error", "elapsed_time")
_STEP_ENDS = frozenset({"success", "error", "failed"})
"""Final ``agent_log`` step statuses (Dify re-sends a step: ``start``, then one of these)."""


def _index(inner: Mapping[str, Any]) -> int | None:
    value = inner.get("index")
    return value if type(value) is int else None


class NodeProgress:
    """Node executions of one run, in start order (plain dicts `NodeRun` validates)."""

    __slots__ = ("_nodes",)

    def __init__(self) -> None:
        self._nodes: dict[str, dict[str, Any]] = {}

    def nodes(self) -> list[dict[str, Any]]:
        """The node runs so far (copies of their agent-log lists)."""
        out = []
        for node in self._nodes.values():
            logs = node.get("agent_log")
            out.append({**node, "agent_log": list(logs.values())} if logs else node)
        return out

    def add(self, name: str, inner: object) -> None:
        """Fold one progress event (``inner`` is its ``data`` object)."""
        if not isinstance(inner, Mapping):
            return
        if name == "agent_log":
            self._agent_log(inner)
            return
        key = inner.get("id")
        if not isinstance(key, str):
            return
        node = self._nodes.setdefault(key, {"id": key, "status": "running"})
        for field in _NODE_KEYS:
            if inner.get(field) is not None:
                node[field] = inner[field]
        container = _CONTAINER.get(name)
        if container is not None:
            self._container(node, container, inner)
        elif name == "node_retry":
            retry = _index({"index": inner.get("retry_index")})
            count = node.get("retries", 0)
            node["retries"] = max(count, retry + 1) if retry is not None else count + 1
        elif name == "node_finished":
            for field in _END_KEYS:
                node[field] = inner.get(field)

    @staticmethod
    def _container(node: dict[str, Any], kind: tuple[str, str], inner: Mapping[str, Any]) -> None:
        counter, step = kind
        rounds = node.get(counter) or 0
        if step == "started":
            node[counter] = rounds
        elif step == "next":
            index = _index(inner)
            node[counter] = max(rounds, index + 1) if index is not None else rounds + 1
        else:
            steps = inner.get("steps")
            node[counter] = steps if type(steps) is int else rounds
            for field in _END_KEYS:
                node[field] = inner.get(field)

    def _agent_log(self, inner: Mapping[str, Any]) -> None:
        owner, step = inner.get("node_execution_id"), inner.get("id")
        if not isinstance(owner, str) or not isinstance(step, str):
            return
        node = self._nodes.setdefault(owner, {"id": owner, "status": "running"})
        if node.get("node_id") is None and isinstance(inner.get("node_id"), str):
            node["node_id"] = inner["node_id"]
        logs: dict[str, dict[str, Any]] = node.setdefault("agent_log", {})
        old = logs.get(step)
        if old is None or old.get("status") not in _STEP_ENDS:  # a late "start" never regresses
            logs[step] = dict(inner)

    def lost_ends(self) -> None:
        """The run ended but some nodes' ends were sent while disconnected: status None."""
        for node in self._nodes.values():
            if node.get("status") == "running":
                node["status"] = None

    def seen(self, name: str, inner: object) -> bool:
        """Whether this event repeats progress already folded (a reconnect's replay)."""
        if not isinstance(inner, Mapping):
            return False
        if name == "agent_log":
            owner = self._nodes.get(str(inner.get("node_execution_id")))
            logs = owner.get("agent_log") if owner else None
            old = logs.get(str(inner.get("id"))) if logs else None
            return old is not None and (
                old.get("status") == inner.get("status") or old.get("status") in _STEP_ENDS
            )
        node = self._nodes.get(str(inner.get("id")))
        if node is None:
            return False
        if name == "node_retry":
            retry = _index({"index": inner.get("retry_index")})
            return retry is not None and retry < node.get("retries", 0)
        counter, step = _CONTAINER.get(name) or ("", "started" if name == "node_started" else "")
        if step == "next":
            index = _index(inner)
            return index is not None and index < (node.get(counter) or 0)
        if step == "started":
            return True
        return node.get("status") != "running"
