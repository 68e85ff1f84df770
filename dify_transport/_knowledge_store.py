"""`KnowledgeStore`: the Dify side of ``DifyKnowledgeBase`` and ``DifyKnowledgeIndex``.

The adapters only turn their documents into `Passage`s ``(text, metadata, id)`` and back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias

from dify_transport._async._knowledge_client import AsyncDifyKnowledgeClient
from dify_transport._errors import DifyConfigError
from dify_transport._ingest import TextDocument, document_name
from dify_transport._lifecycle import ClientSettings, LazyClients, dataset_id_or_env
from dify_transport._sync._knowledge_client import DifyKnowledgeClient
from dify_transport.passages import segment_text

__all__ = ["KnowledgeStore", "Passage"]

Passage: TypeAlias = tuple[str, dict[str, Any], str | None]
"""A framework document as ``(text, metadata, id)``."""


def _documents(passages: Iterable[Passage]) -> list[TextDocument]:
    return [
        TextDocument(document_name(meta, doc_id, number), text, dict(meta))
        for number, (text, meta, doc_id) in enumerate(passages, 1)
    ]


class KnowledgeStore:
    """A knowledge base's checked id, lazy clients and ``add_documents`` settings (no I/O).

    ``ingest``: the keywords of `add_documents` (``indexing_technique``, ``wait``, ...).
    Raises `DifyConfigError` when no dataset id is given or set.
    """

    def __init__(self, dataset_id: str | None, settings: ClientSettings, **ingest: Any) -> None:
        self.dataset_id = dataset_id_or_env(dataset_id)
        self.clients: LazyClients[DifyKnowledgeClient, AsyncDifyKnowledgeClient] = LazyClients(
            DifyKnowledgeClient, AsyncDifyKnowledgeClient, settings
        )
        self._ingest = ingest

    def add(self, passages: Iterable[Passage]) -> list[str]:
        """Add one document per passage, named by `document_name`; the Dify ids."""
        docs = _documents(passages)
        return self.clients.sync().add_documents(self.dataset_id, docs, **self._ingest)

    async def aadd(self, passages: Iterable[Passage]) -> list[str]:
        """Async `add`."""
        docs = _documents(passages)
        return await self.clients.async_().add_documents(self.dataset_id, docs, **self._ingest)

    def delete(self, ids: list[str] | None) -> None:
        """Delete Dify documents by id."""
        client = self.clients.sync()
        for doc_id in _ids(ids):
            client.delete_document(self.dataset_id, doc_id)

    async def adelete(self, ids: list[str] | None) -> None:
        """Async `delete`."""
        client = self.clients.async_()
        for doc_id in _ids(ids):
            await client.delete_document(self.dataset_id, doc_id)

    def read(self, ids: Iterable[str]) -> list[Passage]:
        """Each document's text (first 100 chunks) and metadata, ``document_id``/``_name`` too."""
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


def _ids(ids: list[str] | None) -> list[str]:
    if not ids:
        raise DifyConfigError("Pass the document ids to delete (delete(ids=[...])).")
    return ids
