"""Knowledge API wire shapes (dataset, document, segment bodies) and shared lookups."""

from __future__ import annotations

import time
from typing import Any, Final

from dify_emulator._apps import stable_id
from dify_emulator._context import Ctx, not_found
from dify_emulator._wire import ApiError, ParamError

__all__ = [
    "BUILT_IN_FIELDS",
    "DEFAULT_TOP_K",
    "OWNER",
    "dataset_body",
    "doc_state",
    "document_body",
    "get_dataset",
    "get_document",
    "get_segment",
    "meta_values",
    "page_args",
    "segment_body",
]

DEFAULT_TOP_K: Final = 3
OWNER: Final = stable_id("account:owner")
BUILT_IN_FIELDS: Final = (("document_name", "string"), ("uploader", "string"),
                          ("upload_date", "time"), ("last_update_date", "time"),
                          ("source", "string"))  # fmt: skip


def _default_retrieval() -> dict[str, Any]:
    return {
        "search_method": "semantic_search", "reranking_enable": False, "reranking_mode": None,
        "reranking_model": {"reranking_provider_name": "", "reranking_model_name": ""},
        "weights": None, "top_k": DEFAULT_TOP_K, "score_threshold_enabled": False,
        "score_threshold": None,
    }  # fmt: skip


def dataset_body(ctx: Ctx, ds: dict[str, Any]) -> dict[str, Any]:
    """A ``Dataset`` as ``GET /datasets`` renders it."""
    t = int(ds["created"])
    props = ctx.store.props(ds["id"])
    retrieval = {**_default_retrieval(), **props.get("retrieval_model", {})}
    body = {
        "id": ds["id"], "name": ds["name"], "description": ds["description"],
        "provider": "vendor", "permission": ds["permission"],
        "data_source_type": "upload_file" if ds["document_count"] else None,
        "indexing_technique": ds["indexing_technique"], "app_count": 0,
        "document_count": ds["document_count"], "word_count": ds["word_count"],
        "created_by": OWNER, "created_at": t, "updated_by": OWNER, "updated_at": t,
        "embedding_model": "emulator-embed", "embedding_model_provider": "emulator",
        "embedding_available": True,
        "retrieval_model_dict": retrieval,
        "tags": ctx.store.dataset_tags(ds["id"]),
        "doc_form": "text_model" if ds["document_count"] else None,
        "external_knowledge_info": {
            "external_knowledge_id": None, "external_knowledge_api_id": None,
            "external_knowledge_api_name": None, "external_knowledge_api_endpoint": None,
        },
        "external_retrieval_model": {"top_k": 2, "score_threshold": 0.0,
                                     "score_threshold_enabled": None},
    }  # fmt: skip
    if not ctx.wire.v015:
        body["doc_metadata"] = [
            {"id": f["id"], "name": f["name"], "type": f["type"]}
            for f in ctx.store.meta_fields(ds["id"])
        ]
        body["built_in_field_enabled"] = bool(props.get("built_in", False))
    return body


def doc_state(ctx: Ctx, doc: dict[str, Any]) -> str:
    """The document's indexing status under its simulated plan (no poll consumed)."""
    props = ctx.store.props(doc["id"])
    if props.get("seen", 0) < props.get("plan", 0):
        return "indexing"
    return str(props.get("outcome", "completed"))


def _display(state: str, props: dict[str, Any]) -> str:
    if props.get("archived"):
        return "archived"
    if not props.get("enabled", True):
        return "disabled"
    return {"completed": "available", "indexing": "indexing", "error": "error",
            "paused": "paused"}.get(state, "queuing")  # fmt: skip


def document_body(ctx: Ctx, doc: dict[str, Any], *, fresh: bool = False) -> dict[str, Any]:
    """A ``Document`` as listings and creations render it."""
    t = int(doc["created"])
    upload = stable_id(f"upload:{doc['id']}")
    size = len(doc["text"].encode())
    props = ctx.store.props(doc["id"])
    state = "waiting" if fresh else doc_state(ctx, doc)
    return {
        "id": doc["id"], "position": doc["position"], "data_source_type": "upload_file",
        "data_source_info": {"upload_file_id": upload},
        "data_source_detail_dict": {"upload_file": {
            "id": upload, "name": doc["name"], "size": size,
            "extension": props.get("extension", "txt"),
            "mime_type": props.get("mime_type", "text/plain"), "created_by": OWNER,
            "created_at": doc["created"]}},
        "dataset_process_rule_id": stable_id(f"rule:{doc['dataset_id']}"), "name": doc["name"],
        "created_from": "api", "created_by": OWNER, "created_at": t,
        "tokens": 0 if fresh else len(doc["text"].split()),
        "indexing_status": state,
        "error": props.get("error") if state == "error" else None,
        "enabled": props.get("enabled", True), "disabled_at": None, "disabled_by": None,
        "archived": props.get("archived", False),
        "display_status": "queuing" if fresh else _display(state, props),
        "word_count": 0 if fresh else size, "hit_count": 0,
        "doc_form": props.get("doc_form", "text_model"),
    }  # fmt: skip


def meta_values(ctx: Ctx, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A document's metadata ``[{id, name, type, value}]`` (built-in ones when enabled)."""
    out = ctx.store.doc_meta(doc["id"])
    if ctx.store.props(doc["dataset_id"]).get("built_in"):
        t = int(doc["created"])
        values = {"document_name": doc["name"], "uploader": "emulator",
                  "upload_date": t, "last_update_date": t, "source": "file_upload"}  # fmt: skip
        out += [{"id": "built-in", "name": n, "type": k, "value": values[n]}
                for n, k in BUILT_IN_FIELDS]  # fmt: skip
    return out


def segment_body(ctx: Ctx, seg: dict[str, Any], *, with_document: bool) -> dict[str, Any]:
    """A ``Segment`` (retrieve hits carry ``document``; listings carry ``child_chunks``)."""
    t = int(seg["created"])
    props = ctx.store.props(seg["id"])
    body: dict[str, Any] = {
        "id": seg["id"], "position": seg["position"], "document_id": seg["document_id"],
        "content": seg["content"],
    }  # fmt: skip
    if not ctx.wire.v015 and with_document:
        body["sign_content"] = seg["content"]
    body.update({
        "answer": props.get("answer"), "word_count": len(seg["content"]),
        "tokens": len(seg["content"].split()),
        "keywords": props.get("keywords", None if ctx.wire.v015 else []),
        "index_node_id": stable_id(f"node:{seg['id']}"),
        "index_node_hash": stable_id(f"hash:{seg['content']}").replace("-", "") * 2,
        "hit_count": 0, "enabled": props.get("enabled", True), "disabled_at": None,
        "disabled_by": None, "status": "completed", "created_by": OWNER, "created_at": t,
    })  # fmt: skip
    if not with_document:
        body.update(updated_at=t, updated_by=None)
    body.update(indexing_at=t, completed_at=t, error=None, stopped_at=None)
    if with_document:
        document = {"id": seg["document_id"], "data_source_type": "upload_file",
                    "name": seg["document_name"], "doc_type": None}  # fmt: skip
        if not ctx.wire.v015:
            doc = ctx.store.document(seg["dataset_id"], seg["document_id"])
            values = {m["name"]: m["value"] for m in meta_values(ctx, doc)} if doc else {}
            document["doc_metadata"] = values or None
        body["document"] = document
    else:
        body["child_chunks"] = [child_body(c) for c in ctx.store.child_chunks(seg["id"])]
    return body


def child_body(chunk: dict[str, Any]) -> dict[str, Any]:
    """A ``ChildChunk``."""
    t = int(chunk["created"])
    return {"id": chunk["id"], "segment_id": chunk["segment_id"], "content": chunk["content"],
            "position": chunk["position"], "word_count": len(chunk["content"]),
            "type": "customized", "created_at": t, "updated_at": t}  # fmt: skip


def page_args(ctx: Ctx) -> tuple[int, int]:
    """``page`` and ``limit`` (1..100) from the query string."""
    try:
        page = max(int(ctx.req.query.get("page") or 1), 1)
        limit = int(ctx.req.query.get("limit") or 20)
    except ValueError:
        raise ParamError("page", "Invalid page or limit") from None
    return page, max(1, min(limit, 100))


def get_dataset(ctx: Ctx) -> dict[str, Any]:
    """The path's dataset, or 404."""
    ds = ctx.store.dataset(ctx.params["dataset_id"])
    if ds is None:
        raise not_found("Dataset not found.")
    return ds


def get_document(ctx: Ctx, ds: dict[str, Any]) -> dict[str, Any]:
    """The path's document, or 404."""
    doc = ctx.store.document(ds["id"], ctx.params["document_id"])
    if doc is None:
        raise not_found("Document not found.")
    return doc


def get_segment(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    """The path's segment, or 404."""
    seg = ctx.store.segment_row(doc["id"], ctx.params["segment_id"])
    if seg is None:
        raise not_found("Segment not found.")
    return seg


def batch_id() -> str:
    """A fresh batch id in Dify's format."""
    t = time.time()
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(t)) + f"{int(t * 1e6) % 1000000:06d}"


def check_str(value: Any, name: str) -> str:
    """A required non-empty string field (400 ``invalid_param`` otherwise)."""
    if not isinstance(value, str) or not value:
        raise ApiError(400, "invalid_param", f"{name} is required.")
    return value
