"""Retrieval over the stored corpus and the wire shapes of retriever resources."""

from __future__ import annotations

import uuid
from typing import Any

from dify_transport.emulator._corpus import score, tokens
from dify_transport.emulator._store import Store

__all__ = ["render_history_resources", "render_resources", "retrieve", "to_resource"]


def retrieve(
    store: Store,
    dataset_ids: list[str],
    query: str,
    *,
    top_k: int = 3,
    method: str = "semantic_search",
    threshold: float | None = None,
) -> list[tuple[dict[str, Any], float]]:
    """Top ``top_k`` segments by word overlap (ties: corpus order), with scores."""
    q = tokens(query)
    scored = [(seg, score(q, seg["tokens_set"], method)) for seg in store.segments(dataset_ids)]
    if threshold is not None:
        scored = [(s, sc) for s, sc in scored if sc >= threshold]
    order = sorted(range(len(scored)), key=lambda i: (-scored[i][1], i))
    return [scored[i] for i in order[: max(top_k, 0)]]


def to_resource(seg: dict[str, Any], sc: float, position: int) -> dict[str, Any]:
    """A neutral retriever-resource record (the 1.x ``message_end`` field set)."""
    return {
        "position": position,
        "dataset_id": seg["dataset_id"],
        "dataset_name": seg["dataset_name"],
        "document_id": seg["document_id"],
        "document_name": seg["document_name"],
        "data_source_type": "upload_file",
        "segment_id": seg["id"],
        "retriever_from": "api",
        "score": sc,
        "hit_count": None,
        "word_count": None,
        "segment_position": None,
        "index_node_hash": None,
        "content": seg["content"],
        "page": None,
        "doc_metadata": None,
        "title": None,
        "files": None,
        "summary": None,
    }


_KEYS_015 = (
    "dataset_id",
    "dataset_name",
    "document_id",
    "document_name",
    "data_source_type",
    "segment_id",
    "retriever_from",
    "score",
    "content",
    "position",
)


def render_resources(resources: list[dict[str, Any]], *, v015: bool) -> list[dict[str, Any]]:
    """Resources as ``message_end`` / blocking metadata carries them."""
    if v015:
        return [{k: r[k] for k in _KEYS_015} for r in resources]
    return [dict(r) for r in resources]


def render_history_resources(
    resources: list[dict[str, Any]], message_id: str, created_at: int, *, v015: bool
) -> list[dict[str, Any]]:
    """Resources as ``GET /messages`` items carry them."""
    out = []
    for i, r in enumerate(resources):
        item: dict[str, Any] = {
            # 0.15 ids come from a table (stable); 1.x regenerates them per request.
            "id": str(uuid.uuid5(uuid.UUID(message_id), str(i))) if v015 else str(uuid.uuid4()),
            "message_id": message_id if v015 else str(uuid.uuid4()),
            "position": r["position"],
            "dataset_id": r["dataset_id"],
            "dataset_name": r["dataset_name"],
            "document_id": r["document_id"],
            "document_name": r["document_name"],
            "data_source_type": r["data_source_type"],
            "segment_id": r["segment_id"],
            "score": r["score"],
            "hit_count": 0 if v015 else None,
            "word_count": 0 if v015 else None,
            "segment_position": 0 if v015 else None,
            "index_node_hash": None,
            "content": r["content"],
        }
        if v015:
            item["created_at"] = created_at
        else:
            item["summary"] = None
            item["created_at"] = None
        out.append(item)
    return out
