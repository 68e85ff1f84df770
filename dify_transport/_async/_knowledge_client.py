"""`AsyncDifyKnowledgeClient`: the Knowledge API (dataset key).

Each method sends one endpoint defined in ``dify_transport/_knowledge_api.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from dify_transport import _knowledge_api as api
from dify_transport._app_api import Headers
from dify_transport._async._knowledge_ingest import AsyncKnowledgeIngest
from dify_transport._base_client import TimeoutTypes
from dify_transport._constants import DEFAULT_MAX_RETRIES, ENV_DATASET_API_KEY
from dify_transport._errors import APIResponseValidationError, APIStatusError, AuthenticationError
from dify_transport.metadata_filter import from_mongo
from dify_transport.types import Dataset, DatasetPage, RetrieveResponse

__all__ = ["AsyncDifyKnowledgeClient"]


class AsyncDifyKnowledgeClient(AsyncKnowledgeIngest):
    """Asynchronous client for Dify's Knowledge API (a ``dataset-...`` key).

    Setup: ``export DIFY_DATASET_API_KEY=dataset-...`` (and ``DIFY_BASE_URL``).
    `AsyncDifyKnowledgeClient` and `DifyKnowledgeClient` have the same methods.

    Example:
        ```python
        from dify_transport import AsyncDifyKnowledgeClient

        async with AsyncDifyKnowledgeClient() as kc:
            hits = await kc.retrieve("<dataset id>", "What colour is the sky?", top_k=3)
            for record in hits.records:
                print(record.score, record.segment.document.name, record.segment.content)
        ```
    """

    _env_key = ENV_DATASET_API_KEY
    _key_hint = "a knowledge key (dataset-...)"
    _key_source = "the Knowledge section's 'API ACCESS' page (not an app's 'API Access' page)"

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        *,
        deadline: float | None = None,
        max_connections: int | None = None,
    ) -> None:
        """Configure the client (no I/O).

        ``deadline`` (seconds) bounds every call, retries included (None: no total bound).
        """
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            deadline=deadline,
            max_connections=max_connections,
        )
        self._retrieval_cache: dict[str, api.RetrievalSettings] = {}

    async def retrieve(
        self,
        dataset_id: str,
        query: str,
        *,
        top_k: int | None = None,
        search_method: str | None = None,
        score_threshold: float | None = None,
        reranking_enable: bool | None = None,
        metadata_filter: Mapping[str, Any] | None = None,
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
            metadata_filter: Only documents whose metadata match: Dify's own
                ``{"logical_operator", "conditions"}`` or the dict form of
                `dify_transport.metadata_filter` (``{"year": {"$gte": 2020}}``); checked
                before sending (`MetadataFilterError`).
            retrieval_model: A complete ``retrieval_model`` object, sent as is (wins over
                the options above; nothing is fetched).
            timeout: Per-call timeout.
            extra_headers: Extra HTTP headers (also sent on the settings lookup).

        Returns:
            The hits, best first.
        """
        conditions = from_mongo(metadata_filter) if metadata_filter is not None else None
        overrides = api.Overrides(
            top_k, search_method, score_threshold, reranking_enable, conditions
        )
        if retrieval_model is not None and conditions is not None:
            retrieval_model = {**retrieval_model, "metadata_filtering_conditions": conditions}
        if retrieval_model is None and overrides.given:
            base = await self._retrieval_settings(dataset_id, timeout, extra_headers)
            retrieval_model = api.merge_retrieval_model(base, overrides)
        call = api.retrieve(dataset_id, query, retrieval_model)
        return await self._send(call, timeout, extra_headers)

    async def _retrieval_settings(
        self, dataset_id: str, timeout: TimeoutTypes, extra_headers: Headers
    ) -> api.RetrievalSettings:
        """The dataset's ``retrieval_model_dict`` (cached), or None when it is not listed."""
        if dataset_id in self._retrieval_cache:
            return self._retrieval_cache[dataset_id]
        settings: api.RetrievalSettings = None
        page = 1
        try:
            while True:
                call = api.list_datasets(page=page, limit=api.LIST_PAGE_SIZE)
                listing = await self._send(call, timeout, extra_headers)
                found, settings = api.scan(listing, dataset_id)
                if found or api.last_page(listing, page):
                    break
                page += 1
        except AuthenticationError:
            raise  # the retrieve would fail the same way
        except (APIStatusError, APIResponseValidationError) as exc:
            if api.listing_failed(exc, dataset_id):
                self._retrieval_cache[dataset_id] = None
            return None
        api.not_listed(settings, dataset_id)
        self._retrieval_cache[dataset_id] = settings
        return settings

    async def list_datasets(
        self,
        *,
        page: int = 1,
        limit: int = 20,
        keyword: str | None = None,
        include_all: bool | None = None,
        tag_ids: Sequence[str] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DatasetPage:
        """One page of knowledge bases (optionally by name ``keyword`` or tags)."""
        call = api.list_datasets(
            page=page, limit=limit, keyword=keyword, include_all=include_all, tag_ids=tag_ids
        )
        return await self._send(call, timeout, extra_headers)

    async def create_dataset(
        self,
        name: str,
        *,
        description: str | None = None,
        indexing_technique: str | None = None,
        permission: str | None = None,
        extra: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Dataset:
        """Create an empty knowledge base (``extra``: ``embedding_model``, ...)."""
        settings = {
            "description": description,
            "indexing_technique": indexing_technique,
            "permission": permission,
            **(extra or {}),
        }
        return await self._send(api.create_dataset(name, settings), timeout, extra_headers)

    async def get_dataset(
        self, dataset_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> Dataset:
        """One knowledge base."""
        return await self._send(api.get_dataset(dataset_id), timeout, extra_headers)

    async def update_dataset(
        self,
        dataset_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        indexing_technique: str | None = None,
        permission: str | None = None,
        retrieval_model: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Dataset:
        """Change a knowledge base's settings (only those given)."""
        settings = {
            "name": name,
            "description": description,
            "indexing_technique": indexing_technique,
            "permission": permission,
            "retrieval_model": dict(retrieval_model) if retrieval_model else None,
            **(extra or {}),
        }
        self._retrieval_cache.pop(dataset_id, None)
        return await self._send(api.update_dataset(dataset_id, settings), timeout, extra_headers)

    async def delete_dataset(
        self, dataset_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> None:
        """Delete a knowledge base and its documents."""
        self._retrieval_cache.pop(dataset_id, None)
        await self._send(api.delete_dataset(dataset_id), timeout, extra_headers)
