"""A Dify knowledge base as a LangChain ``VectorStore``: add documents, search, delete.

Dify embeds and chunks by itself, so no ``Embeddings`` object is needed (``from_texts``
ignores the one LangChain passes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from dify_transport import (
    AsyncDifyKnowledgeClient,
    AsyncHttpClient,
    DifyConfigError,
    DifyKnowledgeClient,
    HttpClient,
    RetrieveResponse,
    TimeoutTypes,
)
from dify_transport._indexing import DEFAULT_MAX_WAIT
from dify_transport._knowledge_store import KnowledgeStore, Passage
from dify_transport._lifecycle import ClientSettings, LazyClients, LazyClientsOwner
from langchain_dify._errors import translate_errors
from langchain_dify.retrievers import record_document

__all__ = ["DifyKnowledgeBase"]


def _passages(documents: Sequence[Document], ids: Any) -> list[Passage]:
    if ids is not None:
        raise DifyConfigError(
            "Dify assigns document ids; add without ids= and keep the ids returned."
        )
    return [(doc.page_content, doc.metadata, doc.id) for doc in documents]


class DifyKnowledgeBase(LazyClientsOwner, VectorStore):
    """A Dify knowledge base (dataset key) used like any LangChain vector store.

    ``add_documents`` creates one Dify document per LangChain ``Document`` (Dify chunks
    and embeds it), keeps its ``metadata`` as Dify document metadata (fields are
    created as needed: strings, numbers, dates; a loader's ``source`` becomes
    ``doc_source``, as ``source`` is a Dify built-in name; lists and dicts are not
    kept), waits until indexing completes (progress on a terminal or in a notebook) and
    returns the Dify document ids, which ``delete(ids)`` accepts. Searches return
    ``Document``s carrying the Dify metadata fields; ``filter=`` takes the dict form of
    :class:`~langchain_dify.DifyKnowledgeRetriever`.

    ```python
    from langchain_community.document_loaders import TextLoader
    from langchain_dify import DifyKnowledgeBase

    kb = DifyKnowledgeBase()  # $DIFY_DATASET_API_KEY, $DIFY_DATASET_ID, $DIFY_BASE_URL
    ids = kb.add_documents(TextLoader("notes.txt").load())
    kb.similarity_search("tea", k=3, filter={"doc_source": "notes.txt"})
    retriever = kb.as_retriever(search_kwargs={"k": 3, "filter": {"year": {"$gte": 2020}}})
    kb.delete(ids)
    ```
    """

    def __init__(
        self,
        dataset_id: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int = 2,
        deadline: float | None = None,
        max_connections: int | None = None,
        http_client: HttpClient | None = None,
        http_async_client: AsyncHttpClient | None = None,
        client: DifyKnowledgeClient | None = None,
        async_client: AsyncDifyKnowledgeClient | None = None,
        indexing_technique: str = "high_quality",
        process_rule: dict[str, Any] | None = None,
        wait: bool = True,
        max_wait: float = DEFAULT_MAX_WAIT,
        progress: bool | None = None,
    ) -> None:
        """Connect to a knowledge base (no I/O).

        Args:
            dataset_id: Knowledge base id (default ``$DIFY_DATASET_ID``).
            api_key: Dataset key (default ``$DIFY_DATASET_API_KEY``).
            base_url: Service API root (default ``$DIFY_BASE_URL``, else Dify Cloud).
            timeout: Per-request timeout.
            max_retries: Retries for retryable failures.
            deadline: Total seconds per call, retries included (None: no total bound).
            max_connections: Connection limit of the clients built here (None: 1,000).
            http_client: A caller-owned ``httpx.Client``.
            http_async_client: A caller-owned ``httpx.AsyncClient``.
            client: A ready knowledge client (used as is).
            async_client: A ready async knowledge client (used as is).
            indexing_technique: ``high_quality`` or ``economy`` for new documents.
            process_rule: Dify's chunking rule (default automatic).
            wait: Wait for indexing in ``add_documents``.
            max_wait: Seconds to wait per batch.
            progress: Show indexing progress (None: on a terminal or in a notebook).

        Raises:
            DifyConfigError: No dataset id given or set.
        """
        settings = ClientSettings(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
            http_client=http_client, async_http_client=http_async_client, client=client,
            async_client=async_client, deadline=deadline, max_connections=max_connections,
        )  # fmt: skip
        self._store = KnowledgeStore(
            dataset_id,
            settings,
            indexing_technique=indexing_technique,
            process_rule=process_rule,
            wait=wait,
            max_wait=max_wait,
            progress=progress,
        )
        self.dataset_id = self._store.dataset_id
        self._clients = self._store.clients

    def _lazy_clients(self) -> LazyClients[Any, Any]:
        return self._clients

    @property
    def embeddings(self) -> Embeddings | None:
        """None: Dify embeds documents itself."""
        return None

    # -- adding ----------------------------------------------------------------------------
    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Add documents (metadata kept as Dify metadata); returns the Dify document ids."""
        passages = _passages(documents, kwargs.pop("ids", None))
        with translate_errors():
            return self._store.add(passages)

    async def aadd_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Async `add_documents`."""
        passages = _passages(documents, kwargs.pop("ids", None))
        with translate_errors():
            return await self._store.aadd(passages)

    # -- deleting and reading --------------------------------------------------------------
    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:  # noqa: ARG002
        """Delete Dify documents by the ids ``add_documents`` returned."""
        with translate_errors():
            self._store.delete(ids)
        return True

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:  # noqa: ARG002
        """Async `delete`."""
        with translate_errors():
            await self._store.adelete(ids)
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents (text joined from their chunks, Dify metadata) of some ids."""
        with translate_errors():
            found = self._store.read(ids)
        return [Document(id=i, page_content=text, metadata=meta) for text, meta, i in found]

    # -- searching -------------------------------------------------------------------------
    def _hits(self, response: RetrieveResponse) -> list[tuple[Document, float]]:
        return [(record_document(r, self.dataset_id), float(r.score or 0.0))
                for r in response.records]  # fmt: skip

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Search; Dify's scores are already similarities in [0, 1]."""
        with translate_errors():
            response = self._clients.sync().retrieve(
                self.dataset_id, query, top_k=k, metadata_filter=filter, **kwargs
            )
        return self._hits(response)

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Async `similarity_search_with_score`."""
        client = self._clients.async_()
        with translate_errors():
            response = await client.retrieve(
                self.dataset_id, query, top_k=k, metadata_filter=filter, **kwargs
            )
        return self._hits(response)

    def similarity_search(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        """The ``k`` best passages (``filter``: the retriever's metadata-filter dict)."""
        return [d for d, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    async def asimilarity_search(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        """Async `similarity_search`."""
        hits = await self.asimilarity_search_with_score(query, k, filter, **kwargs)
        return [d for d, _ in hits]

    def _select_relevance_score_fn(self) -> Any:
        return lambda score: score  # Dify's scores are similarities in [0, 1]

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None = None,  # noqa: ARG003 - Dify embeds by itself
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> Self:
        """Build a store over ``dataset_id=`` (or ``$DIFY_DATASET_ID``) and add ``texts``."""
        store = cls(**kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store
