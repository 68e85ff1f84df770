"""``display_sources``: a notebook table of the passages behind an answer or a retrieval.

What it reads and shows: docs/architecture.md, "Notebook displays".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage

from dify_transport.display import (
    SNIPPET_CHARS,
    SourcesTable,
    resource_mappings,
    source_rows,
    sources_table,
)

__all__ = ["display_sources"]


def _from_document(document: Document) -> Mapping[str, Any]:
    return {**document.metadata, "content": document.page_content}


def display_sources(
    source: BaseMessage | Document | Iterable[Document], *, snippet_chars: int = SNIPPET_CHARS
) -> SourcesTable:
    """A table of cited passages (document, score, snippet) that a notebook renders.

    ```python
    from langchain_dify import display_sources

    display_sources(llm.invoke("What is Dify?"))  # the answer's retriever_resources
    display_sources(retriever.invoke("warranty"))  # DifyRetriever / DifyKnowledgeRetriever
    ```

    Args:
        source: A ``ChatDify`` message (its ``response_metadata["retriever_resources"]``),
            a ``Document`` or a list of them (their metadata: ``document_name``,
            ``dataset_name``, ``score``, ``position``).
        snippet_chars: Longest passage snippet shown.

    Returns:
        A `SourcesTable` (``_repr_html_`` / ``_repr_markdown_``; ``repr`` is plain text).

    Raises:
        DifyInputError: ``source`` is none of these.
    """
    if isinstance(source, BaseMessage):
        resources = resource_mappings(source.response_metadata)
        return SourcesTable(source_rows(resources, snippet_chars=snippet_chars))
    takes = "a ChatDify message or Documents from a retriever"
    return sources_table(
        source, Document, _from_document, snippet_chars, items="Documents", takes=takes
    )
