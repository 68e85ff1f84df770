"""`StreamAccumulator`: the pure fold of Dify events into a `Result`.

Also builds `Result` from blocking bodies, so both paths give the same shape.
Deltas are appended to a list and joined on demand (no string concatenation per
delta); ``message_replace`` replaces the text; ``agent_thought`` is upserted by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dify_transport._events import TERMINAL_EVENTS, TEXT_EVENTS, StreamEvent, text_of
from dify_transport._progress import PROGRESS_EVENTS, NodeProgress
from dify_transport._reasoning import ThinkSplitter, split_think
from dify_transport.types import Result

__all__ = ["StreamAccumulator", "result_from_blocking", "workflow_answer"]

_ANSWER_KEYS = ("answer", "text", "result", "output")
_IDS = (
    ("task_id", str),
    ("conversation_id", str),  # a non-empty one only
    ("message_id", str),
    ("workflow_run_id", str),
    ("created_at", int),
)


def workflow_answer(outputs: object) -> str:
    """Pick the text answer of a workflow from its outputs.

    Args:
        outputs: The ``outputs`` object of a workflow run.

    Returns:
        ``answer``/``text``/``result``/``output`` if one is a string, else the only
        string value, else ``""``.
    """
    if not isinstance(outputs, Mapping):
        return ""
    for key in _ANSWER_KEYS:
        value = outputs.get(key)
        if isinstance(value, str):
            return value
    strings = [v for v in outputs.values() if isinstance(v, str)]
    return strings[0] if len(strings) == 1 else ""


def _metadata_parts(metadata: object) -> tuple[dict[str, Any], Any, list[Any]]:
    if not isinstance(metadata, Mapping):
        return {}, None, []
    usage = metadata.get("usage")
    resources = metadata.get("retriever_resources") or []
    return dict(metadata), usage, list(resources)


def _paused_run(forms: Mapping[str, Any], reasons: object, **ids: Any) -> dict[str, Any]:
    """A `PausedRun` dict from the ``human_input_required`` forms and pause ``reasons``."""
    pending = {str(k): dict(v) for k, v in forms.items()}
    for reason in reasons if isinstance(reasons, list) else []:
        node = reason.get("node_id") if isinstance(reason, Mapping) else None
        if isinstance(node, str) and reason.get("TYPE", "human_input_required") == (
            "human_input_required"
        ):
            pending.setdefault(node, dict(reason))
    return {**ids, "forms": pending}


def result_from_blocking(body: Mapping[str, Any], user: str | None = None) -> Result:
    """Build a `Result` from a blocking chat/completion/workflow body.

    Args:
        body: The decoded JSON body.
        user: The call's Dify user (a paused run is answered as it).

    Returns:
        The result (workflow status is not judged here).
    """
    if "data" in body and isinstance(body.get("data"), Mapping) and "answer" not in body:
        data = body["data"]
        outputs = data.get("outputs")
        usage = None
        if data.get("total_tokens") is not None:
            usage = {"total_tokens": data.get("total_tokens")}
        status = data.get("status")
        paused = None
        if status == "paused":
            paused = _paused_run(
                {},
                data.get("reasons"),
                workflow_run_id=body.get("workflow_run_id") or data.get("workflow_run_id"),
                task_id=body.get("task_id"),
                user=user,
                conversation_id=body.get("conversation_id"),
                message_id=body.get("message_id"),
                outputs=outputs if isinstance(outputs, Mapping) else {},
            )
        finish = {"stopped": "stopped", "paused": "paused"}.get(str(status), "stop")
        return Result.model_validate(
            {
                "paused": paused,
                "answer": workflow_answer(outputs),
                "task_id": body.get("task_id"),
                "workflow_run_id": body.get("workflow_run_id") or data.get("id"),
                "mode": "workflow",
                "outputs": outputs if isinstance(outputs, Mapping) else None,
                "status": status,
                "error": data.get("error"),
                "usage": usage,
                "finish_reason": finish,
                "created_at": data.get("created_at"),
            }
        )
    metadata, usage, resources = _metadata_parts(body.get("metadata"))
    answer, reasoning = split_think(str(body.get("answer") or ""))
    return Result.model_validate(
        {
            "answer": answer,
            "reasoning": reasoning,
            "conversation_id": body.get("conversation_id") or None,
            "message_id": body.get("message_id") or body.get("id"),
            "task_id": body.get("task_id"),
            "mode": body.get("mode"),
            "usage": usage,
            "retriever_resources": resources,
            "metadata": metadata,
            "finish_reason": "stop",
            "created_at": body.get("created_at"),
        }
    )


def _file_key(file: Mapping[str, Any]) -> str | None:
    """Identity of a file dict: its id, else its url (None: cannot tell, keep it)."""
    for field in ("id", "url"):
        value = file.get(field)
        if isinstance(value, str) and value:
            return f"{field}:{value}"
    return None


class StreamAccumulator:
    """Fold events into the running aggregate of a stream.

    Example:
        ```python
        acc = StreamAccumulator()
        for data in decoded_events:
            event = acc.add(data)
        result = acc.result()
        ```
    """

    __slots__ = (
        "_chat_text",
        "_forms",
        "_parts",
        "_progress",
        "_reasoning",
        "_reasons",
        "_slow_text",
        "_think",
        "_thoughts",
        "conversation_id",
        "created_at",
        "error_event",
        "files",
        "message_id",
        "message_replace",
        "metadata",
        "mode",
        "outputs",
        "resumed",
        "retriever_resources",
        "start_reason",
        "status",
        "stopped",
        "task_id",
        "terminal",
        "usage",
        "user",
        "workflow_error",
        "workflow_run_id",
    )

    def __init__(self, user: str | None = None) -> None:
        self.user = user
        self._parts: list[str] = []
        self._reasoning: list[str] = []
        self._think: ThinkSplitter | None = ThinkSplitter()
        self._forms: dict[str, Any] = {}
        self._reasons: object = None
        self._progress = NodeProgress()
        self._slow_text = False
        """``message`` deltas take `_delta` (agent_message seen, or text_chunk won)."""
        self._chat_text: str | None = None
        """Which event carries a chat stream's answer (``message`` or ``text_chunk``)."""
        self.start_reason: str | None = None
        self._thoughts: dict[str, dict[str, Any]] = {}
        self.task_id: str | None = None
        self.conversation_id: str | None = None
        self.message_id: str | None = None
        self.workflow_run_id: str | None = None
        self.created_at: int | None = None
        self.mode: str | None = None
        self.usage: dict[str, Any] | None = None
        self.metadata: dict[str, Any] = {}
        self.retriever_resources: list[Any] = []
        self.files: list[dict[str, Any]] = []
        self.message_replace: str | None = None
        self.outputs: dict[str, Any] | None = None
        self.status: str | None = None
        self.workflow_error: str | None = None
        self.error_event: dict[str, Any] | None = None
        self.terminal = False
        self.stopped = False
        self.resumed = False

    @property
    def answer(self) -> str:
        """The text so far (or the moderation replacement)."""
        parts = self._parts
        if len(parts) > 1:
            joined = "".join(parts)
            self._parts = [joined]
            return joined
        return parts[0] if parts else ""

    def add(self, data: dict[str, Any]) -> StreamEvent:
        """Fold one decoded event and wrap it.

        Args:
            data: The event JSON.

        Returns:
            The `StreamEvent` (with its text delta, if any).
        """
        name = data.get("event")
        if name in TEXT_EVENTS:
            answer = data.get("answer")
            if type(answer) is str and not self._slow_text and name == "message":
                if self.task_id is None:
                    self._ids(data)
                if self._think is not None:
                    return self._text(data, name, answer)
                self._parts.append(answer)
                return StreamEvent(data, name, answer)
            return self._delta(name, answer, data)
        if not isinstance(name, str):
            name = "message"
        self._ids(data)
        text = text_of(data)
        if text is not None:
            if name == "text_chunk" and self.conversation_id is not None:
                return self._chat_chunk(data, text)
            return self._text(data, name, text)
        if name == "reasoning_chunk":
            return self._reasoning_chunk(data)
        self._other(name, data)
        event = StreamEvent(data, name)
        splitter = self._think
        if splitter is not None and name in ("message_end", "workflow_finished"):
            # the end came: what the splitter held back (blanks only, or an unclosed
            # <think> block) is this event's delta, so the deltas add up to the answer
            self._think = None
            answer, reasoning = splitter.pending()
            if answer:
                self._parts.append(answer)
                event.text = answer
            if reasoning:
                self._reasoning.append(reasoning)
                event.reasoning = reasoning
        return event

    def _chat_chunk(self, data: dict[str, Any], text: str) -> StreamEvent:
        """A chat stream's ``text_chunk``: its answer only when no ``message`` text came first.

        A server may send both for the same text; whichever carries text first is the
        answer, so it is never doubled (and a chat answer sent only as chunks is kept).
        """
        if self._chat_text is None and text:
            self._chat_text = "text_chunk"
            self._slow_text = True
        if self._chat_text != "text_chunk":
            return StreamEvent(data, "text_chunk")
        return self._text(data, "text_chunk", text)

    def _text(self, data: dict[str, Any], name: str, text: str) -> StreamEvent:
        """Append an answer delta; a leading ``<think>`` block goes to the reasoning."""
        if self._chat_text is None and text and name != "text_chunk":
            self._chat_text = "message"
        splitter = self._think
        if splitter is None:
            self._parts.append(text)
            return StreamEvent(data, name, text)
        answer, reasoning = splitter.feed(text)
        if splitter.done:
            self._think = None
        if answer:
            self._parts.append(answer)
        event = StreamEvent(data, name, answer or None)
        if reasoning:
            self._reasoning.append(reasoning)
            event.reasoning = reasoning
        return event

    def _reasoning_chunk(self, data: dict[str, Any]) -> StreamEvent:
        inner = data.get("data")
        text = inner.get("reasoning") if isinstance(inner, Mapping) else data.get("reasoning")
        event = StreamEvent(data, "reasoning_chunk")
        if isinstance(text, str) and text:
            self._reasoning.append(text)
            event.reasoning = text
        return event

    def _delta(self, name: str, answer: object, data: dict[str, Any]) -> StreamEvent:
        """The less common delta cases: agent deltas, non-string answers."""
        if self.task_id is None:
            self._ids(data)
        if not isinstance(answer, str) or self._chat_text == "text_chunk":
            return StreamEvent(data, name)  # a text_chunk carries this chat's answer
        if name == "agent_message":
            self._slow_text = True
        elif answer and answer == self.answer:
            return StreamEvent(data, name)  # New-Agent closing message repeats the answer
        return self._text(data, name, answer)

    def _ids(self, data: Mapping[str, Any]) -> None:
        """Take each id (and ``created_at``) from the first event carrying one."""
        for key, kind in _IDS:
            if getattr(self, key) is None:
                value = data.get(key)
                if isinstance(value, kind) and (value or key != "conversation_id"):
                    setattr(self, key, value)

    def _other(self, name: object, data: dict[str, Any]) -> None:
        if name in TERMINAL_EVENTS:
            self.terminal = True
        if name == "message_end":
            if self.message_id is None and isinstance(data.get("id"), str):
                self.message_id = data["id"]
            metadata, usage, resources = _metadata_parts(data.get("metadata"))
            self.metadata = metadata
            self.retriever_resources = resources
            if usage is not None:
                self.usage = usage
            self._add_files(data.get("files"))
        elif name == "agent_thought":
            key = str(data.get("id") or f"position-{data.get('position')}")
            self._thoughts[key] = data
        elif name == "message_file":
            self._add_files([data])
        elif name == "message_replace":
            answer = data.get("answer")
            text = answer if isinstance(answer, str) else ""
            self.message_replace = text
            self._parts = [text]
            self._think = None
            self._chat_text = self._chat_text or "message"
        elif name == "workflow_started":
            inner = data.get("data")
            if isinstance(inner, Mapping):
                reason = inner.get("reason")
                self.start_reason = reason if isinstance(reason, str) else self.start_reason
            if self.workflow_run_id is None and isinstance(inner, Mapping):
                run_id = inner.get("id")
                self.workflow_run_id = run_id if isinstance(run_id, str) else None
        elif name == "workflow_finished":
            inner = data.get("data")
            if isinstance(inner, Mapping):
                self.status = inner.get("status")
                outputs = inner.get("outputs")
                self.outputs = dict(outputs) if isinstance(outputs, Mapping) else None
                error = inner.get("error")
                self.workflow_error = error if isinstance(error, str) else None
                if self.usage is None and isinstance(inner.get("total_tokens"), int):
                    self.usage = {"total_tokens": inner["total_tokens"]}
                self._add_files(inner.get("files"))
        elif name in PROGRESS_EVENTS:
            self._progress.add(name, data.get("data"))
        elif name == "human_input_required":
            inner = data.get("data")
            if isinstance(inner, Mapping) and isinstance(inner.get("node_id"), str):
                self._forms[inner["node_id"]] = dict(inner)
        elif name == "workflow_paused":
            self._pause(data.get("data"))
        elif name == "error":
            self.error_event = data

    def replayed(self, data: Mapping[str, Any]) -> bool:
        """Whether a reconnected stream's event repeats what was folded already.

        Node, iteration, loop and agent-log events by execution id; the run's
        ``workflow_started`` once seen.
        """
        name = data.get("event")
        if name in PROGRESS_EVENTS:
            return self._progress.seen(str(name), data.get("data"))
        if name == "workflow_started":
            inner = data.get("data")
            run_id = inner.get("id") if isinstance(inner, Mapping) else None
            return run_id is not None and run_id == self.workflow_run_id
        return False

    def lost_ends(self) -> None:
        """After a resumed run ended: nodes whose end was not seen get status None."""
        self._progress.lost_ends()

    def replace_answer(self, text: str) -> None:
        """Set the whole answer (a resumed stream's text, completed from the run or message)."""
        answer, reasoning = split_think(text)
        self._parts = [answer]
        self._think = None
        if reasoning and len(reasoning) > len("".join(self._reasoning)):
            self._reasoning = [reasoning]

    def _pause(self, inner: object) -> None:
        self.status = "paused"
        if not isinstance(inner, Mapping):
            return
        outputs = inner.get("outputs")
        self.outputs = dict(outputs) if isinstance(outputs, Mapping) else self.outputs
        if self.workflow_run_id is None and isinstance(inner.get("workflow_run_id"), str):
            self.workflow_run_id = inner["workflow_run_id"]
        self._reasons = inner.get("reasons")

    def _add_files(self, files: object) -> None:
        """Add file dicts once each: chatflows repeat them in workflow_finished and message_end."""
        if not isinstance(files, list):
            return
        seen = {_file_key(f) for f in self.files}
        for file in files:
            if not isinstance(file, dict):
                continue
            key = _file_key(file)
            if key is not None and key in seen:
                continue
            seen.add(key)
            self.files.append(file)

    @property
    def workflow_failed(self) -> bool:
        """True when a ``workflow_finished`` reported ``status: "failed"``."""
        return self.status == "failed"

    def agent_thoughts(self) -> list[dict[str, Any]]:
        """Agent thoughts, one per id, in position order."""
        thoughts = list(self._thoughts.values())
        thoughts.sort(key=lambda t: t.get("position") or 0)
        return thoughts

    def result(self) -> Result:
        """Build the `Result` from everything folded so far."""
        held_answer, held_reasoning = self._think.pending() if self._think else ("", "")
        answer = self.answer + held_answer
        if not answer and self.outputs and self.message_id is None:
            answer = workflow_answer(self.outputs)
        stopped = self.stopped or self.status == "stopped"
        paused = None
        if self.status == "paused" and not stopped:
            paused = _paused_run(
                self._forms,
                self._reasons,
                workflow_run_id=self.workflow_run_id,
                task_id=self.task_id,
                user=self.user,
                mode=self.mode,
                conversation_id=self.conversation_id,
                message_id=self.message_id,
                outputs=self.outputs or {},
            )
        finish = "stopped" if stopped else "paused" if paused is not None else "stop"
        return Result.model_validate(
            {
                "answer": answer,
                "reasoning": "".join(self._reasoning) + held_reasoning,
                "nodes": self._progress.nodes(),
                "resumed": self.resumed,
                "start_reason": self.start_reason,
                "paused": paused,
                "conversation_id": self.conversation_id,
                "message_id": self.message_id,
                "task_id": self.task_id,
                "mode": self.mode,
                "usage": self.usage,
                "retriever_resources": self.retriever_resources,
                "agent_thoughts": self.agent_thoughts(),
                "files": self.files,
                "message_replace": self.message_replace,
                "workflow_run_id": self.workflow_run_id,
                "outputs": self.outputs,
                "status": self.status,
                "error": self.workflow_error,
                "finish_reason": finish,
                "metadata": self.metadata,
                "created_at": self.created_at,
            }
        )
