"""Conversation endpoints: conversations, messages, feedback, suggested questions."""

from __future__ import annotations

from typing import Any, Final

from dify_emulator._context import Ctx, Route, check_limit, check_uuid, not_found
from dify_emulator._corpus import tokens
from dify_emulator._http import Response
from dify_emulator._retrieval import render_history_resources
from dify_emulator._routes_gen import auto_name
from dify_emulator._wire import ApiError, ParamError

__all__ = ["ROUTES"]

NIL_UUID: Final = "00000000-0000-0000-0000-000000000000"
_SORTS: Final = ("created_at", "-created_at", "updated_at", "-updated_at")
_DUMMY_FILE: Final = {"id": None, "filename": None, "type": None, "url": None, "mime_type": None,
                      "size": 0, "transfer_method": None, "belongs_to": "user"}  # fmt: skip


def _conversation(ctx: Ctx, conv: dict[str, Any]) -> dict[str, Any]:
    return {"id": conv["id"], "name": conv["name"], "inputs": conv["inputs"], "status": "normal",
            "introduction": ctx.app.opening_statement or "",
            "created_at": int(conv["created"]), "updated_at": int(conv["updated"])}  # fmt: skip


def _owned(ctx: Ctx, user: str) -> tuple[str, dict[str, Any]]:
    eu = ctx.end_user(user)
    conv = ctx.store.conversation(ctx.app.name, eu, ctx.params["conversation_id"])
    if conv is None:
        raise not_found("Conversation Not Exists.")
    return eu, conv


def list_conversations(ctx: Ctx) -> Response:
    """``GET /conversations``: ``last_id`` cursor, ``sort_by`` (default ``-updated_at``)."""
    ctx.require_chat()
    user = ctx.query_user()
    limit = check_limit(ctx)
    sort_by = ctx.req.query.get("sort_by") or "-updated_at"
    if sort_by not in _SORTS:
        raise ParamError("sort_by", f"{sort_by} is not a valid choice")
    last_id = ctx.req.query.get("last_id") or None
    if last_id is not None:
        check_uuid("last_id", last_id)
    eu = ctx.end_user(user)
    try:
        rows, has_more = ctx.store.list_conversations(ctx.app.name, eu, last_id, limit, sort_by)
    except LookupError:
        raise not_found("Last Conversation Not Exists.") from None
    return ctx.wire.json(
        {"limit": limit, "has_more": has_more, "data": [_conversation(ctx, c) for c in rows]}
    )


def delete_conversation(ctx: Ctx) -> Response:
    """``DELETE /conversations/{id}``: JSON body required; 1.x 204, 0.15 200 JSON.

    Unknown or another user's conversation: 404 on both wires (0.15.3, and 1.13+ after
    PR #32686; 1.8-1.12 answered 204 unconditionally, which the 1.x wire does not model).
    """
    ctx.json()
    user = ctx.body_user(required=False)
    ctx.require_chat()
    _, conv = _owned(ctx, user)
    ctx.store.delete_conversation(conv["id"])
    if ctx.wire.v015:
        return ctx.wire.json({"result": "success"})
    return Response(204, ctx.wire.headers(), b"")


def rename_conversation(ctx: Ctx) -> Response:
    """``POST /conversations/{id}/name``: ``name`` or ``auto_generate``."""
    body = ctx.json()
    user = ctx.body_user(required=False)
    ctx.require_chat()
    _, conv = _owned(ctx, user)
    name = body.get("name")
    if body.get("auto_generate"):
        history = ctx.store.history(conv["id"])
        new = auto_name(history[0]["query"]) if history else conv["name"]
    elif isinstance(name, str) and name.strip():
        new = name.strip()
    elif ctx.wire.v015:
        new = conv["name"]
    else:
        raise ApiError(400, "invalid_param", "name is required when auto_generate is false")
    ctx.store.rename_conversation(conv["id"], new)
    fresh = ctx.store.conversation(ctx.app.name, conv["end_user_id"], conv["id"])
    assert fresh is not None
    return ctx.wire.json(_conversation(ctx, fresh))


def _thoughts(ctx: Ctx, thoughts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for t in thoughts:
        item = dict(t)
        if ctx.wire.v015:
            item["message_files"] = [dict(_DUMMY_FILE)]
        else:
            item["files"] = []
        out.append(item)
    return out


def _message_item(ctx: Ctx, m: dict[str, Any], eu: str) -> dict[str, Any]:
    fb = ctx.store.feedback(m["id"], eu)
    files = []
    for f in m["files"]:
        item = dict(f)
        if ctx.wire.v015:
            item.pop("upload_file_id", None)
        files.append(item)
    created = int(m["created"])
    return {"id": m["id"], "conversation_id": m["conversation_id"],
            "parent_message_id": NIL_UUID, "inputs": m["inputs"], "query": m["query"],
            "answer": m["answer"], "message_files": files,
            "feedback": {"rating": fb["rating"]} if fb else None,
            "retriever_resources": render_history_resources(
                m["retriever_resources"], m["id"], created, v015=ctx.wire.v015),
            "created_at": created, "agent_thoughts": _thoughts(ctx, m["agent_thoughts"]),
            "status": m["status"], "error": m["error"]}  # fmt: skip


def list_messages(ctx: Ctx) -> Response:
    """``GET /messages``: newest page first, ascending within a page, ``first_id`` cursor."""
    ctx.require_chat()
    user = ctx.query_user()
    if "conversation_id" not in ctx.req.query:
        raise ctx.missing("conversation_id", "query string")
    limit = check_limit(ctx)
    cid = ctx.req.query["conversation_id"]
    if not cid:
        return ctx.wire.json({"limit": limit, "has_more": False, "data": []})
    check_uuid("conversation_id", cid)
    first_id = ctx.req.query.get("first_id") or None
    if first_id is not None:
        check_uuid("first_id", first_id)
    eu = ctx.end_user(user)
    if ctx.store.conversation(ctx.app.name, eu, cid) is None:
        raise not_found("Conversation Not Exists.")
    try:
        same_second = bool(ctx.faults is not None and ctx.faults.same_second)
        rows, has_more = ctx.store.list_messages(cid, first_id, limit, same_second=same_second)
    except LookupError:
        raise not_found("First Message Not Exists.") from None
    return ctx.wire.json({"limit": limit, "has_more": has_more,
                          "data": [_message_item(ctx, m, eu) for m in rows]})  # fmt: skip


def feedback(ctx: Ctx) -> Response:
    """``POST /messages/{id}/feedbacks``: like / dislike / null (revoke)."""
    body = ctx.json()
    user = ctx.body_user()
    rating = body.get("rating")
    if rating not in ("like", "dislike", None):
        raise ParamError("rating", f"{rating} is not a valid choice")
    content = body.get("content")
    eu = ctx.end_user(user)
    msg = ctx.store.message(ctx.app.name, eu, ctx.params["message_id"])
    if msg is None:
        raise not_found("Message Not Exists.")
    if not ctx.store.set_feedback(
        ctx.app.name, msg, eu, rating, content if isinstance(content, str) else None
    ):
        raise ApiError(400, "invalid_param", "rating cannot be None when feedback not exists")
    return ctx.wire.json({"result": "success"})


def app_feedbacks(ctx: Ctx) -> Response:
    """``GET /app/feedbacks`` (page/limit, ``{"data": [...]}`` only)."""
    try:
        page = max(int(ctx.req.query.get("page") or 1), 1)
    except ValueError:
        raise ParamError("page", "Invalid page") from None
    limit = check_limit(ctx, maximum=101)
    rows = ctx.store.list_feedbacks(ctx.app.name, page, limit)
    data = [{"id": r["id"], "app_id": ctx.app.app_id, "conversation_id": r["conversation_id"],
             "message_id": r["message_id"], "rating": r["rating"], "content": r["content"],
             "from_source": "user", "from_end_user_id": r["end_user_id"],
             "from_account_id": None, "created_at": int(r["created"]),
             "updated_at": int(r["updated"])} for r in rows]  # fmt: skip
    return ctx.wire.json({"data": data})


def suggested(ctx: Ctx) -> Response:
    """``GET /messages/{id}/suggested?user=``: three deterministic follow-up questions."""
    user = ctx.query_user(required=True)
    ctx.require_chat()
    eu = ctx.end_user(user)
    msg = ctx.store.message(ctx.app.name, eu, ctx.params["message_id"])
    if msg is None:
        raise not_found("Message Not Exists.")
    if not ctx.app.suggested_after_answer:
        raise ApiError(400, "bad_request", "Suggested Questions Is Disabled.")
    words = sorted(tokens(msg["query"]))
    topic = words[0] if words else "this"
    docs = [r["document_name"] for r in msg["retriever_resources"]]
    source = docs[0].rsplit(".", 1)[0] if docs else "Dify"
    data = [f"Can you tell me more about {topic}?", f"What else does {source} say?",
            "How does this work?"]  # fmt: skip
    return ctx.wire.json({"result": "success", "data": data})


ROUTES: Final = [
    Route("GET", "/conversations", list_conversations),
    Route("DELETE", "/conversations/{conversation_id:uuid}", delete_conversation),
    Route("POST", "/conversations/{conversation_id:uuid}/name", rename_conversation),
    Route("GET", "/messages", list_messages),
    Route("POST", "/messages/{message_id:uuid}/feedbacks", feedback),
    Route("GET", "/messages/{message_id:uuid}/suggested", suggested),
    Route("GET", "/app/feedbacks", app_feedbacks),
]
