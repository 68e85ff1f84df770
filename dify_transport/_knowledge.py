"""`DifyKnowledgeClient` / `AsyncDifyKnowledgeClient`: the Knowledge API (dataset key)."""

# The contract gives every call a per-call httpx timeout (not an asyncio deadline).
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from dify_transport._base_client import AsyncAPIClient, Call, SyncAPIClient, TimeoutTypes
from dify_transport._calls import Headers, seg
from dify_transport._constants import DEFAULT_MAX_RETRIES, ENV_DATASET_API_KEY
from dify_transport.types import (
    Dataset,
    DatasetPage,
    DocumentCreated,
    DocumentPage,
    IndexingStatusList,
    RetrieveResponse,
    SegmentPage,
)

__all__ = ["AsyncDifyKnowledgeClient", "DifyKnowledgeClient"]


def _retrieve_call(
    dataset_id: str,
    query: str,
    *,
    top_k: int | None,
    search_method: str | None,
    score_threshold: float | None,
    reranking_enable: bool,
    retrieval_model: Mapping[str, Any] | None,
) -> Call:
    body: dict[str, Any] = {"query": query}
    if retrieval_model is not None:
        body["retrieval_model"] = dict(retrieval_model)
    elif top_k is not None or search_method or score_threshold is not None or reranking_enable:
        # Dify needs these keys together once retrieval_model is sent (else a 500).
        body["retrieval_model"] = {
            "search_method": search_method or "semantic_search",
            "reranking_enable": reranking_enable,
            "score_threshold_enabled": score_threshold is not None,
            "score_threshold": score_threshold,
            "top_k": top_k if top_k is not None else 4,
        }
    return Call("POST", f"/datasets/{seg(dataset_id)}/retrieve", json=body)


def _create_dataset_call(
    name: str, description: str | None, indexing_technique: str | None, permission: str | None
) -> Call:
    body = {
        "name": name,
        "description": description,
        "indexing_technique": indexing_technique,
        "permission": permission,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return Call("POST", "/datasets", json=body, idempotent=False)


def _create_doc_call(
    dataset_id: str,
    name: str,
    text: str,
    indexing_technique: str,
    process_rule: Mapping[str, Any] | None,
) -> Call:
    body = {
        "name": name,
        "text": text,
        "indexing_technique": indexing_technique,
        "process_rule": dict(process_rule) if process_rule else {"mode": "automatic"},
    }
    path = f"/datasets/{seg(dataset_id)}/document/create-by-text"
    return Call("POST", path, json=body, idempotent=False)


def _documents_call(dataset_id: str, page: int, limit: int, keyword: str | None) -> Call:
    params = {"page": page, "limit": limit, "keyword": keyword}
    return Call("GET", f"/datasets/{seg(dataset_id)}/documents", params=params)


def _status_call(dataset_id: str, batch: str) -> Call:
    return Call("GET", f"/datasets/{seg(dataset_id)}/documents/{seg(batch)}/indexing-status")


def _segments_call(dataset_id: str, document_id: str, keyword: str | None) -> Call:
    path = f"/datasets/{seg(dataset_id)}/documents/{seg(document_id)}/segments"
    return Call("GET", path, params={"keyword": keyword})


class DifyKnowledgeClient(SyncAPIClient):
    """Synchronous client for Dify's Knowledge API (a ``dataset-...`` key).

    Setup: ``export DIFY_DATASET_API_KEY=dataset-...`` (and ``DIFY_BASE_URL``).

    Example:
        ```python
        from dify_transport import DifyKnowledgeClient

        with DifyKnowledgeClient() as kc:
            hits = kc.retrieve("<dataset id>", "What colour is the sky?", top_k=3)
            for record in hits.records:
                print(record.score, record.segment.document.name, record.segment.content)
        ```

    Async: `AsyncDifyKnowledgeClient`, same methods, awaited.
    """

    _env_key = ENV_DATASET_API_KEY
    _key_hint = "a knowledge key (dataset-...)"

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    def retrieve(
        self,
        dataset_id: str,
        query: str,
        *,
        top_k: int | None = None,
        search_method: str | None = None,
        score_threshold: float | None = None,
        reranking_enable: bool = False,
        retrieval_model: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> RetrieveResponse:
        """Search a knowledge base.

        Args:
            dataset_id: Knowledge base id.
            query: Search text (Dify limits it to 250 characters).
            top_k: Number of hits (sends a full ``retrieval_model``).
            search_method: ``semantic_search`` (default when any option is given),
                ``keyword_search``, ``full_text_search`` or ``hybrid_search``.
            score_threshold: Minimum score (enables the threshold).
            reranking_enable: Use the dataset's rerank model.
            retrieval_model: A complete ``retrieval_model`` object (wins over the above).
            timeout: Per-call timeout.
            extra_headers: Extra HTTP headers.

        Returns:
            The hits, best first. With no option the dataset's own settings apply.
        """
        call = _retrieve_call(
            dataset_id,
            query,
            top_k=top_k,
            search_method=search_method,
            score_threshold=score_threshold,
            reranking_enable=reranking_enable,
            retrieval_model=retrieval_model,
        )
        body = self._json(call, timeout=timeout, extra_headers=extra_headers)
        return RetrieveResponse.model_validate(body)

    def list_datasets(
        self,
        *,
        page: int = 1,
        limit: int = 20,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DatasetPage:
        """One page of knowledge bases."""
        call = Call("GET", "/datasets", params={"page": page, "limit": limit})
        body = self._json(call, timeout=timeout, extra_headers=extra_headers)
        return DatasetPage.model_validate(body)

    def create_dataset(
        self,
        name: str,
        *,
        description: str | None = None,
        indexing_technique: str | None = None,
        permission: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Dataset:
        """Create an empty knowledge base."""
        call = _create_dataset_call(name, description, indexing_technique, permission)
        body = self._json(call, timeout=timeout, extra_headers=extra_headers)
        return Dataset.model_validate(body)

    def create_document_by_text(
        self,
        dataset_id: str,
        name: str,
        text: str,
        *,
        indexing_technique: str = "high_quality",
        process_rule: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DocumentCreated:
        """Add a text document; poll `get_indexing_status` with the returned ``batch``."""
        call = _create_doc_call(dataset_id, name, text, indexing_technique, process_rule)
        body = self._json(call, timeout=timeout, extra_headers=extra_headers)
        return DocumentCreated.model_validate(body)

    def list_documents(
        self,
        dataset_id: str,
        *,
        page: int = 1,
        limit: int = 20,
        keyword: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DocumentPage:
        """One page of a knowledge base's documents."""
        call = _documents_call(dataset_id, page, limit, keyword)
        body = self._json(call, timeout=timeout, extra_headers=extra_headers)
        return DocumentPage.model_validate(body)

    def get_indexing_status(
        self,
        dataset_id: str,
        batch: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> IndexingStatusList:
        """Indexing progress of a document batch."""
        body = self._json(
            _status_call(dataset_id, batch), timeout=timeout, extra_headers=extra_headers
        )
        return IndexingStatusList.model_validate(body)

    def list_segments(
        self,
        dataset_id: str,
        document_id: str,
        *,
        keyword: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> SegmentPage:
        """Segments (chunks) of a document."""
        call = _segments_call(dataset_id, document_id, keyword)
        body = self._json(call, timeout=timeout, extra_headers=extra_headers)
        return SegmentPage.model_validate(body)


class AsyncDifyKnowledgeClient(AsyncAPIClient):
    """Asynchronous client for Dify's Knowledge API (same methods as `DifyKnowledgeClient`).

    Example:
        ```python
        async with AsyncDifyKnowledgeClient() as kc:
            hits = await kc.retrieve("<dataset id>", "What colour is the sky?")
        ```
    """

    _env_key = ENV_DATASET_API_KEY
    _key_hint = "a knowledge key (dataset-...)"

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    async def retrieve(
        self,
        dataset_id: str,
        query: str,
        *,
        top_k: int | None = None,
        search_method: str | None = None,
        score_threshold: float | None = None,
        reranking_enable: bool = False,
        retrieval_model: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> RetrieveResponse:
        """Search a knowledge base (see `DifyKnowledgeClient.retrieve`)."""
        call = _retrieve_call(
            dataset_id,
            query,
            top_k=top_k,
            search_method=search_method,
            score_threshold=score_threshold,
            reranking_enable=reranking_enable,
            retrieval_model=retrieval_model,
        )
        body = await self._json(call, timeout=timeout, extra_headers=extra_headers)
        return RetrieveResponse.model_validate(body)

    async def list_datasets(
        self,
        *,
        page: int = 1,
        limit: int = 20,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DatasetPage:
        """One page of knowledge bases."""
        call = Call("GET", "/datasets", params={"page": page, "limit": limit})
        body = await self._json(call, timeout=timeout, extra_headers=extra_headers)
        return DatasetPage.model_validate(body)

    async def create_dataset(
        self,
        name: str,
        *,
        description: str | None = None,
        indexing_technique: str | None = None,
        permission: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Dataset:
        """Create an empty knowledge base."""
        call = _create_dataset_call(name, description, indexing_technique, permission)
        body = await self._json(call, timeout=timeout, extra_headers=extra_headers)
        return Dataset.model_validate(body)

    async def create_document_by_text(
        self,
        dataset_id: str,
        name: str,
        text: str,
        *,
        indexing_technique: str = "high_quality",
        process_rule: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DocumentCreated:
        """Add a text document."""
        call = _create_doc_call(dataset_id, name, text, indexing_technique, process_rule)
        body = await self._json(call, timeout=timeout, extra_headers=extra_headers)
        return DocumentCreated.model_validate(body)

    async def list_documents(
        self,
        dataset_id: str,
        *,
        page: int = 1,
        limit: int = 20,
        keyword: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DocumentPage:
        """One page of a knowledge base's documents."""
        call = _documents_call(dataset_id, page, limit, keyword)
        body = await self._json(call, timeout=timeout, extra_headers=extra_headers)
        return DocumentPage.model_validate(body)

    async def get_indexing_status(
        self,
        dataset_id: str,
        batch: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> IndexingStatusList:
        """Indexing progress of a document batch."""
        body = await self._json(
            _status_call(dataset_id, batch), timeout=timeout, extra_headers=extra_headers
        )
        return IndexingStatusList.model_validate(body)

    async def list_segments(
        self,
        dataset_id: str,
        document_id: str,
        *,
        keyword: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> SegmentPage:
        """Segments (chunks) of a document."""
        call = _segments_call(dataset_id, document_id, keyword)
        body = await self._json(call, timeout=timeout, extra_headers=extra_headers)
        return SegmentPage.model_validate(body)
