"""A knowledge-base passage, the same in every framework (pure): its text and metadata."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dify_transport.types import RetrieveRecord, Segment

__all__ = ["hit_metadata", "segment_text"]


def segment_text(segment: Segment) -> str:
    """The passage text of a retrieved segment.

    A Q&A segment (one with an ``answer``) reads ``question: ...`` / ``answer: ...``,
    as Dify cites it; any other segment is its ``content``.
    """
    if segment.answer:
        return f"question: {segment.content}\nanswer: {segment.answer}"
    return segment.content


def hit_metadata(record: RetrieveRecord, dataset_id: str) -> dict[str, Any]:
    """A knowledge hit's metadata: its document's Dify fields, then (winning) ids, score, ..."""
    segment = record.segment
    document = segment.document
    return {
        **((document.doc_metadata or {}) if document else {}),
        "dataset_id": dataset_id,
        "document_id": segment.document_id or (document.id if document else None),
        "document_name": document.name if document else None,
        "data_source_type": document.data_source_type if document else None,
        "segment_id": segment.id,
        "score": record.score,
        "position": segment.position,
    }
