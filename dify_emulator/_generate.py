"""Deterministic answers and the event streams of chat, completion and agent apps."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from dify_emulator._answers import (
    JSON_ASK,
    Passage,
    compose,
    context_passages,
    json_answer,
    malformed,
    question_of,
    thinking,
)
from dify_emulator._apps import AppSpec
from dify_emulator._extras import (
    MODERATED_ANSWER,
    TtsStream,
    delta_event,
    moderated,
    quote,
    replace_event,
)
from dify_emulator._faults import EventItem, Faults
from dify_emulator._http import Sleep
from dify_emulator._retrieval import render_resources, retrieve, to_resource
from dify_emulator._store import Store, Task
from dify_emulator._wire import Wire

__all__ = [
    "FAIL_MESSAGE",
    "Gen",
    "Plan",
    "agent_events",
    "make_plan",
    "message_events",
    "metadata",
    "usage",
]

FAIL_MESSAGE: Final = (
    "[emulator] Error: API request failed with status code 500: "
    '{"error": {"message": "emulated LLM failure (fail500)", "type": "server_error"}}'
)
SLOW_PAUSE: Final = 0.2
SLOW_TICKS: Final = 40
SYSTEM_PROMPT_TOKENS: Final = 12
_WORDS: Final = re.compile(r"\S+\s*")
_LONG: Final = re.compile(r"\blong\s*[=:]?\s*(\d+)", re.IGNORECASE)
_TIME: Final = re.compile(r"\b(time|date|clock|today|now)\b", re.IGNORECASE)
_TOOL_LABELS: Final = {
    "current_time": {
        "zh_Hans": "获取当前时间",
        "en_US": "Current Time",
        "pt_BR": "Current Time",
        "ja_JP": "Current Time",
    }
}


@dataclass(slots=True)
class Gen:
    """Everything one generation needs."""

    spec: AppSpec
    wire: Wire
    store: Store
    task: Task
    user: str
    end_user_id: str
    query: str
    inputs: dict[str, Any]
    files: list[dict[str, Any]]
    conversation_id: str | None
    message_id: str
    created: float
    history: list[dict[str, Any]]
    dataset_ids: list[str] = field(default_factory=list)
    knowledge: list[str] = field(default_factory=list)
    opts: Faults = field(default_factory=Faults)
    streaming: bool = True

    @property
    def created_at(self) -> int:
        """Integer creation time, as every event carries it."""
        return int(self.created)


@dataclass(slots=True)
class Plan:
    """What to stream: the deltas, the pause between them and whether the LLM fails."""

    words: list[str]
    pause: float
    fail: bool
    prompt_tokens: int
    resources: list[dict[str, Any]]


def _files_note(files: list[dict[str, Any]]) -> str | None:
    if not files:
        return None
    images = sum(1 for f in files if f.get("type") == "image")
    others = len(files) - images
    parts = []
    if images:
        parts.append(f"{images} image{'s' if images != 1 else ''}")
    if others:
        parts.append(f"{others} file{'s' if others != 1 else ''}")
    return f"I received {' and '.join(parts)}."


def make_plan(g: Gen, prefix: str = "", *, use_retrieval: bool, citation: bool = True) -> Plan:
    """Compose the deterministic answer and cut it into word deltas.

    The answer quotes the sentence most relevant to the prompt's question from the prompt's
    own context or the emulator's notes (``g.knowledge``); with ``use_retrieval`` the hits
    come from ``g.dataset_ids`` and are cited. A prompt carrying a JSON Schema is answered
    with a JSON instance of it (and nothing else).
    """
    question = question_of(g.query.split(JSON_ASK, 1)[0])
    hits = []
    if use_retrieval and g.dataset_ids:
        hits = retrieve(g.store, g.dataset_ids, question or g.query, top_k=3)
    elif g.knowledge:
        hits = retrieve(g.store, g.knowledge, question or g.query, top_k=3)
    resources: list[dict[str, Any]] = []
    if use_retrieval and citation:
        resources = [to_resource(seg, sc, i) for i, (seg, sc) in enumerate(hits, start=1)]
    passages = sum(len(seg["content"].split()) for seg, _ in hits) if resources else 0
    candidates = context_passages(g.query)
    candidates += [Passage(seg["content"], seg["document_name"]) for seg, _ in hits]
    answer = compose(question, candidates)
    structured = json_answer(g.query, question, answer)
    lowered = g.query.lower()
    if structured is not None:
        # "malformed" in the question: the JSON comes back spoilt (for parser-error tests)
        spoilt = "malformed" in g.query.split(JSON_ASK, 1)[0].lower()
        words = _WORDS.findall(malformed(structured) if spoilt else structured)
    else:
        parts: list[str] = []
        if g.history:
            parts.append(f'Earlier you asked: "{quote(question_of(g.history[-1]["query"]))}".')
        note = _files_note(g.files)
        if note:
            parts.append(note)
        if prefix:
            parts.append(prefix)
        parts.append(answer)
        words = _WORDS.findall(" ".join(parts))
    pause = 0.0
    if structured is None and "slow" in lowered:
        words[-1] = words[-1].rstrip() + " "
        words += [f"tick{i} " for i in range(1, SLOW_TICKS + 1)]
        words[-1] = words[-1].rstrip()
        pause = SLOW_PAUSE
    m = _LONG.search(g.query)
    if structured is None and m:
        n = min(int(m.group(1)), 1_000_000)
        words[-1] = words[-1].rstrip() + " "
        words += [f"w{i} " for i in range(1, n + 1)]
        words[-1] = words[-1].rstrip()
    if g.spec.reasoning == "tags":  # a reasoning model that thinks inline (<think> block)
        words = _WORDS.findall(f"<think>\n{thinking(g.query)}\n</think>\n\n") + words
    history_tokens = sum(len((h["query"] + " " + h["answer"]).split()) for h in g.history)
    prompt = SYSTEM_PROMPT_TOKENS + len(g.query.split()) + passages + history_tokens
    return Plan(words, pause, "fail500" in lowered, prompt, resources)


_UNIT: Final = Decimal("0.001")
_PROMPT_PRICE: Final = Decimal("0.0015")
_COMPLETION_PRICE: Final = Decimal("0.002")
_Q: Final = Decimal("0.0000001")


def usage(
    wire: Wire, prompt_tokens: int, completion_tokens: int, latency: float, ttft: float | None
) -> dict[str, Any]:
    """A Dify ``usage`` dict: int tokens, Decimal-string prices, float latency."""
    pp = (prompt_tokens * _PROMPT_PRICE * _UNIT).quantize(_Q)
    cp = (completion_tokens * _COMPLETION_PRICE * _UNIT).quantize(_Q)
    out: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "prompt_unit_price": str(_PROMPT_PRICE),
        "prompt_price_unit": str(_UNIT),
        "prompt_price": str(pp),
        "completion_tokens": completion_tokens,
        "completion_unit_price": str(_COMPLETION_PRICE),
        "completion_price_unit": str(_UNIT),
        "completion_price": str(cp),
        "total_tokens": prompt_tokens + completion_tokens,
        "total_price": str(pp + cp),
        "currency": "USD",
        "latency": round(latency, 6),
    }
    if not wire.v015:
        out["time_to_first_token"] = None if ttft is None else round(ttft, 6)
        out["time_to_generate"] = None if ttft is None else round(max(latency - ttft, 0.0), 6)
    return out


def metadata(
    wire: Wire, resources: list[dict[str, Any]], use: dict[str, Any], *, citation: bool
) -> dict[str, Any]:
    """``message_end`` / blocking metadata (0.15: sparse; 1.x: always three keys)."""
    if wire.v015:
        md: dict[str, Any] = {}
        if citation and resources:
            md["retriever_resources"] = render_resources(resources, v015=True)
        md["usage"] = use
        return md
    return {
        "annotation_reply": None,
        "retriever_resources": render_resources(resources, v015=False),
        "usage": use,
    }


def _envelope(g: Gen) -> dict[str, Any]:
    env: dict[str, Any] = {"event": ""}
    if g.spec.mode != "completion":
        env["conversation_id"] = g.conversation_id
    env["message_id"] = g.message_id
    env["created_at"] = g.created_at
    return env


def message_events(g: Gen) -> Generator[EventItem, None, None]:
    """Chat / completion: deltas, [``message_replace``], ``message_end`` [, TTS] (or ``error``).

    Deltas are ``message`` events (``message_file`` under trap T5) ending with an empty one,
    as the recorded provider sends; TTS audio lags the text and ends after ``message_end``.
    """
    t0 = time.perf_counter()
    plan = make_plan(g, use_retrieval=True)
    env = _envelope(g)
    tid, mid = g.task.task_id, g.message_id
    name = delta_event(g)
    tts = TtsStream(g, env) if TtsStream.enabled(g) else None
    answer: list[str] = []
    replaced: str | None = None
    error: str | None = None
    ttft: float | None = None

    def delta(text: str) -> dict[str, Any]:
        return {**env, "event": name, "task_id": tid, "id": mid, "answer": text,
                "from_variable_selector": None}  # fmt: skip

    try:
        if plan.fail:
            error = FAIL_MESSAGE
            yield {
                **env,
                "event": "error",
                "code": "completion_request_error",
                "status": 400,
                "message": FAIL_MESSAGE,
            }
            return
        for i, word in enumerate(plan.words):
            if plan.pause and i:
                yield Sleep(plan.pause)
            if g.task.stopped:
                break
            if ttft is None:
                ttft = time.perf_counter() - t0
            answer.append(word)
            yield delta(word)
            if tts is not None:
                yield from tts.feed(word)
        if not g.task.stopped:
            yield delta("")
            if moderated(g):
                replaced = MODERATED_ANSWER
                yield replace_event(g, env)
        use = usage(g.wire, plan.prompt_tokens, len(answer), time.perf_counter() - t0, ttft)
        md = metadata(g.wire, plan.resources, use, citation=g.spec.citation)
        yield {**env, "event": "message_end", "task_id": tid, "id": mid, "metadata": md,
               "files": None}  # fmt: skip
        if tts is not None:
            yield from tts.finish()
    finally:
        final = replaced if replaced is not None else "".join(answer)
        g.store.finish_message(
            mid, answer=final, resources=plan.resources, thoughts=[], error=error
        )
        g.store.end_task(g.task)


def _thought(
    env: dict[str, Any], tid: str, thought_id: str, position: int, **kw: Any
) -> dict[str, Any]:
    return {
        **env,
        "event": "agent_thought",
        "task_id": tid,
        "id": thought_id,
        "position": position,
        "thought": kw.get("thought", ""),
        "observation": kw.get("observation", ""),
        "tool": kw.get("tool", ""),
        "tool_labels": kw.get("tool_labels", {}),
        "tool_input": kw.get("tool_input", ""),
        "message_files": [],
    }


def _stored_thought(ev: dict[str, Any], created_at: int) -> dict[str, Any]:
    return {
        "id": ev["id"],
        "chain_id": None,
        "message_id": ev["message_id"],
        "position": ev["position"],
        "thought": ev["thought"],
        "tool": ev["tool"],
        "tool_labels": ev["tool_labels"],
        "tool_input": ev["tool_input"],
        "created_at": created_at,
        "observation": ev["observation"],
    }


def agent_events(g: Gen) -> Generator[EventItem, None, None]:
    """Agent chat: ``agent_thought`` upserts, ``agent_message`` deltas, ``message_end``."""
    import uuid  # noqa: PLC0415

    t0 = time.perf_counter()
    use_tool = not g.history or bool(_TIME.search(g.query))
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    prefix = f"It is {now} UTC according to the current_time tool." if use_tool else ""
    plan = make_plan(g, prefix, use_retrieval=False)
    env = _envelope(g)
    tid, mid = g.task.task_id, g.message_id
    answer: list[str] = []
    thoughts: dict[str, dict[str, Any]] = {}
    ttft: float | None = None
    error: str | None = None
    replaced: str | None = None

    def delta(text: str) -> dict[str, Any]:
        return {**env, "event": "agent_message", "task_id": tid, "id": mid, "answer": text}

    try:
        if plan.fail:
            error = FAIL_MESSAGE
            yield {**env, "event": "error", "code": "completion_request_error", "status": 400,
                   "message": FAIL_MESSAGE}  # fmt: skip
            return
        # As recorded: the first thought, then two empty agent_message events.
        t1 = str(uuid.uuid4())
        thoughts[t1] = ev = _thought(env, tid, t1, 1)
        yield ev
        yield delta("")
        yield delta("")
        position = 1
        if use_tool:
            tool = {"tool": "current_time", "tool_labels": _TOOL_LABELS,
                    "tool_input": json.dumps({"current_time": {}})}  # fmt: skip
            observation = json.dumps({"current_time": now})
            for ev in (
                _thought(env, tid, t1, 1, **tool),
                _thought(env, tid, t1, 1, observation=observation, **tool),
            ):
                thoughts[t1] = ev
                yield ev
            position = 2
            t2 = str(uuid.uuid4())
            thoughts[t2] = ev = _thought(env, tid, t2, position)
            yield ev
        else:
            t2 = t1
        for i, word in enumerate(plan.words):
            if plan.pause and i:
                yield Sleep(plan.pause)
            if g.task.stopped:
                break
            if ttft is None:
                ttft = time.perf_counter() - t0
            answer.append(word)
            yield delta(word)
        if not g.task.stopped:
            yield delta("")
        thoughts[t2] = ev = _thought(env, tid, t2, position, thought="".join(answer))
        yield ev
        if not g.task.stopped and moderated(g):
            replaced = MODERATED_ANSWER
            yield replace_event(g, env)
        use = usage(g.wire, plan.prompt_tokens, len(answer), time.perf_counter() - t0, ttft)
        md = metadata(g.wire, [], use, citation=False)
        yield {**env, "event": "message_end", "task_id": tid, "id": mid, "metadata": md,
               "files": None}  # fmt: skip
    finally:
        stored = [_stored_thought(t, g.created_at) for t in thoughts.values()]
        final = replaced if replaced is not None else "".join(answer)
        g.store.finish_message(mid, answer=final, resources=[], thoughts=stored, error=error)
        g.store.end_task(g.task)
