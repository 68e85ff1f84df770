"""1.x endpoints from the newest docs: variables, end users, file preview, annotations."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Final

from dify_emulator._apps import stable_id
from dify_emulator._context import Ctx, Route, check_limit, check_uuid, not_found
from dify_emulator._http import Response
from dify_emulator._wire import ApiError, ParamError

__all__ = ["ROUTES", "iso"]

_JOB_NS: Final = uuid.UUID("0b5e7a7e-8c35-4c4e-9d1e-2a1f6c7d8e90")


def iso(t: float) -> str:
    """An ISO 8601 date-time (UTC), as ``EndUserDetail`` / ``FeedbackItem`` carry them."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- conversation variables ----------------------------------------------------------------
def _conversation_id(ctx: Ctx, user: str) -> str:
    ctx.require_chat()
    cid = ctx.params["conversation_id"]
    if ctx.store.conversation(ctx.app.name, ctx.end_user(user), cid) is None:
        raise not_found("Conversation Not Exists.")
    return cid


def _variable(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "value_type": row["value_type"],
            "value": row["value"], "description": row["description"],
            "created_at": int(row["created"]), "updated_at": int(row["updated"])}  # fmt: skip


def list_variables(ctx: Ctx) -> Response:
    """``GET /conversations/{id}/variables`` (``last_id``, ``limit``, ``variable_name``)."""
    cid = _conversation_id(ctx, ctx.query_user())
    limit = check_limit(ctx)
    rows = ctx.store.variable_rows(cid) if ctx.app.variables else []
    name = ctx.req.query.get("variable_name")
    if name:
        rows = [r for r in rows if r["name"] == name]
    last_id = ctx.req.query.get("last_id")
    if last_id:
        ids = [r["id"] for r in rows]
        if last_id not in ids:
            raise ApiError(400, "invalid_param", "")
        rows = rows[ids.index(last_id) + 1 :]
    return ctx.wire.json({"limit": limit, "has_more": len(rows) > limit,
                          "data": [_variable(r) for r in rows[:limit]]})  # fmt: skip


def update_variable(ctx: Ctx) -> Response:
    """``PUT /conversations/{id}/variables/{variable_id}`` ``{value, user}``."""
    body = ctx.json()
    if "value" not in body:
        raise ctx.missing("value")
    cid = _conversation_id(ctx, ctx.body_user(required=False))
    vid = ctx.params["variable_id"]
    rows = {r["id"]: r for r in ctx.store.variable_rows(cid)} if ctx.app.variables else {}
    if vid not in rows:
        raise not_found("Conversation Variable Not Exists.")
    value, kind = body["value"], rows[vid]["value_type"]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if (kind == "number" and not number) or (kind == "string" and not isinstance(value, str)):
        got = type(value).__name__
        raise ApiError(400, "bad_request", f"Type mismatch: variable expects {kind}, got {got}")
    text = json.dumps(value) if number else str(value)
    fresh = ctx.store.set_variable(cid, vid, text)
    assert fresh is not None
    return ctx.wire.json(_variable(fresh))


# -- end users and files -------------------------------------------------------------------
def end_user(ctx: Ctx) -> Response:
    """``GET /end-users/{end_user_id}`` (ISO date-time timestamps)."""
    row = ctx.store.end_user_row(ctx.app.name, ctx.params["end_user_id"])
    if row is None:
        raise ApiError(404, "end_user_not_found", "End user not found.")
    session = row["session_id"]
    anonymous = session == "DEFAULT-USER"
    return ctx.wire.json({"id": row["id"], "tenant_id": stable_id("tenant"),
                          "app_id": ctx.app.app_id, "type": "service-api",
                          "external_user_id": None if anonymous else session, "name": None,
                          "is_anonymous": anonymous, "session_id": session,
                          "created_at": iso(row["created"]),
                          "updated_at": iso(row["created"])})  # fmt: skip


def file_preview(ctx: Ctx) -> Response:
    """``GET /files/{file_id}/preview[?as_attachment=true]``: the raw bytes."""
    rec = ctx.store.file_any(ctx.params["file_id"])
    if rec is None:
        raise ApiError(404, "file_not_found", "The requested file was not found.")
    if rec["app"] != ctx.app.name:
        raise ApiError(403, "file_access_denied", "Access to the requested file is denied.")
    headers = ctx.wire.headers(rec["mime_type"] or "application/octet-stream")
    if ctx.req.query.get("as_attachment", "").lower() == "true":
        headers.append(("Content-Disposition", f'attachment; filename="{rec["name"]}"'))
    return Response(200, headers, bytes(rec["data"]))


# -- annotations ---------------------------------------------------------------------------
def _annotation(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "question": row["question"], "answer": row["answer"],
            "hit_count": row["hit_count"], "created_at": int(row["created"])}  # fmt: skip


def _qa(ctx: Ctx) -> tuple[str, str]:
    body = ctx.json()
    for name in ("question", "answer"):
        if not isinstance(body.get(name), str):
            raise ctx.missing(name)
    return body["question"], body["answer"]


def create_annotation(ctx: Ctx) -> Response:
    """``POST /apps/annotations`` -> 201 ``AnnotationItem``."""
    question, answer = _qa(ctx)
    return ctx.wire.json(_annotation(ctx.store.add_annotation(ctx.app.name, question, answer)),
                         201)  # fmt: skip


def list_annotations(ctx: Ctx) -> Response:
    """``GET /apps/annotations?page&limit&keyword`` (limit over 100 is capped)."""
    try:
        page = max(int(ctx.req.query.get("page") or 1), 1)
        limit = min(max(int(ctx.req.query.get("limit") or 20), 1), 100)
    except ValueError:
        raise ParamError("page", "Invalid page or limit") from None
    rows, total = ctx.store.list_annotations(ctx.app.name, page, limit,
                                             ctx.req.query.get("keyword") or "")  # fmt: skip
    return ctx.wire.json({"data": [_annotation(r) for r in rows], "has_more": page * limit < total,
                          "limit": limit, "total": total, "page": page})  # fmt: skip


def update_annotation(ctx: Ctx) -> Response:
    """``PUT /apps/annotations/{annotation_id}``."""
    question, answer = _qa(ctx)
    aid = check_uuid("annotation_id", ctx.params["annotation_id"])
    if not ctx.store.update_annotation(ctx.app.name, aid, question, answer):
        raise not_found("Annotation not found")
    row = ctx.store.annotation(ctx.app.name, aid)
    assert row is not None
    return ctx.wire.json(_annotation(row))


def delete_annotation(ctx: Ctx) -> Response:
    """``DELETE /apps/annotations/{annotation_id}`` -> 204."""
    aid = check_uuid("annotation_id", ctx.params["annotation_id"])
    if not ctx.store.delete_annotation(ctx.app.name, aid):
        raise not_found("Annotation not found")
    return Response(204, ctx.wire.headers(), b"")


def annotation_reply(ctx: Ctx) -> Response:
    """``POST /apps/annotation-reply/{enable|disable}`` -> ``{job_id, job_status}``."""
    action = ctx.params["action"]
    if action not in ("enable", "disable"):
        raise ParamError("action", f"{action} is not a valid choice")
    body = ctx.json()
    for name in ("embedding_provider_name", "embedding_model_name", "score_threshold"):
        if body.get(name) is None:
            raise ctx.missing(name)
    job = str(uuid.uuid5(_JOB_NS, f"{ctx.app.name}:{action}:{json.dumps(body, sort_keys=True)}"))
    return ctx.wire.json({"job_id": job, "job_status": "waiting"})


def annotation_reply_status(ctx: Ctx) -> Response:
    """``GET /apps/annotation-reply/{action}/status/{job_id}`` (jobs finish at once)."""
    job = ctx.params["job_id"]
    try:
        uuid.UUID(job)
    except ValueError:
        raise ApiError(400, "invalid_param", "The job does not exist.") from None
    if uuid.UUID(job).version != 5:
        raise ApiError(400, "invalid_param", "The job does not exist.")
    return ctx.wire.json({"job_id": job, "job_status": "completed", "error_msg": ""})


_CONV: Final = "/conversations/{conversation_id:uuid}/variables"
ROUTES: Final = [
    Route("GET", _CONV, list_variables, wire="1.x"),
    Route("PUT", _CONV + "/{variable_id}", update_variable, wire="1.x"),
    Route("GET", "/end-users/{end_user_id}", end_user, wire="1.x"),
    Route("GET", "/files/{file_id}/preview", file_preview, wire="1.x"),
    Route("POST", "/apps/annotations", create_annotation, wire="1.x"),
    Route("GET", "/apps/annotations", list_annotations, wire="1.x"),
    Route("PUT", "/apps/annotations/{annotation_id}", update_annotation, wire="1.x"),
    Route("DELETE", "/apps/annotations/{annotation_id}", delete_annotation, wire="1.x"),
    Route("POST", "/apps/annotation-reply/{action}", annotation_reply, wire="1.x"),
    Route("GET", "/apps/annotation-reply/{action}/status/{job_id}", annotation_reply_status,
          wire="1.x"),
]  # fmt: skip
