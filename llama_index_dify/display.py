"""``display_sources``: a notebook table of the passages behind an answer or a retrieval.

LlamaIndex's own objects are not patched: this helper reads them and hands plain
mappings to ``dify_transport.display``, the same table a ``Result`` shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.schema import NodeWithScore

from dify_transport.display import SNIPPET_CHARS, SourcesTable, source_rows
from dify_transport.turns import DifyInputError

__all__ = ["display_sources"]


def _from_node(node: NodeWithScore) -> Mapping[str, Any]:
    return {
        "segment_id": node.node.node_id,
        **node.node.metadata,
        "score": node.score,
        "content": node.node.get_content(),
    }


def _from_kwargs(kwargs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    resources = kwargs.get("retriever_resources")
    return [r for r in resources if isinstance(r, Mapping)] if isinstance(resources, list) else []


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
    items: list[Mapping[str, Any]]
    if isinstance(source, ChatResponse):
        items = _from_kwargs(source.message.additional_kwargs) or _from_kwargs(
            source.additional_kwargs
        )
    elif isinstance(source, ChatMessage):
        items = _from_kwargs(source.additional_kwargs)
    elif isinstance(source, NodeWithScore):
        items = [_from_node(source)]
    elif hasattr(source, "source_nodes"):
        return display_sources(list(source.source_nodes), snippet_chars=snippet_chars)
    elif isinstance(source, Iterable) and not isinstance(source, str | bytes | Mapping):
        listed = list(source)
        wrong = [type(item).__name__ for item in listed if not isinstance(item, NodeWithScore)]
        if wrong:
            raise DifyInputError(
                "display_sources takes NodeWithScore items; "
                f"got {', '.join(sorted(set(wrong)))} in the list"
            )
        items = [_from_node(node) for node in listed]
    else:
        raise DifyInputError(
            "display_sources takes NodeWithScore items, a response with source_nodes, "
            f"or a DifyLLM ChatResponse; got {type(source).__name__}"
        )
    return SourcesTable(source_rows(items, snippet_chars=snippet_chars))
