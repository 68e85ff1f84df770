"""Dify passages -> LlamaIndex ``NodeWithScore`` (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from llama_index.core.schema import NodeWithScore, TextNode

from dify_transport.passages import hit_metadata, segment_text
from dify_transport.types import RetrieveRecord

__all__ = ["node_from_record", "node_from_resource", "nodes_from_resources"]

_RESOURCE_KEYS = (
    "position",
    "dataset_id",
    "dataset_name",
    "document_id",
    "document_name",
    "data_source_type",
    "segment_position",
    "page",
    "title",
    "summary",
)
"""Keys of a Dify ``retriever_resources`` entry kept as node metadata."""

_LLM_VISIBLE = frozenset({"document_name", "dataset_name", "title", "page"})
"""Metadata keys shown to LLMs and embedders; ids and positions stay hidden."""


def _node(
    node_id: str | None, text: str, metadata: dict[str, Any], visible: frozenset[str] = frozenset()
) -> TextNode:
    hidden = [key for key in metadata if key not in _LLM_VISIBLE and key not in visible]
    node = TextNode(
        text=text,
        metadata=metadata,
        excluded_llm_metadata_keys=hidden,
        excluded_embed_metadata_keys=hidden,
    )
    if node_id:
        node.id_ = node_id
    return node


def node_from_resource(resource: Mapping[str, Any]) -> NodeWithScore:
    """Build a node from one ``retriever_resources`` entry (as Dify sent it).

    Args:
        resource: The entry (``segment_id``, ``content``, ``score``, ids, names...).

    Returns:
        ``NodeWithScore(TextNode(id_=segment_id, text=content, metadata=...), score)``.
    """
    metadata = {key: resource[key] for key in _RESOURCE_KEYS if resource.get(key) is not None}
    segment_id = resource.get("segment_id")
    node = _node(
        segment_id if isinstance(segment_id, str) else None,
        str(resource.get("content") or ""),
        metadata,
    )
    score = resource.get("score")
    return NodeWithScore(node=node, score=float(score) if score is not None else None)


def nodes_from_resources(resources: Iterable[Mapping[str, Any]]) -> list[NodeWithScore]:
    """Build nodes from ``retriever_resources`` entries, keeping Dify's order."""
    return [node_from_resource(resource) for resource in resources]


def node_from_record(record: RetrieveRecord, dataset_id: str) -> NodeWithScore:
    """A knowledge-API hit as a node (text and metadata: `dify_transport.passages`).

    The document's Dify metadata fields are shown to LLMs, the rest is hidden.
    """
    segment = record.segment
    document = segment.document
    shown = frozenset(document.doc_metadata or {}) if document else frozenset()
    node = _node(segment.id, segment_text(segment), hit_metadata(record, dataset_id), shown)
    return NodeWithScore(node=node, score=record.score)
