"""Knowledge API (dataset key): datasets, documents by text, segments, retrieve."""

from __future__ import annotations

from typing import Any, Final

from dify_emulator._apps import stable_id
from dify_emulator._context import Ctx, Route, not_found
from dify_emulator._http import Response
from dify_emulator._retrieval import retrieve
from dify_emulator._wire import ApiError, ParamError

__all__ = ["ROUTES"]

DEFAULT_TOP_K: Final = 3
_OWNER: Final = stable_id("account:owner")
_METHODS: Final = ("keyword_search", "semantic_search", "full_text_search", "hybrid_search")


def _dataset_body(ds: dict[str, Any]) -> dict[str, Any]:
    t = int(ds["created"])
    return {
        "id": ds["id"], "name": ds["name"], "description": ds["description"],
        "provider": "vendor", "permission": ds["permission"],
        "data_source_type": "upload_file" if ds["document_count"] else None,
        "indexing_technique": ds["indexing_technique"], "app_count": 0,
        "document_count": ds["document_count"], "word_count": ds["word_count"],
        "created_by": _OWNER, "created_at": t, "updated_by": _OWNER, "updated_at": t,
        "embedding_model": "emulator-embed", "embedding_model_provider": "emulator",
        "embedding_available": True,
        "retrieval_model_dict": {
            "search_method": "semantic_search", "reranking_enable": False,
            "reranking_mode": None,
            "reranking_model": {"reranking_provider_name": "", "reranking_model_name": ""},
            "weights": None, "top_k": DEFAULT_TOP_K, "score_threshold_enabled": False,
            "score_threshold": None,
        },
        "tags": [], "doc_form": "text_model" if ds["document_count"] else None,
        "external_knowledge_info": {
            "external_knowledge_id": None, "external_knowledge_api_id": None,
            "external_knowledge_api_name": None, "external_knowledge_api_endpoint": None,
        },
        "external_retrieval_model": {"top_k": 2, "score_threshold": 0.0,
                                     "score_threshold_enabled": None},
    }  # fmt: skip


def _document_body(doc: dict[str, Any], *, fresh: bool = False) -> dict[str, Any]:
    t = int(doc["created"])
    upload = stable_id(f"upload:{doc['id']}")
    size = len(doc["text"].encode())
    return {
        "id": doc["id"], "position": doc["position"], "data_source_type": "upload_file",
        "data_source_info": {"upload_file_id": upload},
        "data_source_detail_dict": {"upload_file": {
            "id": upload, "name": doc["name"], "size": size, "extension": "txt",
            "mime_type": "text/plain", "created_by": _OWNER, "created_at": doc["created"]}},
        "dataset_process_rule_id": stable_id(f"rule:{doc['dataset_id']}"), "name": doc["name"],
        "created_from": "api", "created_by": _OWNER, "created_at": t,
        "tokens": 0 if fresh else len(doc["text"].split()),
        "indexing_status": "waiting" if fresh else "completed", "error": None,
        "enabled": True, "disabled_at": None, "disabled_by": None, "archived": False,
        "display_status": "queuing" if fresh else "available",
        "word_count": 0 if fresh else size, "hit_count": 0, "doc_form": "text_model",
    }  # fmt: skip


def _segment_body(ctx: Ctx, seg: dict[str, Any], *, with_document: bool) -> dict[str, Any]:
    t = int(seg["created"])
    body: dict[str, Any] = {
        "id": seg["id"], "position": seg["position"], "document_id": seg["document_id"],
        "content": seg["content"],
    }  # fmt: skip
    if not ctx.wire.v015 and with_document:
        body["sign_content"] = seg["content"]
    body.update({
        "answer": None, "word_count": len(seg["content"]), "tokens": len(seg["content"].split()),
        "keywords": None if ctx.wire.v015 else [],
        "index_node_id": stable_id(f"node:{seg['id']}"),
        "index_node_hash": stable_id(f"hash:{seg['content']}").replace("-", "") * 2,
        "hit_count": 0, "enabled": True, "disabled_at": None, "disabled_by": None,
        "status": "completed", "created_by": _OWNER, "created_at": t,
    })  # fmt: skip
    if not with_document:
        body.update(updated_at=t, updated_by=None)
    body.update(indexing_at=t, completed_at=t, error=None, stopped_at=None)
    if with_document:
        document = {"id": seg["document_id"], "data_source_type": "upload_file",
                    "name": seg["document_name"], "doc_type": None}  # fmt: skip
        if not ctx.wire.v015:
            document["doc_metadata"] = None
        body["document"] = document
    else:
        body["child_chunks"] = []
    return body


def _page(ctx: Ctx) -> tuple[int, int]:
    try:
        page = max(int(ctx.req.query.get("page") or 1), 1)
        limit = int(ctx.req.query.get("limit") or 20)
    except ValueError:
        raise ParamError("page", "Invalid page or limit") from None
    return page, max(1, min(limit, 100))


def _dataset(ctx: Ctx) -> dict[str, Any]:
    ds = ctx.store.dataset(ctx.params["dataset_id"])
    if ds is None:
        raise not_found("Dataset not found.")
    return ds


def list_datasets(ctx: Ctx) -> Response:
    """``GET /datasets``."""
    page, limit = _page(ctx)
    rows, total = ctx.store.list_datasets(page, limit)
    return ctx.wire.json({"data": [_dataset_body(d) for d in rows],
                          "has_more": page * limit < total, "limit": limit, "total": total,
                          "page": page})  # fmt: skip


def create_dataset(ctx: Ctx) -> Response:
    """``POST /datasets``."""
    body = ctx.json()
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 40:
        raise ParamError("name", "Name must be between 1 to 40 characters.")
    if ctx.store.dataset_by_name(name) is not None:
        raise ApiError(
            409,
            "dataset_name_duplicate",
            "The dataset name already exists. Please modify your dataset name.",
        )
    ds = ctx.store.create_dataset(
        name, body.get("description") or "",
        indexing_technique=body.get("indexing_technique"),
        permission=body.get("permission") or "only_me",
    )  # fmt: skip
    return ctx.wire.json(_dataset_body(ds))


def create_by_text(ctx: Ctx) -> Response:
    """``POST /datasets/{id}/document/create-by-text`` (indexed synchronously)."""
    ds = _dataset(ctx)
    body = ctx.json()
    name, text = body.get("name"), body.get("text")
    if not isinstance(name, str) or not name:
        raise ctx.missing("name")
    if not isinstance(text, str) or not text:
        raise ctx.missing("text")
    doc, batch = ctx.store.add_document(ds["id"], name, text)
    return ctx.wire.json({"document": _document_body(doc, fresh=True), "batch": batch})


def list_documents(ctx: Ctx) -> Response:
    """``GET /datasets/{id}/documents``."""
    ds = _dataset(ctx)
    page, limit = _page(ctx)
    docs = ctx.store.list_documents(ds["id"])
    chunk = docs[(page - 1) * limit : page * limit]
    return ctx.wire.json({"data": [_document_body(d) for d in chunk],
                          "has_more": page * limit < len(docs), "limit": limit,
                          "total": len(docs), "page": page})  # fmt: skip


def indexing_status(ctx: Ctx) -> Response:
    """``GET /datasets/{id}/documents/{batch}/indexing-status`` (always completed)."""
    ds = _dataset(ctx)
    docs = ctx.store.list_documents(ds["id"], batch=ctx.params["batch"])
    if not docs:
        raise not_found("Documents not found.")
    data = []
    for d in docs:
        t = int(d["created"])
        data.append({"id": d["id"], "indexing_status": "completed", "processing_started_at": t,
                     "parsing_completed_at": t, "cleaning_completed_at": t,
                     "splitting_completed_at": t, "completed_at": t, "paused_at": None,
                     "error": None, "stopped_at": None,
                     "completed_segments": d["segment_count"],
                     "total_segments": d["segment_count"]})  # fmt: skip
    return ctx.wire.json({"data": data})


def list_segments(ctx: Ctx) -> Response:
    """``GET /datasets/{id}/documents/{doc}/segments``."""
    ds = _dataset(ctx)
    if ctx.store.document(ds["id"], ctx.params["document_id"]) is None:
        raise not_found("Document not found.")
    segs = ctx.store.segments([ds["id"]], ctx.params["document_id"])
    body: dict[str, Any] = {"data": [_segment_body(ctx, s, with_document=False) for s in segs],
                            "doc_form": "text_model", "total": len(segs)}  # fmt: skip
    if not ctx.wire.v015:
        body.update(has_more=False, limit=20, page=1)
    return ctx.wire.json(body)


def retrieve_endpoint(ctx: Ctx) -> Response:
    """``POST /datasets/{id}/retrieve`` (and ``/hit-testing``)."""
    ds = _dataset(ctx)
    body = ctx.json()
    query = body.get("query")
    if not isinstance(query, str) or not query or len(query) > 250:
        raise ApiError(400, "invalid_param", "Query is required and cannot exceed 250 characters")
    model = body.get("retrieval_model")
    top_k, method, threshold = DEFAULT_TOP_K, "semantic_search", None
    if isinstance(model, dict):
        for key in ("search_method", "reranking_enable", "score_threshold_enabled"):
            if key not in model:
                raise ApiError(500, "internal_server_error", f"'{key}'")
        method = str(model["search_method"])
        if method not in _METHODS:
            raise ApiError(400, "invalid_param", f"Invalid search_method: {method}")
        try:
            top_k = int(model.get("top_k") or DEFAULT_TOP_K)
            if model.get("score_threshold_enabled"):
                threshold = float(model.get("score_threshold") or 0.0)
        except (TypeError, ValueError):
            raise ApiError(400, "invalid_param", "Invalid retrieval_model") from None
    hits = retrieve(ctx.store, [ds["id"]], query, top_k=top_k, method=method,
                    threshold=threshold)  # fmt: skip
    records = []
    for seg, sc in hits:
        rec: dict[str, Any] = {
            "segment": _segment_body(ctx, seg, with_document=True),
            "child_chunks": None,
            "score": sc,
            "tsne_position": None,
        }
        if not ctx.wire.v015:
            rec.update(files=[], summary=None)
        records.append(rec)
    return ctx.wire.json({"query": {"content": query}, "records": records})


ROUTES: Final = [
    Route("GET", "/datasets", list_datasets, auth="dataset"),
    Route("POST", "/datasets", create_dataset, auth="dataset"),
    Route("POST", "/datasets/{dataset_id:uuid}/document/create-by-text", create_by_text,
          auth="dataset"),
    Route("GET", "/datasets/{dataset_id:uuid}/documents", list_documents, auth="dataset"),
    Route("GET", "/datasets/{dataset_id:uuid}/documents/{batch}/indexing-status",
          indexing_status, auth="dataset"),
    Route("GET", "/datasets/{dataset_id:uuid}/documents/{document_id:uuid}/segments",
          list_segments, auth="dataset"),
    Route("POST", "/datasets/{dataset_id:uuid}/retrieve", retrieve_endpoint, auth="dataset"),
    Route("POST", "/datasets/{dataset_id:uuid}/hit-testing", retrieve_endpoint, auth="dataset"),
]  # fmt: skip
