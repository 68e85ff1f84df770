"""`AsyncKnowledgeDocuments`: documents, chunks (segments) and child chunks, as methods.

A base of `AsyncDifyKnowledgeClient` (kept apart only to keep modules small); each
method sends one endpoint defined in ``dify_transport/_knowledge_api_docs.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dify_transport import _knowledge_api_docs as api
from dify_transport._app_api import Headers
from dify_transport._async._engine import AsyncAPIClient
from dify_transport._base_client import TimeoutTypes
from dify_transport._files import FileTypes
from dify_transport.types import (
    ChildChunk,
    ChildChunkPage,
    Document,
    DocumentCreated,
    DocumentDownload,
    DocumentPage,
    IndexingStatusList,
    SegmentDetail,
    SegmentList,
    SegmentPage,
)

__all__ = ["AsyncKnowledgeDocuments"]


def _settings(
    indexing_technique: str | None,
    doc_form: str | None,
    doc_language: str | None,
    process_rule: Mapping[str, Any] | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "indexing_technique": indexing_technique,
        "doc_form": doc_form,
        "doc_language": doc_language,
        "process_rule": dict(process_rule) if process_rule else None,
    }
    out.update(extra or {})
    return out


class AsyncKnowledgeDocuments(AsyncAPIClient):
    """Document, chunk and child-chunk methods of the knowledge client.

    Document settings: ``indexing_technique`` (``high_quality`` / ``economy``),
    ``doc_form`` (``text_model``, ``hierarchical_model``, ``qa_model``),
    ``doc_language``, ``process_rule`` (default ``{"mode": "automatic"}``) and ``extra``
    (any other field Dify takes, e.g. ``retrieval_model``, ``embedding_model``).
    """

    async def create_document_by_text(
        self,
        dataset_id: str,
        name: str,
        text: str,
        *,
        indexing_technique: str | None = "high_quality",
        doc_form: str | None = None,
        doc_language: str | None = None,
        process_rule: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DocumentCreated:
        """Add a text document; `wait_for_indexing` with the returned ``batch``."""
        settings = _settings(indexing_technique, doc_form, doc_language, process_rule, extra)
        call = api.create_document_by_text(dataset_id, name, text, settings)
        return await self._send(call, timeout, extra_headers)

    async def create_document_by_file(
        self,
        dataset_id: str,
        file: FileTypes,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        indexing_technique: str | None = "high_quality",
        doc_form: str | None = None,
        doc_language: str | None = None,
        process_rule: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DocumentCreated:
        """Upload a file (bytes, path or binary file object) as a document."""
        settings = _settings(indexing_technique, doc_form, doc_language, process_rule, extra)
        call = api.create_document_by_file(
            dataset_id, file, settings, filename=filename, mime_type=mime_type
        )
        return await self._send(call, timeout, extra_headers)

    async def update_document_by_text(
        self,
        dataset_id: str,
        document_id: str,
        *,
        name: str | None = None,
        text: str | None = None,
        doc_form: str | None = None,
        doc_language: str | None = None,
        process_rule: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DocumentCreated:
        """Replace a document's name and/or text (re-indexed: wait on the new ``batch``)."""
        settings = _settings(None, doc_form, doc_language, process_rule, extra)
        settings.update(name=name, text=text)
        call = api.update_document_by_text(dataset_id, document_id, settings)
        return await self._send(call, timeout, extra_headers)

    async def update_document_by_file(
        self,
        dataset_id: str,
        document_id: str,
        file: FileTypes,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
        doc_form: str | None = None,
        doc_language: str | None = None,
        process_rule: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DocumentCreated:
        """Replace a document's file (re-indexed: wait on the new ``batch``)."""
        settings = _settings(None, doc_form, doc_language, process_rule, extra)
        call = api.update_document_by_file(
            dataset_id, document_id, file, settings, filename=filename, mime_type=mime_type
        )
        return await self._send(call, timeout, extra_headers)

    async def list_documents(
        self,
        dataset_id: str,
        *,
        page: int = 1,
        limit: int = 20,
        keyword: str | None = None,
        status: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DocumentPage:
        """One page of a knowledge base's documents (``status``: ``available``, ``error``...)."""
        call = api.list_documents(
            dataset_id, page=page, limit=limit, keyword=keyword, status=status
        )
        return await self._send(call, timeout, extra_headers)

    async def get_document(
        self,
        dataset_id: str,
        document_id: str,
        *,
        metadata: api.MetadataView = "all",
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Document:
        """One document, with its metadata values (``doc_metadata``)."""
        call = api.get_document(dataset_id, document_id, metadata=metadata)
        return await self._send(call, timeout, extra_headers)

    async def delete_document(
        self,
        dataset_id: str,
        document_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Delete a document and its chunks."""
        await self._send(api.delete_document(dataset_id, document_id), timeout, extra_headers)

    async def get_document_download_url(
        self,
        dataset_id: str,
        document_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DocumentDownload:
        """A signed URL of the document's original file."""
        call = api.get_document_download_url(dataset_id, document_id)
        return await self._send(call, timeout, extra_headers)

    async def download_documents_zip(
        self,
        dataset_id: str,
        document_ids: Sequence[str],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> bytes:
        """The original files of up to 100 documents, as one ZIP archive."""
        call = api.download_documents_zip(dataset_id, document_ids)
        return await self._send(call, timeout, extra_headers)

    async def set_documents_status(
        self,
        dataset_id: str,
        action: api.DocumentAction,
        document_ids: Sequence[str],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """``enable``, ``disable``, ``archive`` or ``un_archive`` documents."""
        call = api.set_documents_status(dataset_id, action, document_ids)
        await self._send(call, timeout, extra_headers)

    async def get_indexing_status(
        self,
        dataset_id: str,
        batch: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> IndexingStatusList:
        """Indexing progress of a document batch (see `wait_for_indexing`)."""
        return await self._send(api.get_indexing_status(dataset_id, batch), timeout, extra_headers)

    async def create_segments(
        self,
        dataset_id: str,
        document_id: str,
        segments: Sequence[Mapping[str, Any]],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> SegmentList:
        """Add chunks ``[{"content": ..., "answer"?: ..., "keywords"?: [...]}]``."""
        call = api.create_segments(dataset_id, document_id, segments)
        return await self._send(call, timeout, extra_headers)

    async def list_segments(
        self,
        dataset_id: str,
        document_id: str,
        *,
        keyword: str | None = None,
        status: str | None = None,
        page: int | None = None,
        limit: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> SegmentPage:
        """Segments (chunks) of a document."""
        call = api.list_segments(
            dataset_id, document_id, keyword=keyword, status=status, page=page, limit=limit
        )
        return await self._send(call, timeout, extra_headers)

    async def get_segment(
        self,
        dataset_id: str,
        document_id: str,
        segment_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> SegmentDetail:
        """One chunk."""
        call = api.get_segment(dataset_id, document_id, segment_id)
        return await self._send(call, timeout, extra_headers)

    async def update_segment(
        self,
        dataset_id: str,
        document_id: str,
        segment_id: str,
        segment: Mapping[str, Any],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> SegmentDetail:
        """Change a chunk: ``{"content"?, "answer"?, "keywords"?, "enabled"?, ...}``."""
        call = api.update_segment(dataset_id, document_id, segment_id, segment)
        return await self._send(call, timeout, extra_headers)

    async def delete_segment(
        self,
        dataset_id: str,
        document_id: str,
        segment_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Delete a chunk."""
        call = api.delete_segment(dataset_id, document_id, segment_id)
        await self._send(call, timeout, extra_headers)

    async def create_child_chunk(
        self,
        dataset_id: str,
        document_id: str,
        segment_id: str,
        content: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ChildChunk:
        """Add a child chunk to a parent-child segment."""
        call = api.create_child_chunk(dataset_id, document_id, segment_id, content)
        return await self._send(call, timeout, extra_headers)

    async def list_child_chunks(
        self,
        dataset_id: str,
        document_id: str,
        segment_id: str,
        *,
        page: int = 1,
        limit: int = 20,
        keyword: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ChildChunkPage:
        """One page of a segment's child chunks."""
        call = api.list_child_chunks(
            dataset_id, document_id, segment_id, page=page, limit=limit, keyword=keyword
        )
        return await self._send(call, timeout, extra_headers)

    async def update_child_chunk(
        self,
        dataset_id: str,
        document_id: str,
        segment_id: str,
        child_chunk_id: str,
        content: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ChildChunk:
        """Replace a child chunk's text."""
        call = api.update_child_chunk(dataset_id, document_id, segment_id, child_chunk_id, content)
        return await self._send(call, timeout, extra_headers)

    async def delete_child_chunk(
        self,
        dataset_id: str,
        document_id: str,
        segment_id: str,
        child_chunk_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Delete a child chunk."""
        call = api.delete_child_chunk(dataset_id, document_id, segment_id, child_chunk_id)
        await self._send(call, timeout, extra_headers)
