"""Event streams of workflow-engine apps: chatflow (advanced-chat) and workflow."""

from __future__ import annotations

import time
import uuid
from collections.abc import Generator
from typing import Any, Final

from dify_emulator._answers import question_of, thinking_words
from dify_emulator._extras import MODERATED_ANSWER, moderated, replace_event
from dify_emulator._faults import EventItem
from dify_emulator._generate import (
    FAIL_MESSAGE,
    Gen,
    Plan,
    make_plan,
    metadata,
    usage,
)
from dify_emulator._http import Sleep
from dify_emulator._progress import progress_events
from dify_emulator._wire import Wire

__all__ = ["CHATFLOW_NODES", "WORKFLOW_NODES", "Node", "Run", "chatflow_events", "workflow_events"]

STOPPED: Final = "Stopped by user."
CHATFLOW_NODES: Final = (("1711528914102", "start", "Start"), ("1711528919501", "llm", "LLM"),
                          ("1711528924469", "answer", "Answer"))  # fmt: skip
WORKFLOW_NODES: Final = (("1711600000001", "start", "Start"), ("1711600000002", "llm", "LLM"),
                          ("1711600000003", "end", "End"))  # fmt: skip
_PARALLEL_015: Final = {
    "parallel_id": None,
    "parallel_start_node_id": None,
    "parent_parallel_id": None,
    "parent_parallel_start_node_id": None,
    "iteration_id": None,
}


class Node:
    """One node execution: renders node_started / node_finished data per wire."""

    def __init__(
        self, wire: Wire, index: int, spec: tuple[str, str, str], pred: str | None
    ) -> None:
        self.wire = wire
        self.id = str(uuid.uuid4())
        self.node_id, self.node_type, self.title = spec
        self.index = index
        self.pred = pred
        self.t0 = time.perf_counter()
        self.created = int(time.time())

    def _head(self) -> dict[str, Any]:
        return {"id": self.id, "node_id": self.node_id, "node_type": self.node_type,
                "title": self.title, "index": self.index,
                "predecessor_node_id": self.pred}  # fmt: skip

    def started(self) -> dict[str, Any]:
        d = self._head()
        if self.wire.v015:
            d.update(inputs=None, created_at=self.created, extras={}, **_PARALLEL_015)
            d["parallel_run_id"] = None
        else:
            d.update(inputs=None, inputs_truncated=False, created_at=self.created, extras={},
                     iteration_id=None, loop_id=None, agent_strategy=None)  # fmt: skip
        return d

    def finished(
        self,
        inputs: Any,
        outputs: Any,
        *,
        process_data: Any = None,
        status: str = "succeeded",
        error: str | None = None,
        meta: Any = None,
    ) -> dict[str, Any]:
        d = self._head()
        d["inputs"] = inputs
        if not self.wire.v015:
            d["inputs_truncated"] = False
        d["process_data"] = process_data
        if not self.wire.v015:
            d["process_data_truncated"] = False
        d["outputs"] = outputs
        if not self.wire.v015:
            d["outputs_truncated"] = False
        d.update(status=status, error=error, elapsed_time=round(time.perf_counter() - self.t0, 6),
                 execution_metadata=meta, created_at=self.created,
                 finished_at=int(time.time()), files=[])  # fmt: skip
        if self.wire.v015:
            d.update(_PARALLEL_015)
        else:
            d.update(iteration_id=None, loop_id=None)
        return d


class Run:
    """One workflow run: ids, sys inputs and the started/finished data."""

    def __init__(self, g: Gen, inputs: dict[str, Any]) -> None:
        self.g = g
        self.id = str(uuid.uuid4())
        self.workflow_id = g.spec.workflow_id or ""
        self.t0 = time.perf_counter()
        self.created = time.time()
        self.sequence = g.store.list_runs(g.spec.name, 1, 1, None)[1] + 1
        sys_inputs: dict[str, Any] = dict(inputs)
        if g.spec.mode == "advanced-chat":
            sys_inputs["sys.query"] = g.query
        sys_inputs["sys.files"] = []
        if g.spec.mode == "advanced-chat":
            if g.wire.v015:
                sys_inputs["sys.conversation_id"] = g.conversation_id
            sys_inputs["sys.user_id"] = g.user
            sys_inputs["sys.dialogue_count"] = len(g.history)
        else:
            sys_inputs["sys.user_id"] = g.user
        sys_inputs["sys.app_id"] = g.spec.app_id
        sys_inputs["sys.workflow_id"] = self.workflow_id
        sys_inputs["sys.workflow_run_id"] = self.id
        self.inputs = sys_inputs
        self.save(status="running", outputs=None, error=None, tokens=0, steps=0)

    def started(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "workflow_id": self.workflow_id}
        if self.g.wire.v015:
            d["sequence_number"] = self.sequence
        d.update(inputs=self.inputs, created_at=int(self.created))
        if not self.g.wire.v015:
            d["reason"] = "initial"  # "resumption" when a paused run continues (docs 1.14+)
        return d

    def finished(
        self, status: str, outputs: Any, error: str | None, tokens: int, steps: int
    ) -> dict[str, Any]:
        elapsed = time.perf_counter() - self.t0
        d: dict[str, Any] = {"id": self.id, "workflow_id": self.workflow_id}
        if self.g.wire.v015:
            d["sequence_number"] = self.sequence
        d.update(status=status, outputs=outputs, error=error, elapsed_time=elapsed,
                 total_tokens=tokens, total_steps=steps,
                 created_by={"id": self.g.end_user_id, "user": self.g.user},
                 created_at=int(self.created), finished_at=int(time.time()),
                 exceptions_count=0, files=[])  # fmt: skip
        self.save(
            status=status, outputs=outputs, error=error, tokens=tokens, steps=steps, elapsed=elapsed
        )
        return d

    def save(
        self,
        *,
        status: str,
        outputs: Any,
        error: str | None,
        tokens: int,
        steps: int,
        elapsed: float = 0.0,
    ) -> None:
        g = self.g
        g.store.save_run({
            "id": self.id, "app": g.spec.name, "workflow_id": self.workflow_id,
            "end_user_id": g.end_user_id, "session_id": g.user, "status": status,
            "inputs": self.inputs, "outputs": outputs, "error": error, "total_steps": steps,
            "total_tokens": tokens, "elapsed": elapsed, "created": self.created,
            "finished": None if status == "running" else time.time(),
        })  # fmt: skip


def _injected(g: Gen) -> int | None:
    """The ``error_after`` fault of a streaming run (the generator fails the run itself)."""
    return g.opts.error_after if g.streaming else None


def _stream_words(
    g: Gen, plan: Plan, make: Any, *, answer: list[str], t0: float, ttft: list[float]
) -> Generator[EventItem, None, str | None]:
    """Stream the deltas; returns the error of an injected failure (``error_after``)."""
    fail_after = _injected(g)
    for i, word in enumerate(plan.words):
        if fail_after is not None and i >= fail_after:
            return f"[emulator] injected failure after {fail_after} deltas"
        if plan.pause and i:
            yield Sleep(plan.pause)
        if g.task.stopped:
            return None
        if not ttft:
            ttft.append(time.perf_counter() - t0)
        answer.append(word)
        yield make(word)
    if fail_after is not None and len(plan.words) >= fail_after:
        return f"[emulator] injected failure after {fail_after} deltas"
    return None


def chatflow_events(g: Gen) -> Generator[EventItem, None, None]:
    """Chatflow: workflow_started, nodes, message deltas, workflow_finished + message_end."""
    t0 = time.perf_counter()
    conv_vars = (
        g.store.variables(g.conversation_id) if g.spec.variables and g.conversation_id else {}
    )
    name = str(conv_vars.get("user_name", ""))
    plan = make_plan(g, f"Hi {name}!" if name else "", use_retrieval=False)
    run = Run(g, {})
    tid, mid, wire = g.task.task_id, g.message_id, g.wire
    env = {"event": "", "conversation_id": g.conversation_id, "message_id": mid,
           "created_at": g.created_at}  # fmt: skip
    wenv = {**env, "task_id": tid, "workflow_run_id": run.id}
    answer: list[str] = []
    ttft: list[float] = []
    error: str | None = None
    replaced: str | None = None
    try:
        yield {**wenv, "event": "workflow_started", "data": run.started()}
        start = Node(wire, 1, CHATFLOW_NODES[0], None)
        yield {**wenv, "event": "node_started", "data": start.started()}
        yield {**wenv, "event": "node_finished", "data": start.finished(run.inputs, run.inputs)}
        llm = Node(wire, 2, CHATFLOW_NODES[1], start.node_id)
        yield {**wenv, "event": "node_started", "data": llm.started()}
        selector = [llm.node_id, "text"]
        if g.spec.reasoning == "separated":  # reasoning_chunk (docs 1.15): no workflow_run_id
            for word, last in [*((w, False) for w in thinking_words(g.query)), ("", True)]:
                yield {**env, "event": "reasoning_chunk", "task_id": tid,
                       "data": {"message_id": mid, "reasoning": word, "node_id": llm.node_id,
                                "is_final": last}}  # fmt: skip

        def delta(w: str) -> dict[str, Any]:
            return {**env, "event": "message", "task_id": tid, "id": mid, "answer": w,
                    "from_variable_selector": selector}  # fmt: skip

        error = FAIL_MESSAGE if plan.fail else None
        if error is None:
            error = yield from _stream_words(g, plan, delta, answer=answer, t0=t0, ttft=ttft)
        if error is not None:
            # README fact 12: workflow_finished(failed), then error "Run failed: ...".
            yield {**wenv, "event": "node_finished",
                   "data": llm.finished(None, None, status="failed", error=error)}  # fmt: skip
            yield {**wenv, "event": "workflow_finished",
                   "data": run.finished("failed", None, error, 0, 2)}  # fmt: skip
            yield {**env, "event": "error", "code": "invalid_param", "status": 400,
                   "message": f"Run failed: {error}"}  # fmt: skip
            return
        if not g.task.stopped:
            yield delta("")
        text = "".join(answer)
        use = usage(wire, plan.prompt_tokens, len(answer), time.perf_counter() - t0,
                    ttft[0] if ttft else None)  # fmt: skip
        md = metadata(wire, [], use, citation=False)
        end: dict[str, Any] = {**env, "event": "message_end", "task_id": tid, "id": mid,
                               "metadata": md, "files": []}  # fmt: skip
        if g.task.stopped:
            yield {**wenv, "event": "workflow_finished",
                   "data": run.finished("stopped", None, STOPPED, 0, 2)}  # fmt: skip
            yield end
            return
        llm_out = {"text": text, "usage": use, "finish_reason": "stop"}
        yield {**wenv, "event": "node_finished", "data": llm.finished(None, llm_out)}
        if conv_vars and g.conversation_id:  # a variable-assigner step after the LLM
            g.store.set_variables(g.conversation_id, {
                "turn_count": int(conv_vars.get("turn_count") or 0) + 1,
                "last_question": question_of(g.query)})  # fmt: skip
        ans = Node(wire, 3, CHATFLOW_NODES[2], llm.node_id)
        yield {**wenv, "event": "node_started", "data": ans.started()}
        yield {**wenv, "event": "node_finished",
               "data": ans.finished(None, {"answer": text, "files": []})}  # fmt: skip
        done = {**wenv, "event": "workflow_finished",
                "data": run.finished("succeeded", {"answer": text}, None,
                                     use["total_tokens"], 3)}  # fmt: skip
        closing: list[dict[str, Any]] = [end]
        if moderated(g):  # output moderation: message_replace right before message_end
            replaced = MODERATED_ANSWER
            closing.insert(0, replace_event(g, env))
        # 0.15 (and 1.12 code): workflow_finished then message_end; 1.x models 1.13.3
        # (docs 1.15): message_end then workflow_finished.
        yield from [done, *closing] if wire.v015 else [*closing, done]
    finally:
        final = replaced if replaced is not None else "".join(answer)
        g.store.finish_message(mid, answer=final, resources=[], thoughts=[], error=error)
        g.store.end_task(g.task)


def workflow_events(g: Gen) -> Generator[EventItem, None, None]:
    """Workflow: workflow_started, nodes with text_chunk deltas, workflow_finished."""
    t0 = time.perf_counter()
    text_in = str(g.inputs.get("text", ""))
    count = g.inputs.get("count")
    plan = make_plan(g, use_retrieval=False)
    plan.fail = "fail" in text_in.lower()
    run = Run(g, {"text": text_in, "count": count})
    tid, wire = g.task.task_id, g.wire
    wenv = {"event": "", "workflow_run_id": run.id, "task_id": tid}
    answer: list[str] = []
    ttft: list[float] = []
    try:
        yield {**wenv, "event": "workflow_started", "data": run.started()}
        start = Node(wire, 1, WORKFLOW_NODES[0], None)
        yield {**wenv, "event": "node_started", "data": start.started()}
        yield {**wenv, "event": "node_finished", "data": start.finished(run.inputs, run.inputs)}
        if g.opts.progress and not wire.v015:
            yield from progress_events(lambda name, data: {**wenv, "event": name, "data": data})
        llm = Node(wire, 2, WORKFLOW_NODES[1], start.node_id)
        yield {**wenv, "event": "node_started", "data": llm.started()}
        selector = [llm.node_id, "text"]

        def delta(w: str) -> dict[str, Any]:
            return {**wenv, "event": "text_chunk",
                    "data": {"text": w, "from_variable_selector": selector}}  # fmt: skip

        error = FAIL_MESSAGE if plan.fail else None
        if error is None:
            error = yield from _stream_words(g, plan, delta, answer=answer, t0=t0, ttft=ttft)
        if error is not None:
            # README fact 12: no error event, only the failed node and run.
            yield {**wenv, "event": "node_finished",
                   "data": llm.finished(None, None, status="failed", error=error)}  # fmt: skip
            yield {**wenv, "event": "workflow_finished",
                   "data": run.finished("failed", None, error, 0, 2)}  # fmt: skip
            return
        if g.task.stopped:
            yield {**wenv, "event": "workflow_finished",
                   "data": run.finished("stopped", None, STOPPED, 0, 2)}  # fmt: skip
            return
        yield delta("")  # the provider's final (usage) chunk, as recorded
        text = "".join(answer)
        use = usage(wire, plan.prompt_tokens, len(answer), time.perf_counter() - t0,
                    ttft[0] if ttft else None)  # fmt: skip
        llm_out = {"text": text, "usage": use, "finish_reason": "stop"}
        yield {**wenv, "event": "node_finished", "data": llm.finished(None, llm_out)}
        end = Node(wire, 3, WORKFLOW_NODES[2], llm.node_id)
        outputs = {"result": text, "echo_count": count}
        yield {**wenv, "event": "node_started", "data": end.started()}
        yield {**wenv, "event": "node_finished", "data": end.finished(outputs, outputs)}
        yield {
            **wenv,
            "event": "workflow_finished",
            "data": run.finished("succeeded", outputs, None, use["total_tokens"], 3),
        }
    finally:
        g.store.end_task(g.task)
