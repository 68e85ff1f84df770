"""Knowledge API chunks: segments and child chunks of a document (CRUD)."""

from __future__ import annotations

from typing import Any, Final

from dify_emulator._context import Ctx, Route, not_found
from dify_emulator._http import Response
from dify_emulator._kb_bodies import (
    child_body,
    doc_state,
    get_dataset,
    get_document,
    get_segment,
    page_args,
    segment_body,
)
from dify_emulator._wire import ApiError

__all__ = ["ROUTES"]


def _doc(ctx: Ctx) -> dict[str, Any]:
    return get_document(ctx, get_dataset(ctx))


def _form(ctx: Ctx, doc: dict[str, Any]) -> str:
    return str(ctx.store.props(doc["id"]).get("doc_form", "text_model"))


def _seg_props(seg_id: str, item: dict[str, Any], ctx: Ctx) -> None:
    changes = {k: item[k] for k in ("answer", "keywords", "enabled") if k in item}
    if changes:
        ctx.store.set_props(seg_id, **changes)


def create_segments(ctx: Ctx) -> Response:
    """``POST .../segments`` (the document must be indexed; 400 ``{"error"}`` on bad items)."""
    doc = _doc(ctx)
    if doc_state(ctx, doc) != "completed":
        raise not_found("Document is not completed.")
    items = ctx.json().get("segments")
    if not isinstance(items, list) or not items:
        return ctx.wire.json({"error": "segments is required"}, 400)
    for item in items:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("content"), str)
            or not item["content"]
        ):
            return ctx.wire.json({"error": "Content is empty"}, 400)
    created = []
    for item in items:
        sid = ctx.store.add_segment(doc["dataset_id"], doc["id"], item["content"])
        _seg_props(sid, item, ctx)
        row = ctx.store.segment_row(doc["id"], sid)
        assert row is not None
        created.append(segment_body(ctx, row, with_document=False))
    return ctx.wire.json({"data": created, "doc_form": _form(ctx, doc)})


def list_segments(ctx: Ctx) -> Response:
    """``GET .../segments`` (``keyword``, ``status``, ``page``, ``limit``)."""
    doc = _doc(ctx)
    segs = ctx.store.segments([doc["dataset_id"]], doc["id"])
    keyword = (ctx.req.query.get("keyword") or "").lower()
    segs = [s for s in segs if keyword in s["content"].lower()]
    body: dict[str, Any] = {"data": [segment_body(ctx, s, with_document=False) for s in segs],
                            "doc_form": _form(ctx, doc), "total": len(segs)}  # fmt: skip
    if not ctx.wire.v015:
        page, limit = page_args(ctx)
        body["data"] = body["data"][(page - 1) * limit : page * limit]
        body.update(has_more=page * limit < len(segs), limit=limit, page=page)
    return ctx.wire.json(body)


def get_segment_route(ctx: Ctx) -> Response:
    """``GET .../segments/{segment_id}``."""
    doc = _doc(ctx)
    seg = get_segment(ctx, doc)
    body = segment_body(ctx, seg, with_document=False)
    return ctx.wire.json({"data": body, "doc_form": _form(ctx, doc)})


def update_segment(ctx: Ctx) -> Response:
    """``POST .../segments/{segment_id}`` ``{segment: {content?, answer?, enabled?, ...}}``."""
    doc = _doc(ctx)
    seg = get_segment(ctx, doc)
    item = ctx.json().get("segment")
    if not isinstance(item, dict):
        raise ApiError(400, "invalid_param", "segment is required")
    content = item.get("content")
    if content is not None:
        if not isinstance(content, str) or not content:
            raise ApiError(400, "invalid_param", "Content is empty")
        ctx.store.set_segment_content(seg["id"], content)
    _seg_props(seg["id"], item, ctx)
    fresh = get_segment(ctx, doc)
    body = segment_body(ctx, fresh, with_document=False)
    return ctx.wire.json({"data": body, "doc_form": _form(ctx, doc)})


def delete_segment(ctx: Ctx) -> Response:
    """``DELETE .../segments/{segment_id}`` -> 204."""
    seg = get_segment(ctx, _doc(ctx))
    ctx.store.delete_segment(seg["id"])
    return Response(204, ctx.wire.headers(), b"")


def _content(ctx: Ctx) -> str:
    content = ctx.json().get("content")
    if not isinstance(content, str) or not content:
        raise ApiError(400, "invalid_param", "Content is empty")
    return content


def create_child(ctx: Ctx) -> Response:
    """``POST .../child_chunks`` ``{content}``."""
    seg = get_segment(ctx, _doc(ctx))
    chunk = ctx.store.add_child_chunk(seg["id"], _content(ctx))
    return ctx.wire.json({"data": child_body(chunk)})


def list_children(ctx: Ctx) -> Response:
    """``GET .../child_chunks`` (``page``, ``limit``, ``keyword``)."""
    seg = get_segment(ctx, _doc(ctx))
    page, limit = page_args(ctx)
    keyword = (ctx.req.query.get("keyword") or "").lower()
    chunks = [c for c in ctx.store.child_chunks(seg["id"]) if keyword in c["content"].lower()]
    pages = (len(chunks) + limit - 1) // limit
    data = [child_body(c) for c in chunks[(page - 1) * limit : page * limit]]
    return ctx.wire.json({"data": data, "total": len(chunks), "total_pages": pages,
                          "page": page, "limit": limit})  # fmt: skip


def _child(ctx: Ctx) -> dict[str, Any]:
    seg = get_segment(ctx, _doc(ctx))
    chunk = ctx.store.child_chunk(seg["id"], ctx.params["child_chunk_id"])
    if chunk is None:
        raise not_found("Child chunk not found.")
    return chunk


def update_child(ctx: Ctx) -> Response:
    """``PATCH .../child_chunks/{id}`` ``{content}``."""
    chunk = _child(ctx)
    ctx.store.set_child_chunk(chunk["id"], _content(ctx))
    fresh = ctx.store.child_chunk(chunk["segment_id"], chunk["id"])
    assert fresh is not None
    return ctx.wire.json({"data": child_body(fresh)})


def delete_child(ctx: Ctx) -> Response:
    """``DELETE .../child_chunks/{id}`` -> 204."""
    ctx.store.set_child_chunk(_child(ctx)["id"], None)
    return Response(204, ctx.wire.headers(), b"")


_SEGS: Final = "/datasets/{dataset_id:uuid}/documents/{document_id:uuid}/segments"
_SEG: Final = _SEGS + "/{segment_id:uuid}"
_KIDS: Final = _SEG + "/child_chunks"

ROUTES: Final = [
    Route("POST", _SEGS, create_segments, auth="dataset"),
    Route("GET", _SEGS, list_segments, auth="dataset"),
    Route("GET", _SEG, get_segment_route, auth="dataset"),
    Route("POST", _SEG, update_segment, auth="dataset"),
    Route("DELETE", _SEG, delete_segment, auth="dataset"),
    Route("POST", _KIDS, create_child, auth="dataset"),
    Route("GET", _KIDS, list_children, auth="dataset"),
    Route("PATCH", _KIDS + "/{child_chunk_id:uuid}", update_child, auth="dataset"),
    Route("DELETE", _KIDS + "/{child_chunk_id:uuid}", delete_child, auth="dataset"),
]
