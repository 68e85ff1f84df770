"""Knowledge API models beyond search: chunks, child chunks, tags, metadata, models."""

# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any

from dify_transport.types._common import DifyModel
from dify_transport.types._knowledge import Segment

__all__ = [
    "BuiltInField",
    "ChildChunk",
    "ChildChunkPage",
    "DatasetTags",
    "DocumentDownload",
    "DocumentMetadataValue",
    "KnowledgeTag",
    "MetadataField",
    "MetadataFieldList",
    "ModelProvider",
    "ModelProviderList",
    "SegmentDetail",
    "SegmentList",
]


class SegmentList(DifyModel):
    """The answer of ``POST .../segments``: the chunks created."""

    data: list[Segment] = []
    """The new chunks."""
    doc_form: str | None = None
    """The document's chunking mode."""


class SegmentDetail(DifyModel):
    """One chunk (``GET`` / update of ``.../segments/{segment_id}``)."""

    data: Segment
    """The chunk."""
    doc_form: str | None = None
    """The document's chunking mode."""


class ChildChunk(DifyModel):
    """A child chunk of a parent-child (``hierarchical_model``) segment."""

    id: str
    """Child chunk id."""
    segment_id: str | None = None
    """Parent segment id."""
    content: str = ""
    """Text."""
    position: int | None = None
    """Position in the segment."""
    word_count: int | None = None
    """Characters."""
    type: str | None = None
    """``automatic`` or ``customized``."""
    created_at: int | None = None
    """Creation time, Unix seconds."""


class ChildChunkPage(DifyModel):
    """A page of child chunks."""

    data: list[ChildChunk] = []
    """The child chunks."""
    total: int = 0
    """Number of child chunks."""
    total_pages: int = 0
    """Number of pages."""
    page: int = 1
    """Page number."""
    limit: int = 20
    """Page size."""


class KnowledgeTag(DifyModel):
    """A knowledge tag (``binding_count`` is a string on the wire)."""

    id: str
    """Tag id."""
    name: str = ""
    """Tag name."""
    type: str | None = None
    """``knowledge``."""
    binding_count: int | None = None
    """Knowledge bases bound to the tag (Dify sends it as a string)."""


class DatasetTags(DifyModel):
    """The tags bound to one knowledge base."""

    data: list[KnowledgeTag] = []
    """The tags."""
    total: int = 0
    """Number of tags."""


class MetadataField(DifyModel):
    """A knowledge base's metadata field."""

    id: str
    """Field id."""
    name: str = ""
    """Field name (the name used in metadata filters)."""
    type: str = "string"
    """``string``, ``number`` or ``time``."""
    count: int | None = None
    """Documents having a value (listing only)."""


class MetadataFieldList(DifyModel):
    """``GET /datasets/{id}/metadata``."""

    doc_metadata: list[MetadataField] = []
    """The custom fields."""
    built_in_field_enabled: bool = False
    """Whether the built-in fields (document_name, uploader, ...) are on."""


class BuiltInField(DifyModel):
    """A built-in metadata field (``document_name``, ``uploader``, ``upload_date``, ...)."""

    name: str
    """Field name."""
    type: str = "string"
    """``string`` or ``time``."""


class DocumentMetadataValue(DifyModel):
    """One metadata value of a document (``doc_metadata`` of a document detail)."""

    id: str | None = None
    """Field id (``built-in`` for built-in fields)."""
    name: str
    """Field name."""
    type: str | None = None
    """Field type."""
    value: Any = None
    """The value."""


class DocumentDownload(DifyModel):
    """``GET .../documents/{id}/download``: a signed URL of the original file."""

    url: str
    """Signed download URL."""


class ModelProvider(DifyModel):
    """A model provider and its models of one type."""

    provider: str
    """Provider id (``langgenius/openai/openai``)."""
    label: dict[str, Any] = {}
    """Display names by language."""
    status: str | None = None
    """``active`` when configured."""
    models: list[dict[str, Any]] = []
    """The models (``model``, ``model_type``, ``status``, ``model_properties``, ...)."""


class ModelProviderList(DifyModel):
    """``GET /workspaces/current/models/model-types/{type}``."""

    data: list[ModelProvider] = []
    """The providers."""
