"""`KnowledgeStore`: the Dify side of both frameworks' knowledge stores.

``langchain_dify.DifyKnowledgeBase`` and ``llama_index_dify.DifyKnowledgeIndex`` hold
one: the checked dataset id, the lazy knowledge clients, and adding / deleting
documents with the ingestion settings given once. The adapters only turn their
documents into ``(text, metadata, id)`` and back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dify_transport._async._knowledge_client import AsyncDifyKnowledgeClient
from dify_transport._indexing import DEFAULT_MAX_WAIT
from dify_transport._ingest import Passage, text_documents
from dify_transport._lifecycle import ClientSettings, LazyClients, dataset_id_or_env
from dify_transport._sync._knowledge_client import DifyKnowledgeClient
from dify_transport.passages import segment_text

__all__ = ["KnowledgeStore"]


class KnowledgeStore:
    """A knowledge base's id, clients and ingestion settings (no I/O until used).

    Args:
        dataset_id: Knowledge base id (None: ``$DIFY_DATASET_ID``).
        settings: What the clients are built from.
        indexing_technique: ``high_quality`` or ``economy`` for new documents.
        process_rule: Dify's chunking rule (None: automatic).
        wait: Wait for indexing when adding.
        max_wait: Seconds to wait per batch.
        progress: Show indexing progress (None: on a terminal or in a notebook).

    Raises:
        DifyConfigError: No dataset id given or set.
    """

    def __init__(
        self,
        dataset_id: str | None,
        settings: ClientSettings,
        *,
        indexing_technique: str = "high_quality",
        process_rule: Mapping[str, Any] | None = None,
        wait: bool = True,
        max_wait: float = DEFAULT_MAX_WAIT,
        progress: bool | None = None,
    ) -> None:
        self.dataset_id = dataset_id_or_env(dataset_id)
        self.clients: LazyClients[DifyKnowledgeClient, AsyncDifyKnowledgeClient] = LazyClients(
            DifyKnowledgeClient, AsyncDifyKnowledgeClient, settings
        )
        self._ingest: dict[str, Any] = {
            "indexing_technique": indexing_technique,
            "process_rule": process_rule,
            "wait": wait,
            "max_wait": max_wait,
            "progress": progress,
        }

    def add(self, passages: Iterable[Passage]) -> list[str]:
        """Add one document per ``(text, metadata, id)`` (`add_documents`); the Dify ids."""
        docs = text_documents(passages)
        return self.clients.sync().add_documents(self.dataset_id, docs, **self._ingest)

    async def aadd(self, passages: Iterable[Passage]) -> list[str]:
        """Async `add`."""
        docs = text_documents(passages)
        return await self.clients.async_().add_documents(self.dataset_id, docs, **self._ingest)

    def delete(self, ids: Iterable[str]) -> None:
        """Delete Dify documents by id."""
        client = self.clients.sync()
        for doc_id in ids:
            client.delete_document(self.dataset_id, doc_id)

    async def adelete(self, ids: Iterable[str]) -> None:
        """Async `delete`."""
        client = self.clients.async_()
        for doc_id in ids:
            await client.delete_document(self.dataset_id, doc_id)

    def read(self, ids: Iterable[str]) -> list[Passage]:
        """Each document's text (its first 100 chunks joined) and Dify metadata values.

        The metadata also holds ``document_id`` and ``document_name``.
        """
        client = self.clients.sync()
        out: list[Passage] = []
        for doc_id in ids:
            detail = client.get_document(self.dataset_id, doc_id)
            segments = client.list_segments(self.dataset_id, doc_id, limit=100)
            text = "\n\n".join(segment_text(s) for s in segments.data)
            meta = {m["name"]: m.get("value") for m in detail.doc_metadata or []}
            meta.update(document_id=doc_id, document_name=detail.name)
            out.append((text, meta, doc_id))
        return out
