"""Knowledge API models: datasets, documents, segments, indexing status and retrieve."""

# Pydantic copies list/dict defaults per instance; ruff cannot see across files that
# DifyModel is a BaseModel (as it could in the single-module types.py), hence:
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any, Generic, TypeVar

from dify_transport.types._common import DifyModel

_T = TypeVar("_T")

__all__ = [
    "Dataset",
    "DatasetPage",
    "Document",
    "DocumentCreated",
    "DocumentPage",
    "IndexingStatus",
    "IndexingStatusList",
    "RetrieveRecord",
    "RetrieveResponse",
    "Segment",
    "SegmentDocument",
    "SegmentPage",
]


class SegmentDocument(DifyModel):
    """The document a retrieved segment belongs to."""

    id: str | None = None
    """Document id."""
    name: str | None = None
    """Document name."""
    data_source_type: str | None = None
    """``upload_file``, ``notion_import``, ..."""
    doc_type: str | None = None
    """Document type."""
    doc_metadata: dict[str, Any] | None = None
    """The document's metadata values by field name (1.x)."""


class Segment(DifyModel):
    """A knowledge segment (chunk)."""

    id: str
    """Segment id."""
    position: int | None = None
    """Position in its document."""
    document_id: str | None = None
    """Document id."""
    content: str = ""
    """Segment text."""
    answer: str | None = None
    """Answer part of Q&A segments."""
    word_count: int | None = None
    """Characters."""
    tokens: int | None = None
    """Tokens."""
    keywords: list[str] | None = None
    """Keywords."""
    status: str | None = None
    """Indexing status."""
    enabled: bool | None = None
    """Whether the segment is enabled."""
    document: SegmentDocument | None = None
    """The segment's document (retrieve only)."""


class RetrieveRecord(DifyModel):
    """One hit of ``POST /datasets/{id}/retrieve``."""

    segment: Segment
    """The matching segment."""
    score: float | None = None
    """Similarity score."""
    child_chunks: list[dict[str, Any]] | None = None
    """Matching child chunks (parent-child indexing)."""
    tsne_position: Any = None
    """Unused by the API."""


class RetrieveResponse(DifyModel):
    """The answer of ``POST /datasets/{id}/retrieve``."""

    query: dict[str, Any] = {}
    """``{"content": <query>}``."""
    records: list[RetrieveRecord] = []
    """Hits, best first."""


class Dataset(DifyModel):
    """A knowledge base."""

    id: str
    """Dataset id."""
    name: str | None = None
    """Name."""
    description: str | None = None
    """Description."""
    indexing_technique: str | None = None
    """``high_quality`` or ``economy``."""
    document_count: int | None = None
    """Number of documents."""
    word_count: int | None = None
    """Number of characters."""
    created_at: int | None = None
    """Creation time, Unix seconds."""


class _NumberedPage(DifyModel, Generic[_T]):
    """A page of a page-number listing."""

    data: list[_T] = []
    """The items."""
    has_more: bool = False
    """True when later pages exist."""
    limit: int = 20
    """Page size."""
    total: int = 0
    """Number of items."""
    page: int = 1
    """Page number."""


class DatasetPage(_NumberedPage[Dataset]):
    """A page of knowledge bases (page-number paging)."""


class Document(DifyModel):
    """A knowledge document."""

    id: str
    """Document id."""
    name: str | None = None
    """Name."""
    position: int | None = None
    """Position in the knowledge base."""
    data_source_type: str | None = None
    """Source type."""
    indexing_status: str | None = None
    """``waiting``, ``indexing``, ``completed``, ``error``..."""
    enabled: bool | None = None
    """Whether the document is enabled."""
    word_count: int | None = None
    """Characters."""
    created_at: int | None = None
    """Creation time, Unix seconds."""
    display_status: str | None = None
    """``queuing``, ``indexing``, ``available``, ``disabled``, ``archived``, ``error``..."""
    archived: bool | None = None
    """Whether the document is archived."""
    doc_metadata: list[dict[str, Any]] | None = None
    """Metadata values ``[{id, name, type, value}]`` (document detail)."""


class DocumentCreated(DifyModel):
    """The answer of a document creation: the document and its indexing batch."""

    document: Document
    """The new document."""
    batch: str = ""
    """Batch id for ``get_indexing_status``."""


class DocumentPage(_NumberedPage[Document]):
    """A page of documents."""


class IndexingStatus(DifyModel):
    """Indexing progress of one document."""

    id: str
    """Document id."""
    indexing_status: str | None = None
    """``waiting``, ``parsing``, ``indexing``, ``completed``, ``error``..."""
    completed_segments: int | None = None
    """Segments indexed so far."""
    total_segments: int | None = None
    """Segments in total."""
    error: str | None = None
    """Error text."""


class IndexingStatusList(DifyModel):
    """Indexing progress of a batch."""

    data: list[IndexingStatus] = []
    """One entry per document of the batch."""


class SegmentPage(DifyModel):
    """Segments of a document."""

    data: list[Segment] = []
    """The segments."""
    doc_form: str | None = None
    """``text_model``, ``qa_model``, ``hierarchical_model``."""
    has_more: bool = False
    """True when later pages exist (1.x)."""
    total: int | None = None
    """Number of segments (1.x)."""
