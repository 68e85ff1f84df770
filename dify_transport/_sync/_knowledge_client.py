# Generated from dify_transport/_async/_knowledge_client.py by scripts/unasync.py.
# Do not edit: edit the source.
"""`DifyKnowledgeClient`: the Knowledge API (dataset key).

Each method sends one endpoint defined in ``dify_transport/_knowledge_api.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from dify_transport import _knowledge_api as api
from dify_transport._app_api import Headers
from dify_transport._base_client import TimeoutTypes
from dify_transport._constants import DEFAULT_MAX_RETRIES, ENV_DATASET_API_KEY
from dify_transport._errors import APIResponseValidationError, APIStatusError, AuthenticationError
from dify_transport._sync._engine import SyncAPIClient
from dify_transport.types import (
    Dataset,
    DatasetPage,
    DocumentCreated,
    DocumentPage,
    IndexingStatusList,
    RetrieveResponse,
    SegmentPage,
)

__all__ = ["DifyKnowledgeClient"]


class DifyKnowledgeClient(SyncAPIClient):
    """Synchronous client for Dify's Knowledge API (a ``dataset-...`` key).

    Setup: ``export DIFY_DATASET_API_KEY=dataset-...`` (and ``DIFY_BASE_URL``).
    `DifyKnowledgeClient` and `DifyKnowledgeClient` have the same methods.

    Example:
        ```python
        from dify_transport import DifyKnowledgeClient

        with DifyKnowledgeClient() as kc:
            hits = kc.retrieve("<dataset id>", "What colour is the sky?", top_k=3)
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
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )
        self._retrieval_cache: dict[str, api.RetrievalSettings] = {}

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
        overrides = api.Overrides(top_k, search_method, score_threshold, reranking_enable)
        if retrieval_model is None and overrides.given:
            base = self._retrieval_settings(dataset_id, timeout, extra_headers)
            retrieval_model = api.merge_retrieval_model(base, overrides)
        call = api.retrieve(dataset_id, query, retrieval_model)
        return self._send(call, timeout, extra_headers)

    def _retrieval_settings(
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
                listing = self._send(call, timeout, extra_headers)
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

    def list_datasets(
        self,
        *,
        page: int = 1,
        limit: int = 20,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DatasetPage:
        """One page of knowledge bases."""
        return self._send(api.list_datasets(page=page, limit=limit), timeout, extra_headers)

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
        call = api.create_dataset(
            name,
            description=description,
            indexing_technique=indexing_technique,
            permission=permission,
        )
        return self._send(call, timeout, extra_headers)

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
        call = api.create_document_by_text(
            dataset_id,
            name,
            text,
            indexing_technique=indexing_technique,
            process_rule=process_rule,
        )
        return self._send(call, timeout, extra_headers)

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
        call = api.list_documents(dataset_id, page=page, limit=limit, keyword=keyword)
        return self._send(call, timeout, extra_headers)

    def get_indexing_status(
        self,
        dataset_id: str,
        batch: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> IndexingStatusList:
        """Indexing progress of a document batch."""
        return self._send(api.get_indexing_status(dataset_id, batch), timeout, extra_headers)

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
        call = api.list_segments(dataset_id, document_id, keyword=keyword)
        return self._send(call, timeout, extra_headers)
