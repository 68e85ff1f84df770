"""``display_sources``: a notebook table of the passages behind an answer or a retrieval.

What it reads and shows: docs/architecture.md, "Notebook displays".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.schema import NodeWithScore

from dify_transport.display import (
    SNIPPET_CHARS,
    SourcesTable,
    resource_mappings,
    source_rows,
    sources_table,
)

__all__ = ["display_sources"]


def _from_node(node: NodeWithScore) -> Mapping[str, Any]:
    return {
        "segment_id": node.node.node_id,
        **node.node.metadata,
        "score": node.score,
        "content": node.node.get_content(),
    }


def display_sources(source: Any, *, snippet_chars: int = SNIPPET_CHARS) -> SourcesTable:
    """A table of cited passages (document, score, snippet) that a notebook renders.

    ```python
    from llama_index_dify import display_sources

    display_sources(engine.chat("What is Dify?"))  # a response's source_nodes
    display_sources(retriever.retrieve("warranty"))  # NodeWithScore list
    ```

    Args:
        source: A list of ``NodeWithScore`` (a retriever's result), anything with
            ``source_nodes`` (chat engine and query engine responses), or a ``DifyLLM``
            ``ChatResponse`` / ``ChatMessage`` (its ``retriever_resources``).
        snippet_chars: Longest passage snippet shown.

    Returns:
        A `SourcesTable` (``_repr_html_`` / ``_repr_markdown_``; ``repr`` is plain text).

    Raises:
        DifyInputError: ``source`` is none of these.
    """
    if isinstance(source, ChatResponse):
        resources = resource_mappings(source.message.additional_kwargs)
        resources = resources or resource_mappings(source.additional_kwargs)
    elif isinstance(source, ChatMessage):
        resources = resource_mappings(source.additional_kwargs)
    else:
        nodes = list(source.source_nodes) if hasattr(source, "source_nodes") else source
        takes = "NodeWithScore items, a response with source_nodes, or a DifyLLM ChatResponse"
        items = "NodeWithScore items"
        return sources_table(
            nodes, NodeWithScore, _from_node, snippet_chars, items=items, takes=takes
        )
    return SourcesTable(source_rows(resources, snippet_chars=snippet_chars))
