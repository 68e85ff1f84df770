"""A Dify knowledge base as a LlamaIndex managed index: insert documents, retrieve, delete.

Dify chunks and embeds by itself (a managed service), so ``insert`` sends each
``Document`` whole and no embedding model or node parser is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from llama_index.core.data_structs.data_structs import IndexDict
from llama_index.core.indices.managed.base import BaseManagedIndex
from llama_index.core.schema import BaseNode, Document, MetadataMode, TransformComponent
from llama_index.core.storage.storage_context import StorageContext

from dify_transport import (
    AsyncDifyKnowledgeClient,
    AsyncHttpClient,
    DifyKnowledgeClient,
    HttpClient,
)
from dify_transport._indexing import DEFAULT_MAX_WAIT
from dify_transport._knowledge_store import KnowledgeStore, Passage
from dify_transport._lifecycle import ClientSettings
from llama_index_dify._clients import ClientsOwner
from llama_index_dify.retrievers import DifyKnowledgeRetriever

__all__ = ["DifyKnowledgeIndex"]


class _Whole(TransformComponent):
    """Keeps documents whole: Dify chunks them itself."""

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> Sequence[BaseNode]:  # noqa: ARG002
        return nodes


def _passages(nodes: Sequence[BaseNode]) -> list[Passage]:
    return [(n.get_content(metadata_mode=MetadataMode.NONE), n.metadata, n.node_id) for n in nodes]


class DifyKnowledgeIndex(
    ClientsOwner[DifyKnowledgeClient, AsyncDifyKnowledgeClient], BaseManagedIndex
):
    """A Dify knowledge base (dataset key) as a LlamaIndex index.

    ``insert(document)`` / ``from_documents(...)`` / ``add_documents(...)`` create one
    Dify document per LlamaIndex ``Document`` (or node), keep its ``metadata`` as Dify
    document metadata (fields created as needed: strings, numbers, dates; a built-in
    name such as ``source`` becomes ``doc_source``; lists and dicts are not kept) and
    wait until indexing completes (progress on a terminal or in a notebook).
    ``add_documents`` returns the Dify document ids; ``delete_ref_doc`` takes a
    LlamaIndex document id inserted here, or a Dify document id. ``as_retriever``
    gives a :class:`DifyKnowledgeRetriever` (``filters=MetadataFilters(...)``).

    ```python
    from llama_index.core import SimpleDirectoryReader
    from llama_index.core.vector_stores import MetadataFilters, MetadataFilter
    from llama_index_dify import DifyKnowledgeIndex, DifyLLM

    index = DifyKnowledgeIndex.from_documents(SimpleDirectoryReader("notes").load_data())
    filters = MetadataFilters(filters=[MetadataFilter(key="year", value=2024)])
    nodes = index.as_retriever(similarity_top_k=3, filters=filters).retrieve("tea")
    engine = index.as_query_engine(llm=DifyLLM())
    ```
    """

    def __init__(
        self,
        dataset_id: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int = 2,
        deadline: float | None = None,
        max_connections: int | None = None,
        client: DifyKnowledgeClient | None = None,
        async_client: AsyncDifyKnowledgeClient | None = None,
        http_client: HttpClient | None = None,
        async_http_client: AsyncHttpClient | None = None,
        indexing_technique: str = "high_quality",
        process_rule: dict[str, Any] | None = None,
        wait: bool = True,
        max_wait: float = DEFAULT_MAX_WAIT,
        progress: bool | None = None,
        show_progress: bool = False,
        **kwargs: Any,
    ) -> None:
        """Connect to a knowledge base (no I/O).

        Args:
            dataset_id: Knowledge base id (default ``$DIFY_DATASET_ID``).
            api_key: Dataset key (default ``$DIFY_DATASET_API_KEY``).
            base_url: Service API root (default ``$DIFY_BASE_URL``, else Dify Cloud).
            timeout: Seconds per request.
            max_retries: Retries for retryable failures.
            deadline: Total seconds per call, retries included (None: no total bound).
            max_connections: Connection limit of the clients built here (None: 1,000).
            client: A ready knowledge client (used as is).
            async_client: A ready async knowledge client (used as is).
            http_client: A caller-owned ``httpx.Client``.
            async_http_client: A caller-owned ``httpx.AsyncClient``.
            indexing_technique: ``high_quality`` or ``economy`` for new documents.
            process_rule: Dify's chunking rule (default automatic).
            wait: Wait for indexing after adding.
            max_wait: Seconds to wait per batch.
            progress: Indexing progress (None: ``show_progress``, else on a terminal or
                in a notebook).
            show_progress: LlamaIndex's progress switch (also turns indexing progress on).
            **kwargs: Passed to LlamaIndex's ``BaseIndex``.

        Raises:
            DifyConfigError: No dataset id given or set.
        """
        settings = ClientSettings(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries,
            http_client=http_client, async_http_client=async_http_client, client=client,
            async_client=async_client, deadline=deadline, max_connections=max_connections,
        )  # fmt: skip
        self._store = KnowledgeStore(
            dataset_id,
            settings,
            indexing_technique=indexing_technique,
            process_rule=process_rule,
            wait=wait,
            max_wait=max_wait,
            progress=progress if progress is not None else (show_progress or None),
        )
        self.dataset_id = self._store.dataset_id
        self._clients = self._store.clients
        self._dify_ids: dict[str, list[str]] = {}
        super().__init__(
            index_struct=IndexDict(),
            storage_context=kwargs.pop("storage_context", None) or StorageContext.from_defaults(),
            show_progress=show_progress,
            transformations=[_Whole()],
            **kwargs,
        )

    # -- adding ----------------------------------------------------------------------------
    def _remember(self, nodes: Sequence[BaseNode], ids: list[str]) -> None:
        for node, dify_id in zip(nodes, ids, strict=True):
            key = node.ref_doc_id or node.node_id
            self._dify_ids.setdefault(key, []).append(dify_id)

    def add_documents(self, documents: Sequence[BaseNode]) -> list[str]:
        """Add documents or nodes (metadata kept); returns the Dify document ids."""
        ids = self._store.add(_passages(documents))
        self._remember(documents, ids)
        return ids

    async def aadd_documents(self, documents: Sequence[BaseNode]) -> list[str]:
        """Async `add_documents`."""
        ids = await self._store.aadd(_passages(documents))
        self._remember(documents, ids)
        return ids

    def _insert(self, nodes: Sequence[BaseNode], **insert_kwargs: Any) -> None:  # noqa: ARG002
        self.add_documents(nodes)

    def insert(self, document: Document, **insert_kwargs: Any) -> None:  # noqa: ARG002
        """Insert one document, whole (Dify chunks it)."""
        self.add_documents([document])

    async def ainsert(self, document: Document, **insert_kwargs: Any) -> None:  # noqa: ARG002
        """Async `insert`."""
        await self.aadd_documents([document])

    @classmethod
    def from_documents(  # type: ignore[override]
        cls,
        documents: Sequence[Document],
        dataset_id: str | None = None,
        **kwargs: Any,
    ) -> Self:
        """Connect to ``dataset_id`` (or ``$DIFY_DATASET_ID``) and add ``documents``."""
        for key in ("storage_context", "callback_manager", "transformations"):
            kwargs.pop(key, None)
        index = cls(dataset_id, **kwargs)
        index.add_documents(documents)
        return index

    # -- deleting and updating -------------------------------------------------------------
    def _targets(self, ref_doc_id: str) -> list[str]:
        return self._dify_ids.pop(ref_doc_id, None) or [ref_doc_id]

    def delete_ref_doc(
        self,
        ref_doc_id: str,
        delete_from_docstore: bool = False,  # noqa: ARG002 - LlamaIndex's signature
        **delete_kwargs: Any,  # noqa: ARG002
    ) -> None:
        """Delete the Dify documents of a LlamaIndex document id (or one Dify id)."""
        self._store.delete(self._targets(ref_doc_id))

    async def adelete_ref_doc(
        self,
        ref_doc_id: str,
        delete_from_docstore: bool = False,  # noqa: ARG002
        **delete_kwargs: Any,  # noqa: ARG002
    ) -> None:
        """Async `delete_ref_doc`."""
        await self._store.adelete(self._targets(ref_doc_id))

    def update_ref_doc(self, document: Document, **update_kwargs: Any) -> None:  # noqa: ARG002
        """Replace a document inserted here (deleted, then added again)."""
        self.delete_ref_doc(document.doc_id)
        self.add_documents([document])

    # -- retrieving ------------------------------------------------------------------------
    def as_retriever(self, **kwargs: Any) -> DifyKnowledgeRetriever:
        """A :class:`DifyKnowledgeRetriever` over this knowledge base (same clients).

        Keyword arguments are the retriever's (``similarity_top_k``, ``filters``,
        ``search_method``, ...).
        """
        return DifyKnowledgeRetriever(
            dataset_id=self.dataset_id, client=self.client, async_client=self.async_client, **kwargs
        )
