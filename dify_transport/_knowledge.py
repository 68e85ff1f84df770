"""`DifyKnowledgeClient` / `AsyncDifyKnowledgeClient`: the Knowledge API (dataset key)."""

# The contract gives every call a per-call httpx timeout (not an asyncio deadline).
# ruff: noqa: ASYNC109

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from dify_transport._base_client import AsyncAPIClient, Call, SyncAPIClient, TimeoutTypes
from dify_transport._calls import Headers, seg
from dify_transport._constants import DEFAULT_MAX_RETRIES, ENV_DATASET_API_KEY, LOGGER_NAME
from dify_transport._errors import APIResponseValidationError, APIStatusError, AuthenticationError
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


_log = logging.getLogger(LOGGER_NAME)

_FALLBACK_RETRIEVAL_MODEL: Final[Mapping[str, Any]] = {
    "search_method": "semantic_search",
    "reranking_enable": False,
    "score_threshold_enabled": False,
    "score_threshold": None,
    "top_k": 4,
}
"""Base for overrides when the knowledge base's own settings are unknown (Dify's defaults)."""

_LIST_PAGE_SIZE: Final = 100
_MAX_LIST_PAGES: Final = 100
_TRANSIENT_STATUSES: Final = frozenset({408, 429})

RetrievalSettings = dict[str, Any] | None
"""A knowledge base's ``retrieval_model_dict`` (None: unknown, use the fallback)."""


@dataclass(frozen=True, slots=True)
class _Overrides:
    """The retrieve options the caller gave (None: keep the knowledge base's setting)."""

    top_k: int | None = None
    search_method: str | None = None
    score_threshold: float | None = None
    reranking_enable: bool | None = None

    @property
    def given(self) -> bool:
        return any(
            v is not None
            for v in (self.top_k, self.search_method, self.score_threshold, self.reranking_enable)
        )


def _merge_retrieval_model(base: Mapping[str, Any] | None, overrides: _Overrides) -> dict[str, Any]:
    """Overlay the given options on a knowledge base's retrieval settings.

    Args:
        base: The dataset's ``retrieval_model_dict``, or None for the fallback defaults.
        overrides: The options the caller gave.

    Returns:
        A complete ``retrieval_model`` (the keys Dify requires are always present).
    """
    model = copy.deepcopy(dict(base)) if base is not None else dict(_FALLBACK_RETRIEVAL_MODEL)
    for key, value in _FALLBACK_RETRIEVAL_MODEL.items():
        if model.get(key) is None:  # Dify needs these keys (a missing one is a 500)
            model[key] = value
    if overrides.search_method is not None:
        model["search_method"] = overrides.search_method
    if overrides.reranking_enable is not None:
        model["reranking_enable"] = overrides.reranking_enable
    if overrides.score_threshold is not None:
        model["score_threshold_enabled"] = True
        model["score_threshold"] = overrides.score_threshold
    if overrides.top_k is not None:
        model["top_k"] = overrides.top_k
    return model


def _dataset_settings(ds: Dataset) -> RetrievalSettings:
    extra = ds.model_extra or {}
    if extra.get("provider") == "external":
        return None  # external knowledge: Dify uses external_retrieval_model instead
    settings = extra.get("retrieval_model_dict")
    if isinstance(settings, Mapping) and settings.get("search_method"):
        return dict(settings)
    return None


def _scan(listing: DatasetPage, dataset_id: str) -> tuple[bool, RetrievalSettings]:
    """``(found, settings)`` of one page of ``GET /datasets``."""
    for ds in listing.data:
        if ds.id == dataset_id:
            return True, _dataset_settings(ds)
    return False, None


def _last_page(listing: DatasetPage, page: int) -> bool:
    return not listing.has_more or not listing.data or page >= _MAX_LIST_PAGES


def _listing_failed(exc: APIStatusError | APIResponseValidationError, dataset_id: str) -> bool:
    """Log a failed listing; return True when the fallback may be cached (not transient)."""
    _log.debug(
        "could not read the retrieval settings of dataset %s (%s); overriding Dify's defaults",
        dataset_id,
        type(exc).__name__,
    )
    status = getattr(exc, "status_code", None)
    return status is None or (status < 500 and status not in _TRANSIENT_STATUSES)


def _not_listed(settings: RetrievalSettings, dataset_id: str) -> None:
    if settings is None:
        _log.debug(
            "dataset %s not found in GET /datasets (or has no retrieval_model_dict); "
            "overriding Dify's defaults (semantic_search, no reranking, no threshold)",
            dataset_id,
        )


def _retrieve_call(dataset_id: str, query: str, retrieval_model: Mapping[str, Any] | None) -> Call:
    body: dict[str, Any] = {"query": query}
    if retrieval_model is not None:
        body["retrieval_model"] = dict(retrieval_model)
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
        self._retrieval_cache: dict[str, RetrievalSettings] = {}

    def retrieve(
        self,
        dataset_id: str,
        query: str,
        *,
        top_k: int | None = None,
        search_method: str | None = None,
        score_threshold: float | None = None,
        reranking_enable: bool | None = None,
        retrieval_model: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> RetrieveResponse:
        """Search a knowledge base.

        With no option, no ``retrieval_model`` is sent and the knowledge base's own
        retrieval settings apply. Dify needs a *complete* ``retrieval_model`` once any
        option is sent, so the options given are overlaid on the knowledge base's own
        ``retrieval_model_dict`` (search method, reranking model and mode, weights, ...),
        read once per client and dataset from ``GET /datasets``. When the dataset is not
        in that listing (a key without list permission, an older server, external
        knowledge) the base is Dify's default: ``semantic_search``, no reranking, no
        score threshold, ``top_k`` 4 (logged at DEBUG).

        Args:
            dataset_id: Knowledge base id.
            query: Search text (Dify limits it to 250 characters).
            top_k: Number of hits.
            search_method: ``semantic_search``, ``keyword_search``, ``full_text_search``
                or ``hybrid_search`` (None: the knowledge base's method).
            score_threshold: Minimum score (enables the threshold).
            reranking_enable: True/False turns the knowledge base's rerank model on/off
                (None: as configured).
            retrieval_model: A complete ``retrieval_model`` object, sent as is (wins over
                the options above; nothing is fetched).
            timeout: Per-call timeout.
            extra_headers: Extra HTTP headers (also sent on the settings lookup).

        Returns:
            The hits, best first.
        """
        overrides = _Overrides(top_k, search_method, score_threshold, reranking_enable)
        if retrieval_model is None and overrides.given:
            base = self._retrieval_settings(
                dataset_id, timeout=timeout, extra_headers=extra_headers
            )
            retrieval_model = _merge_retrieval_model(base, overrides)
        call = _retrieve_call(dataset_id, query, retrieval_model)
        body = self._json(call, timeout=timeout, extra_headers=extra_headers)
        return RetrieveResponse.model_validate(body)

    def _retrieval_settings(
        self, dataset_id: str, *, timeout: TimeoutTypes, extra_headers: Headers
    ) -> RetrievalSettings:
        """The dataset's ``retrieval_model_dict`` (cached), or None when it is not listed."""
        if dataset_id in self._retrieval_cache:
            return self._retrieval_cache[dataset_id]
        settings: RetrievalSettings = None
        page = 1
        try:
            while True:
                listing = self.list_datasets(
                    page=page, limit=_LIST_PAGE_SIZE, timeout=timeout, extra_headers=extra_headers
                )
                found, settings = _scan(listing, dataset_id)
                if found or _last_page(listing, page):
                    break
                page += 1
        except AuthenticationError:
            raise  # the retrieve would fail the same way
        except (APIStatusError, APIResponseValidationError) as exc:
            if _listing_failed(exc, dataset_id):
                self._retrieval_cache[dataset_id] = None
            return None
        _not_listed(settings, dataset_id)
        self._retrieval_cache[dataset_id] = settings
        return settings

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
        self._retrieval_cache: dict[str, RetrievalSettings] = {}

    async def retrieve(
        self,
        dataset_id: str,
        query: str,
        *,
        top_k: int | None = None,
        search_method: str | None = None,
        score_threshold: float | None = None,
        reranking_enable: bool | None = None,
        retrieval_model: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> RetrieveResponse:
        """Search a knowledge base (see `DifyKnowledgeClient.retrieve`).

        Options given without ``retrieval_model`` are overlaid on the knowledge base's
        own retrieval settings (read once per client from ``GET /datasets``).
        """
        overrides = _Overrides(top_k, search_method, score_threshold, reranking_enable)
        if retrieval_model is None and overrides.given:
            base = await self._retrieval_settings(
                dataset_id, timeout=timeout, extra_headers=extra_headers
            )
            retrieval_model = _merge_retrieval_model(base, overrides)
        call = _retrieve_call(dataset_id, query, retrieval_model)
        body = await self._json(call, timeout=timeout, extra_headers=extra_headers)
        return RetrieveResponse.model_validate(body)

    async def _retrieval_settings(
        self, dataset_id: str, *, timeout: TimeoutTypes, extra_headers: Headers
    ) -> RetrievalSettings:
        """The dataset's ``retrieval_model_dict`` (cached), or None when it is not listed."""
        if dataset_id in self._retrieval_cache:
            return self._retrieval_cache[dataset_id]
        settings: RetrievalSettings = None
        page = 1
        try:
            while True:
                listing = await self.list_datasets(
                    page=page, limit=_LIST_PAGE_SIZE, timeout=timeout, extra_headers=extra_headers
                )
                found, settings = _scan(listing, dataset_id)
                if found or _last_page(listing, page):
                    break
                page += 1
        except AuthenticationError:
            raise  # the retrieve would fail the same way
        except (APIStatusError, APIResponseValidationError) as exc:
            if _listing_failed(exc, dataset_id):
                self._retrieval_cache[dataset_id] = None
            return None
        _not_listed(settings, dataset_id)
        self._retrieval_cache[dataset_id] = settings
        return settings

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
