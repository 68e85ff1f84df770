"""Retrieval over the stored corpus and the wire shapes of retriever resources."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import Any, Final

from dify_emulator._corpus import bm25, terms
from dify_emulator._store import Store

__all__ = [
    "display_scores",
    "render_history_resources",
    "render_resources",
    "retrieve",
    "to_resource",
]


_PRIOR: Final = 0.12
_HALF: Final = 3.0  # the BM25 score that displays as a 0.5 overlap
_OVERLAP_WEIGHT: Final = 0.85
_STEP: Final = 0.0001


def display_scores(overlaps: list[float]) -> list[float]:
    """Believable scores for segments ranked by word overlap (best first).

    A blend of the overlap (square root: word overlap is stingier than embeddings) and a
    small prior that fades linearly with rank, in (0, 1], rounded to 4 places and
    strictly decreasing, so ties and zero overlaps still get distinct, non-zero scores
    (strict for rankings of up to ~1,000 segments).
    """
    n = len(overlaps)
    out: list[float] = []
    for rank, overlap in enumerate(overlaps):
        value = _PRIOR * (n - rank) / n + _OVERLAP_WEIGHT * math.sqrt(overlap)
        value = round(min(value, 1.0), 4)
        if out and value > out[-1] - _STEP:
            value = round(out[-1] - _STEP, 4)
        out.append(max(value, _STEP))
    return out


def retrieve(
    store: Store,
    dataset_ids: list[str],
    query: str,
    *,
    top_k: int = 3,
    method: str = "semantic_search",
    threshold: float | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> list[tuple[dict[str, Any], float]]:
    """Top ``top_k`` segments by BM25 (ties: corpus order), with display scores.

    Every search ``method`` ranks lexically (BM25 over the segments of ``dataset_ids``);
    a BM25 score ``s`` is shown through ``s / (s + 3)`` and :func:`display_scores`.
    ``threshold`` applies to the returned scores; ``keep`` (if given) chooses which
    segments are searched at all.
    """
    del method  # semantic, full-text, keyword and hybrid all rank by BM25 here
    segments = store.segments(dataset_ids)
    if keep is not None:
        segments = [seg for seg in segments if keep(seg)]
    raw = bm25(terms(query), [seg["terms"] for seg in segments])
    order = sorted(range(len(raw)), key=lambda i: (-raw[i], i))
    shown = display_scores([raw[i] / (raw[i] + _HALF) for i in order])
    ranked = [(segments[i], sc) for i, sc in zip(order, shown, strict=True)]
    if threshold is not None:
        ranked = [(seg, sc) for seg, sc in ranked if sc >= threshold]
    return ranked[: max(top_k, 0)]


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
