"""Knowledge API (dataset key): datasets and retrieve; ``ROUTES`` holds every knowledge route.

Documents live in ``_routes_kb_docs``, chunks in ``_routes_kb_chunks``, metadata, tags
and model types in ``_routes_kb_meta``; the wire shapes in ``_kb_bodies``.
"""

from __future__ import annotations

from typing import Any, Final

from dify_emulator import _routes_kb_chunks, _routes_kb_docs, _routes_kb_meta
from dify_emulator._context import Ctx, Route
from dify_emulator._http import Response
from dify_emulator._kb_bodies import (
    DEFAULT_TOP_K,
    dataset_body,
    doc_state,
    get_dataset,
    meta_values,
    page_args,
    segment_body,
)
from dify_emulator._kb_filter import check_filter, matches
from dify_emulator._retrieval import retrieve
from dify_emulator._wire import ApiError, ParamError

__all__ = ["ROUTES"]

_METHODS: Final = ("keyword_search", "semantic_search", "full_text_search", "hybrid_search")


def list_datasets(ctx: Ctx) -> Response:
    """``GET /datasets`` (``keyword`` filters by name)."""
    page, limit = page_args(ctx)
    keyword = (ctx.req.query.get("keyword") or "").lower()
    if keyword:
        rows, _ = ctx.store.list_datasets(1, 10_000)
        rows = [d for d in rows if keyword in d["name"].lower()]
        total = len(rows)
        rows = rows[(page - 1) * limit : page * limit]
    else:
        rows, total = ctx.store.list_datasets(page, limit)
    return ctx.wire.json({"data": [dataset_body(ctx, d) for d in rows],
                          "has_more": page * limit < total, "limit": limit, "total": total,
                          "page": page})  # fmt: skip


def _check_name(ctx: Ctx, name: Any, *, own_id: str | None = None) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 40:
        raise ParamError("name", "Name must be between 1 to 40 characters.")
    other = ctx.store.dataset_by_name(name)
    if other is not None and other["id"] != own_id:
        raise ApiError(
            409,
            "dataset_name_duplicate",
            "The dataset name already exists. Please modify your dataset name.",
        )
    return name


def create_dataset(ctx: Ctx) -> Response:
    """``POST /datasets``."""
    body = ctx.json()
    name = _check_name(ctx, body.get("name"))
    ds = ctx.store.create_dataset(
        name, body.get("description") or "",
        indexing_technique=body.get("indexing_technique"),
        permission=body.get("permission") or "only_me",
    )  # fmt: skip
    if isinstance(body.get("retrieval_model"), dict):
        ctx.store.set_props(ds["id"], retrieval_model=body["retrieval_model"])
    return ctx.wire.json(dataset_body(ctx, ds))


def get_dataset_route(ctx: Ctx) -> Response:
    """``GET /datasets/{id}``."""
    return ctx.wire.json(dataset_body(ctx, get_dataset(ctx)))


def update_dataset(ctx: Ctx) -> Response:
    """``PATCH /datasets/{id}`` (name, description, technique, permission, retrieval)."""
    ds = get_dataset(ctx)
    body = ctx.json()
    if "name" in body:
        _check_name(ctx, body["name"], own_id=ds["id"])
    ctx.store.update_dataset_row(ds["id"], body)
    if isinstance(body.get("retrieval_model"), dict):
        ctx.store.set_props(ds["id"], retrieval_model=body["retrieval_model"])
    return ctx.wire.json(dataset_body(ctx, get_dataset(ctx)))


def delete_dataset(ctx: Ctx) -> Response:
    """``DELETE /datasets/{id}`` -> 204."""
    ctx.store.delete_dataset(get_dataset(ctx)["id"])
    return Response(204, ctx.wire.headers(), b"")


def _retrieval_options(model: Any) -> tuple[int, str, float | None, dict[str, Any] | None]:
    top_k, method, threshold, flt = DEFAULT_TOP_K, "semantic_search", None, None
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
        flt = check_filter(model.get("metadata_filtering_conditions"))
    return top_k, method, threshold, flt


def retrieve_endpoint(ctx: Ctx) -> Response:
    """``POST /datasets/{id}/retrieve`` (and ``/hit-testing``).

    Only enabled segments of enabled, unarchived, indexed documents are searched; a
    ``metadata_filtering_conditions`` filter applies to each document's metadata values.
    """
    ds = get_dataset(ctx)
    body = ctx.json()
    query = body.get("query")
    if not isinstance(query, str) or not query or len(query) > 250:
        raise ApiError(400, "invalid_param", "Query is required and cannot exceed 250 characters")
    top_k, method, threshold, flt = _retrieval_options(body.get("retrieval_model"))
    verdicts: dict[str, bool] = {}

    def keep(seg: dict[str, Any]) -> bool:
        doc_id = seg["document_id"]
        if doc_id not in verdicts:
            doc = ctx.store.document(ds["id"], doc_id)
            props = ctx.store.props(doc_id)
            ok = (doc is not None and props.get("enabled", True) and not props.get("archived")
                  and doc_state(ctx, doc) == "completed")  # fmt: skip
            if ok and flt is not None and doc is not None:
                values = {m["name"]: m["value"] for m in meta_values(ctx, doc)}
                ok = matches(flt, values)
            verdicts[doc_id] = bool(ok)
        return verdicts[doc_id] and ctx.store.props(seg["id"]).get("enabled", True)

    hits = retrieve(ctx.store, [ds["id"]], query, top_k=top_k, method=method,
                    threshold=threshold, keep=keep)  # fmt: skip
    records = []
    for seg, sc in hits:
        rec: dict[str, Any] = {
            "segment": segment_body(ctx, seg, with_document=True),
            "child_chunks": None,
            "score": sc,
            "tsne_position": None,
        }
        if not ctx.wire.v015:
            rec.update(files=[], summary=None)
        records.append(rec)
    return ctx.wire.json({"query": {"content": query}, "records": records})


_DS: Final = "/datasets/{dataset_id:uuid}"

ROUTES: Final = [
    Route("GET", "/datasets", list_datasets, auth="dataset"),
    Route("POST", "/datasets", create_dataset, auth="dataset"),
    *_routes_kb_meta.ROUTES,  # before {dataset_id}: /datasets/tags is not an id
    Route("GET", _DS, get_dataset_route, auth="dataset"),
    Route("PATCH", _DS, update_dataset, auth="dataset"),
    Route("DELETE", _DS, delete_dataset, auth="dataset"),
    *_routes_kb_docs.ROUTES,
    *_routes_kb_chunks.ROUTES,
    Route("POST", _DS + "/retrieve", retrieve_endpoint, auth="dataset"),
    Route("POST", _DS + "/hit-testing", retrieve_endpoint, auth="dataset"),
]
