"""Knowledge API documents: create, update, list, get, delete, download, status, indexing.

Indexing is simulated per document from the creating request's ``X-Emulator-Fault``
header: ``index_polls=N`` (N status polls report ``indexing`` with growing
``completed_segments`` before the outcome; default 0: completed at once),
``index_error=1`` (the outcome is ``error``) and ``index_pause=1`` (``paused``).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any, Final

from dify_emulator._context import Ctx, Route, not_found
from dify_emulator._http import Response
from dify_emulator._kb_bodies import (
    document_body,
    get_dataset,
    get_document,
    meta_values,
    page_args,
)
from dify_emulator._wire import ApiError

__all__ = ["ROUTES"]

_ACTIONS: Final = ("enable", "disable", "archive", "un_archive")
INDEX_ERROR: Final = "Emulated indexing failure (X-Emulator-Fault: index_error=1)."


def _plan(ctx: Ctx) -> dict[str, Any]:
    plan: dict[str, Any] = {"plan": 0, "seen": 0, "outcome": "completed"}
    for part in ctx.req.headers.get("x-emulator-fault", "").replace(",", ";").split(";"):
        key, _, raw = part.partition("=")
        key, raw = key.strip().lower(), raw.strip()
        if key == "index_polls" and raw.isdigit():
            plan["plan"] = int(raw)
        elif key == "index_error" and raw == "1":
            plan.update(outcome="error", error=INDEX_ERROR)
        elif key == "index_pause" and raw == "1":
            plan["outcome"] = "paused"
    return plan


def _settings(ctx: Ctx) -> tuple[dict[str, Any], str | None, bytes | None, str | None]:
    """(settings, file name, file bytes, mime type) of a JSON or multipart request."""
    parts = ctx.parts()
    if parts is None:
        return ctx.json(), None, None, None
    settings: dict[str, Any] = {}
    name = data = mime = None
    for part in parts:
        if part.name == "data" and part.filename is None:
            try:
                loaded = json.loads(part.data or b"{}")
            except ValueError:
                raise ApiError(400, "invalid_param", "data must be a JSON string") from None
            settings = loaded if isinstance(loaded, dict) else {}
        elif part.name == "file" and part.filename is not None:
            name, data, mime = part.filename, part.data, part.content_type
    return settings, name, data, mime


def _created(ctx: Ctx, doc: dict[str, Any], batch: str) -> Response:
    return ctx.wire.json({"document": document_body(ctx, doc, fresh=True), "batch": batch})


def _new(
    ctx: Ctx, ds: dict[str, Any], name: str, text: str, settings: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    doc, batch = ctx.store.add_document(ds["id"], name, text)
    props = _plan(ctx)
    if settings.get("doc_form"):
        props["doc_form"] = settings["doc_form"]
    ctx.store.set_props(doc["id"], **props)
    return doc, batch


def create_by_text(ctx: Ctx) -> Response:
    """``POST /datasets/{id}/document/create-by-text``."""
    ds = get_dataset(ctx)
    body = ctx.json()
    name, text = body.get("name"), body.get("text")
    if not isinstance(name, str) or not name:
        raise ctx.missing("name")
    if not isinstance(text, str) or not text:
        raise ctx.missing("text")
    return _created(ctx, *_new(ctx, ds, name, text, body))


def _file_text(data: bytes | None) -> str:
    if not data:
        raise ApiError(400, "no_file_uploaded", "Please upload your file.")
    return data.decode("utf-8", "replace")


def create_by_file(ctx: Ctx) -> Response:
    """``POST /datasets/{id}/document/create-by-file`` (multipart ``file`` + ``data``)."""
    ds = get_dataset(ctx)
    settings, name, data, mime = _settings(ctx)
    if name is None:
        raise ApiError(400, "no_file_uploaded", "Please upload your file.")
    doc, batch = _new(ctx, ds, name, _file_text(data), settings)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else "txt"
    ctx.store.set_props(doc["id"], extension=ext, mime_type=mime or "text/plain")
    return _created(ctx, doc, batch)


def _update(ctx: Ctx, name: str | None, text: str | None) -> Response:
    ds = get_dataset(ctx)
    doc = get_document(ctx, ds)
    batch = ctx.store.replace_document(ds["id"], doc["id"], name, text)
    ctx.store.set_props(doc["id"], **_plan(ctx))
    fresh = ctx.store.document(ds["id"], doc["id"])
    assert fresh is not None
    return _created(ctx, fresh, batch)


def update_by_text(ctx: Ctx) -> Response:
    """``POST .../documents/{id}/update-by-text``."""
    body = ctx.json()
    name, text = body.get("name"), body.get("text")
    if text is not None and (not isinstance(text, str) or not text):
        raise ApiError(400, "invalid_param", "text must be a non-empty string")
    return _update(ctx, name if isinstance(name, str) else None, text)


def update_by_file(ctx: Ctx) -> Response:
    """``POST .../documents/{id}/update-by-file`` and ``PATCH .../documents/{id}``."""
    _, name, data, _ = _settings(ctx)
    return _update(ctx, name, _file_text(data) if name is not None else None)


def list_documents(ctx: Ctx) -> Response:
    """``GET /datasets/{id}/documents`` (``keyword``, ``status``)."""
    ds = get_dataset(ctx)
    page, limit = page_args(ctx)
    docs = [document_body(ctx, d) for d in ctx.store.list_documents(ds["id"])]
    keyword = (ctx.req.query.get("keyword") or "").lower()
    status = ctx.req.query.get("status")
    docs = [d for d in docs if keyword in d["name"].lower()
            and (not status or d["display_status"] == status)]  # fmt: skip
    chunk = docs[(page - 1) * limit : page * limit]
    return ctx.wire.json({"data": chunk, "has_more": page * limit < len(docs), "limit": limit,
                          "total": len(docs), "page": page})  # fmt: skip


def get_document_route(ctx: Ctx) -> Response:
    """``GET .../documents/{id}?metadata=all|only|without``."""
    ds = get_dataset(ctx)
    doc = get_document(ctx, ds)
    view = ctx.req.query.get("metadata") or "all"
    if view not in ("all", "only", "without"):
        raise ApiError(400, "invalid_metadata", f"Invalid metadata value: {view}")
    meta = [{k: m[k] for k in ("id", "name", "type", "value")} for m in meta_values(ctx, doc)]
    if view == "only":
        return ctx.wire.json({"id": doc["id"], "doc_type": None, "doc_metadata": meta})
    body = document_body(ctx, doc)
    body.update(segment_count=doc["segment_count"], doc_language="English", doc_type=None)
    if view == "all":
        body["doc_metadata"] = meta
    return ctx.wire.json(body)


def delete_document(ctx: Ctx) -> Response:
    """``DELETE .../documents/{id}`` -> 204 (403 when archived)."""
    ds = get_dataset(ctx)
    doc = get_document(ctx, ds)
    if ctx.store.props(doc["id"]).get("archived"):
        raise ApiError(403, "archived_document_immutable",
                       "The archived document is not editable.")  # fmt: skip
    ctx.store.delete_document(doc["id"])
    return Response(204, ctx.wire.headers(), b"")


def download(ctx: Ctx) -> Response:
    """``GET .../documents/{id}/download`` -> ``{url}`` (signed-looking)."""
    doc = get_document(ctx, get_dataset(ctx))
    url = f"{ctx.root_url}/files/{doc['id']}/file-preview?timestamp=0&nonce=emu&sign=emu"
    return ctx.wire.json({"url": url})


def download_zip(ctx: Ctx) -> Response:
    """``POST .../documents/download-zip`` -> ``application/zip`` of the documents' text."""
    ds = get_dataset(ctx)
    ids = ctx.json().get("document_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise ApiError(400, "invalid_param", "document_ids must list 1 to 100 ids")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for doc_id in ids:
            doc = ctx.store.document(ds["id"], str(doc_id))
            if doc is None:
                raise not_found("Document not found.")
            zf.writestr(doc["name"], doc["text"])
    return Response(200, ctx.wire.headers("application/zip"), buf.getvalue())


def status_action(ctx: Ctx) -> Response:
    """``PATCH .../documents/status/{action}`` (``document_ids``)."""
    ds = get_dataset(ctx)
    action = ctx.params["action"]
    if action not in _ACTIONS:
        raise ApiError(400, "invalid_action", f"Invalid action: {action}")
    ids = ctx.json().get("document_ids")
    if not isinstance(ids, list):
        raise ApiError(400, "invalid_param", "document_ids is required")
    change = {"enable": {"enabled": True}, "disable": {"enabled": False},
              "archive": {"archived": True}, "un_archive": {"archived": False}}[action]  # fmt: skip
    for doc_id in ids:
        if ctx.store.document(ds["id"], str(doc_id)) is None:
            raise not_found("Document not found.")
        ctx.store.set_props(str(doc_id), **change)
    return ctx.wire.json({"result": "success"})


def indexing_status(ctx: Ctx) -> Response:
    """``GET .../documents/{batch}/indexing-status`` (each poll advances the plan)."""
    ds = get_dataset(ctx)
    docs = ctx.store.list_documents(ds["id"], batch=ctx.params["batch"])
    if not docs:
        raise not_found("Documents not found.")
    data = []
    for d in docs:
        props = ctx.store.props(d["id"])
        plan, seen = int(props.get("plan", 0)), int(props.get("seen", 0)) + 1
        ctx.store.set_props(d["id"], seen=seen)
        total = d["segment_count"]
        state = "indexing" if seen <= plan else str(props.get("outcome", "completed"))
        done = total if state == "completed" else (total * (seen - 1)) // max(plan, 1)
        t = int(d["created"])
        data.append({"id": d["id"], "indexing_status": state, "processing_started_at": t,
                     "parsing_completed_at": t, "cleaning_completed_at": t,
                     "splitting_completed_at": t,
                     "completed_at": t if state == "completed" else None,
                     "paused_at": t if state == "paused" else None,
                     "error": props.get("error") if state == "error" else None,
                     "stopped_at": None, "completed_segments": min(done, total),
                     "total_segments": total})  # fmt: skip
    return ctx.wire.json({"data": data})


_DOCS: Final = "/datasets/{dataset_id:uuid}/documents"
_DOC: Final = _DOCS + "/{document_id:uuid}"

ROUTES: Final = [
    Route("POST", "/datasets/{dataset_id:uuid}/document/create-by-text", create_by_text,
          auth="dataset"),
    Route("POST", "/datasets/{dataset_id:uuid}/document/create-by-file", create_by_file,
          auth="dataset"),
    Route("GET", _DOCS, list_documents, auth="dataset"),
    Route("POST", _DOCS + "/download-zip", download_zip, auth="dataset"),
    Route("PATCH", _DOCS + "/status/{action}", status_action, auth="dataset"),
    Route("GET", _DOC, get_document_route, auth="dataset"),
    Route("PATCH", _DOC, update_by_file, auth="dataset"),
    Route("DELETE", _DOC, delete_document, auth="dataset"),
    Route("GET", _DOC + "/download", download, auth="dataset"),
    Route("POST", _DOC + "/update-by-text", update_by_text, auth="dataset"),
    Route("POST", _DOC + "/update-by-file", update_by_file, auth="dataset"),
    Route("GET", _DOCS + "/{batch}/indexing-status", indexing_status, auth="dataset"),
]  # fmt: skip
