"""Generation endpoints: chat, completion, workflow runs, stop, run detail and logs."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Generator
from email.utils import formatdate
from typing import Any, Final

from dify_emulator._context import (
    MODE_MESSAGE,
    Ctx,
    Events,
    Route,
    check_inputs,
    check_uuid,
    not_found,
)
from dify_emulator._faults import EventItem, Faults, is_delta
from dify_emulator._generate import Gen, agent_events, message_events
from dify_emulator._hitl import review_events
from dify_emulator._http import Response
from dify_emulator._wire import ApiError, ParamError
from dify_emulator._workflow import chatflow_events, workflow_events

__all__ = ["ROUTES", "auto_name", "file_url"]

_MISSING: Final = object()
_METHODS: Final = ("remote_url", "local_file")


def auto_name(query: str) -> str:
    """The deterministic "LLM-generated" conversation name."""
    q = " ".join(query.split())
    return f"Chat about {q[:40]}{'…' if len(q) > 40 else ''}"


def file_url(ctx: Ctx, file_id: str) -> str:
    """A signed-looking preview URL for an uploaded file."""
    ts = int(time.time())
    nonce = secrets.token_hex(16)
    sign = secrets.token_urlsafe(32)
    return f"{ctx.root_url}/files/{file_id}/file-preview?timestamp={ts}&nonce={nonce}&sign={sign}"


def _response_mode(body: dict[str, Any]) -> bool:
    mode = body.get("response_mode") or "blocking"
    if mode not in ("streaming", "blocking"):
        raise ParamError("response_mode", f"{mode} is not a valid choice")
    return mode == "streaming"


def _inputs(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("inputs", _MISSING)
    if inputs is _MISSING or inputs is None:
        raise ctx.missing("inputs")
    if not isinstance(inputs, dict):
        raise ParamError("inputs", "Input should be a valid dictionary")
    return inputs


def _files(ctx: Ctx, eu: str, raw: Any) -> list[dict[str, Any]]:
    if not raw:
        return []
    if not isinstance(raw, list):
        raise ParamError("files", "Input should be a valid list")
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise ApiError(400, "invalid_param", "Invalid file")
        method = item.get("transfer_method")
        if method not in _METHODS:
            raise ApiError(400, "invalid_param", f"No matching enum found for value '{method}'")
        ftype = item.get("type") or "image"
        if method == "local_file":
            fid = str(item.get("upload_file_id") or "")
            rec = ctx.store.file(ctx.app.name, eu, fid)
            if rec is None:
                raise ApiError(400, "invalid_param", "Invalid upload file")
            out.append({"id": str(uuid.uuid4()), "filename": rec["name"], "type": ftype,
                        "url": file_url(ctx, fid), "mime_type": rec["mime_type"],
                        "size": rec["size"], "transfer_method": method, "belongs_to": "user",
                        "upload_file_id": fid})  # fmt: skip
        else:
            url = item.get("url")
            if not isinstance(url, str) or not url:
                raise ApiError(400, "invalid_param", "Invalid file url")
            name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] or "file"
            out.append({"id": str(uuid.uuid4()), "filename": name, "type": ftype, "url": url,
                        "mime_type": None, "size": -1, "transfer_method": method,
                        "belongs_to": "user", "upload_file_id": None})  # fmt: skip
    return out


def _drain(gen: Generator[EventItem, None, None]) -> list[dict[str, Any]]:
    try:
        events = [e for e in gen if isinstance(e, dict)]
    finally:
        gen.close()
    for e in events:
        if e["event"] == "error":
            raise ApiError(int(e["status"]), str(e["code"]), str(e["message"]))
    return events


def _paused_data(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    paused = next((e for e in events if e["event"] == "workflow_paused"), None)
    return None if paused is None else dict(paused["data"])


def _blocking_message(ctx: Ctx, g: Gen, gen: Generator[EventItem, None, None]) -> Response:
    events = _drain(gen)
    paused = _paused_data(events)
    if paused is not None:  # returns at the pause (RW, verified against 1.17.1)
        answer = "".join(e["answer"] for e in events if e["event"] == "message")
        return ctx.wire.blocking({"event": "workflow_paused", "task_id": g.task.task_id,
                                  "id": g.message_id, "message_id": g.message_id,
                                  "conversation_id": g.conversation_id, "mode": g.spec.mode,
                                  "answer": answer, "workflow_run_id": paused["workflow_run_id"],
                                  "data": paused, "reasons": paused["reasons"],
                                  "created_at": g.created_at})  # fmt: skip
    end = next(e for e in events if e["event"] == "message_end")
    parts: list[str] = []
    for e in events:
        if e["event"] == "message_replace":
            parts = [e["answer"]]
        elif is_delta(e) and "answer" in e:
            parts.append(e["answer"])
    answer = "".join(parts)
    body: dict[str, Any] = {"event": "message", "task_id": g.task.task_id, "id": g.message_id,
                            "message_id": g.message_id}  # fmt: skip
    if g.spec.mode != "completion":
        body["conversation_id"] = g.conversation_id
    body.update(mode=g.spec.mode, answer=answer, metadata=end["metadata"],
                created_at=g.created_at)  # fmt: skip
    return ctx.wire.blocking(body)


def chat_messages(ctx: Ctx) -> Response | Events:
    """``POST /chat-messages``."""
    body = ctx.json()
    user = ctx.body_user()
    ctx.require_chat()
    spec = ctx.app
    inputs = _inputs(ctx, body)
    if "query" not in body or body["query"] is None:
        raise ctx.missing("query")
    query = body["query"]
    if not isinstance(query, str):
        raise ParamError("query", "Input should be a valid string")
    streaming = _response_mode(body)
    raw_cid = body.get("conversation_id")
    cid = None
    if isinstance(raw_cid, str) and raw_cid.strip():
        cid = check_uuid("conversation_id", raw_cid.strip())
    if spec.mode == "agent-chat" and not streaming:
        raise ApiError(400, "invalid_param", "Agent Chat App does not support blocking mode")
    query = query.replace("\x00", "")
    if not query.strip():
        raise ApiError(400, "invalid_param", "query is required")
    eu = ctx.end_user(user)
    history: list[dict[str, Any]] = []
    if cid is not None:
        conv = ctx.store.conversation(spec.name, eu, cid)
        if conv is None:
            raise not_found("Conversation Not Exists.")
        inputs = conv["inputs"]
        history = ctx.store.history(cid)
    else:
        inputs = check_inputs(spec, inputs)
    files = _files(ctx, eu, body.get("files"))
    if cid is None:
        if body.get("auto_generate_name", True) is not False:
            name = auto_name(query)
        elif ctx.wire.v015:
            name = "New conversation"
        else:
            name = query[:20] + "…" if len(query) > 20 else query
        cid = ctx.store.create_conversation(spec.name, eu, name, inputs)
    return _start(
        ctx,
        user=user,
        eu=eu,
        query=query,
        inputs=inputs,
        files=files,
        cid=cid,
        history=history,
        streaming=streaming,
    )


def _start(
    ctx: Ctx,
    *,
    user: str,
    eu: str,
    query: str,
    inputs: dict[str, Any],
    files: list[dict[str, Any]],
    cid: str | None,
    history: list[dict[str, Any]],
    streaming: bool,
) -> Response | Events:
    spec = ctx.app
    mid, created = "", time.time()
    if spec.mode != "workflow":
        mid, created = ctx.store.create_message(
            app=spec.name, eu=eu, conversation_id=cid, query=query, inputs=inputs, files=files
        )
    task = ctx.store.start_task(spec.name, eu, user)
    knowledge = ctx.core.attached_datasets()
    datasets = knowledge if spec.citation else []
    g = Gen(spec, ctx.wire, ctx.store, task, user, eu, query, inputs, files, cid, mid, created,
            history, datasets, knowledge, ctx.faults or Faults(), streaming)  # fmt: skip
    make = {"chat": message_events, "completion": message_events, "agent-chat": agent_events,
            "advanced-chat": chatflow_events, "workflow": workflow_events}[spec.mode]  # fmt: skip
    gen = review_events(g, ctx) if spec.human_input else make(g)
    if spec.mode in ("advanced-chat", "workflow") and not ctx.wire.v015:
        opts = ctx.faults or Faults()
        gen = ctx.core.runs.track(
            gen, app=spec.name, user=user,
            detach_after=opts.detach_after if streaming else None,
            delay=opts.delay if opts.delay is not None else ctx.core.delay,
        )  # fmt: skip
    if streaming:
        # Workflow-engine apps fail with workflow_finished(failed), not a bare error event.
        return Events(gen, own_errors=spec.mode in ("advanced-chat", "workflow"))
    if spec.mode == "workflow":
        return _blocking_workflow(ctx, g, gen)
    return _blocking_message(ctx, g, gen)


def completion_messages(ctx: Ctx) -> Response | Events:
    """``POST /completion-messages``."""
    body = ctx.json()
    user = ctx.body_user()
    if ctx.app.mode != "completion":
        raise ApiError(
            400, "app_unavailable", "App unavailable, please check your app configurations."
        )
    inputs = check_inputs(ctx.app, _inputs(ctx, body))
    streaming = _response_mode(body)
    eu = ctx.end_user(user)
    files = _files(ctx, eu, body.get("files"))
    query = str(inputs.get("query") or body.get("query") or "")
    return _start(
        ctx,
        user=user,
        eu=eu,
        query=query,
        inputs=inputs,
        files=files,
        cid=None,
        history=[],
        streaming=streaming,
    )


def _require_workflow(ctx: Ctx) -> None:
    if ctx.app.mode != "workflow":
        raise ApiError(400, "not_workflow_app", MODE_MESSAGE)


def workflows_run(ctx: Ctx) -> Response | Events:
    """``POST /workflows/run``."""
    body = ctx.json()
    user = ctx.body_user()
    _require_workflow(ctx)
    inputs = check_inputs(ctx.app, _inputs(ctx, body))
    streaming = _response_mode(body)
    eu = ctx.end_user(user)
    files = _files(ctx, eu, body.get("files"))
    return _start(
        ctx,
        user=user,
        eu=eu,
        query=str(inputs.get("text") or ""),
        inputs=inputs,
        files=files,
        cid=None,
        history=[],
        streaming=streaming,
    )


def workflows_run_pinned(ctx: Ctx) -> Response | Events:
    """``POST /workflows/{workflow_id}/run`` (1.x)."""
    ctx.json()
    ctx.body_user()
    _require_workflow(ctx)
    wid = ctx.params["workflow_id"]
    try:
        uuid.UUID(wid)
    except ValueError:
        raise ApiError(400, "bad_request", f"Invalid workflow_id format: '{wid}'. ") from None
    if wid != ctx.app.workflow_id:
        raise not_found(f"Workflow not found with id: {wid}")
    return workflows_run(ctx)


def _blocking_workflow(ctx: Ctx, g: Gen, gen: Generator[EventItem, None, None]) -> Response:
    events = _drain(gen)
    paused = _paused_data(events)
    if paused is not None:  # returns at the pause with the forms (RW, 1.17.1)
        started = next(e for e in events if e["event"] == "workflow_started")["data"]
        return ctx.wire.blocking({"task_id": g.task.task_id, "workflow_run_id": started["id"],
                                  "data": {"id": started["id"],
                                           "workflow_id": started["workflow_id"],
                                           "status": "paused", "outputs": {}, "error": None,
                                           "elapsed_time": paused["elapsed_time"],
                                           "total_tokens": paused["total_tokens"],
                                           "total_steps": paused["total_steps"],
                                           "created_at": started["created_at"],
                                           "finished_at": None,
                                           "reasons": paused["reasons"]}})  # fmt: skip
    fin = next(e for e in events if e["event"] == "workflow_finished")["data"]
    keys = ("id", "workflow_id", "status", "outputs", "error", "elapsed_time", "total_tokens",
            "total_steps", "created_at", "finished_at")  # fmt: skip
    return ctx.wire.blocking(
        {
            "task_id": g.task.task_id,
            "workflow_run_id": fin["id"],
            "data": {k: fin[k] for k in keys},
        }
    )


def _stop(ctx: Ctx, *, check_user: bool) -> Response:
    user = ctx.body_user()
    task_id = ctx.params["task_id"]
    ctx.core.record_stop(task_id, user, ctx.app.name)
    ctx.store.stop_task(task_id, ctx.app.name, user, check_user=check_user)
    return ctx.wire.json({"result": "success"})


def chat_stop(ctx: Ctx) -> Response:
    """``POST /chat-messages/{task_id}/stop``."""
    ctx.json()
    ctx.body_user()
    ctx.require_chat()
    return _stop(ctx, check_user=True)


def completion_stop(ctx: Ctx) -> Response:
    """``POST /completion-messages/{task_id}/stop``."""
    ctx.json()
    ctx.body_user()
    if ctx.app.mode != "completion":
        raise ApiError(
            400, "app_unavailable", "App unavailable, please check your app configurations."
        )
    return _stop(ctx, check_user=True)


def workflow_stop(ctx: Ctx) -> Response:
    """``POST /workflows/tasks/{task_id}/stop`` (0.15 checks the user; 1.x does not)."""
    ctx.json()
    ctx.body_user()
    _require_workflow(ctx)
    return _stop(ctx, check_user=ctx.wire.v015)


def _ts(ctx: Ctx, t: float | None) -> Any:
    if t is None:
        return None
    return formatdate(t, usegmt=False) if ctx.wire.v015 else int(t)


def workflow_run_detail(ctx: Ctx) -> Response:
    """``GET /workflows/run/{run_id}`` (unknown id: 200 with every field null)."""
    allowed = ("workflow",) if ctx.wire.v015 else ("workflow", "advanced-chat")
    if ctx.app.mode not in allowed:
        raise ApiError(400, "not_workflow_app", MODE_MESSAGE)
    run = ctx.store.run(ctx.params["run_id"])
    if run is None or (not ctx.wire.v015 and run["app"] != ctx.app.name):
        return ctx.wire.json({"id": None, "workflow_id": None, "status": None, "inputs": None,
                              "outputs": None, "error": None, "total_steps": 0,
                              "total_tokens": 0, "created_at": None, "finished_at": None,
                              "elapsed_time": None})  # fmt: skip
    return ctx.wire.json({"id": run["id"], "workflow_id": run["workflow_id"],
                          "status": run["status"], "inputs": run["inputs"],
                          "outputs": run["outputs"], "error": run["error"],
                          "total_steps": run["total_steps"], "total_tokens": run["total_tokens"],
                          "created_at": _ts(ctx, run["created"]),
                          "finished_at": _ts(ctx, run["finished"]),
                          "elapsed_time": run["elapsed"]})  # fmt: skip


def workflow_logs(ctx: Ctx) -> Response:
    """``GET /workflows/logs`` (page/limit pagination)."""
    try:
        page = max(int(ctx.req.query.get("page") or 1), 1)
        limit = int(ctx.req.query.get("limit") or 20)
    except ValueError:
        raise ParamError("page", "Invalid page or limit") from None
    if not 1 <= limit <= 100:
        raise ParamError("limit", f"Invalid limit: {limit}. Must be between 1 and 100.")
    runs, total = ctx.store.list_runs(ctx.app.name, page, limit, ctx.req.query.get("status"))
    data = []
    for r in runs:
        created = int(r["created"])
        data.append({
            "id": str(uuid.uuid5(uuid.UUID(r["id"]), "log")),
            "workflow_run": {"id": r["id"], "version": "2026-01-01 00:00:00.000000",
                             "status": r["status"], "error": r["error"],
                             "elapsed_time": r["elapsed"], "total_tokens": r["total_tokens"],
                             "total_steps": r["total_steps"], "created_at": created,
                             "finished_at": int(r["finished"]) if r["finished"] else None,
                             "exceptions_count": 0},
            "created_from": "service-api", "created_by_role": "end_user",
            "created_by_account": None,
            "created_by_end_user": {"id": r["end_user_id"], "type": "service_api",
                                    "is_anonymous": False, "session_id": r["session_id"]},
            "created_at": created,
        })  # fmt: skip
    return ctx.wire.json({"page": page, "limit": limit, "total": total,
                          "has_more": page * limit < total, "data": data})  # fmt: skip


ROUTES: Final = [
    Route("POST", "/chat-messages", chat_messages),
    Route("POST", "/chat-messages/{task_id}/stop", chat_stop),
    Route("POST", "/completion-messages", completion_messages),
    Route("POST", "/completion-messages/{task_id}/stop", completion_stop),
    Route("POST", "/workflows/run", workflows_run),
    Route("POST", "/workflows/{workflow_id}/run", workflows_run_pinned, wire="1.x"),
    Route("POST", "/workflows/tasks/{task_id}/stop", workflow_stop),
    Route("GET", "/workflows/run/{run_id}", workflow_run_detail),
    Route("GET", "/workflows/logs", workflow_logs),
]
