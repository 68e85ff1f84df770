"""Retrievers: the passages a Dify app cites, and Dify knowledge bases directly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores.types import MetadataFilters

from dify_transport import (
    AsyncDifyClient,
    AsyncDifyKnowledgeClient,
    DifyClient,
    DifyKnowledgeClient,
)
from dify_transport._knowledge_api import SearchMethod
from dify_transport._lifecycle import dataset_id_or_env
from dify_transport.types import Result, RetrieveResponse
from llama_index_dify._clients import (
    A,
    ClientsOwner,
    Connection,
    LazyClients,
    S,
    connect,
    default_user,
)
from llama_index_dify._filters import dify_filter
from llama_index_dify._nodes import node_from_record, nodes_from_resources

__all__ = ["DifyKnowledgeRetriever", "DifyRetriever", "SearchMethod"]


def _top_k(similarity_top_k: int | None, k: int | None) -> int | None:
    if similarity_top_k is not None and k is not None and similarity_top_k != k:
        msg = f"similarity_top_k={similarity_top_k} and k={k} disagree; pass one."
        raise ValueError(msg)
    value = similarity_top_k if similarity_top_k is not None else k
    if value is not None and value < 1:
        msg = f"similarity_top_k must be at least 1, got {value}."
        raise ValueError(msg)
    return value


class _ClientsRetriever(ClientsOwner[S, A], BaseRetriever):
    """A retriever over a :class:`LazyClients` pair: ``close``/``aclose`` and ``with``."""

    def __init__(
        self,
        factories: tuple[type[S], type[A]],
        options: Mapping[str, Any],
        *,
        callback_manager: CallbackManager | None,
        verbose: bool,
    ) -> None:
        super().__init__(callback_manager=callback_manager, verbose=verbose)
        where = type(self).__init__.__qualname__  # the __init__ called, as Python names it
        self._clients: LazyClients[S, A] = connect(factories, options, where)


class DifyRetriever(_ClientsRetriever[DifyClient, AsyncDifyClient]):
    """The passages a Dify chat app cites for a query, as LlamaIndex nodes.

    Each retrieval asks the app the query (in a new conversation, streaming, so
    agent apps work too) and returns its ``retriever_resources``: the app's own
    knowledge settings decide what is found. The app must have citations
    ("retriever resource") enabled. ``similarity_top_k`` (alias ``k``) keeps the
    first ``k`` passages; it cannot raise the app's own top-k. Retrieval turns ask
    Dify not to generate a conversation title (``auto_generate_name=False``), which
    would cost an extra LLM call each time.

    Examples:
        ```python
        from llama_index_dify import DifyRetriever

        retriever = DifyRetriever(user="alice", similarity_top_k=3)
        for hit in retriever.retrieve("What is Dify?"):
            print(hit.score, hit.node.metadata["document_name"], hit.node.text)
        ```
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        user: str | None = None,
        inputs: dict[str, Any] | None = None,
        similarity_top_k: int | None = None,
        k: int | None = None,
        delete_conversation: bool = False,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
        **connection: Unpack[Connection[DifyClient, AsyncDifyClient]],
    ) -> None:
        """Create the retriever (no I/O); the query options stay as attributes of the same names.

        Args:
            api_key: App key (default: ``$DIFY_API_KEY``).
            base_url: Service API root (default: ``$DIFY_BASE_URL``, else Dify Cloud).
            user: End-user id (default: ``$DIFY_USER``, else ``dify-integrations``).
            inputs: App input variables sent with each query.
            similarity_top_k: Keep at most this many passages (None: all).
            k: Alias of ``similarity_top_k``.
            delete_conversation: Delete the conversation each query creates.
            callback_manager: Legacy callback manager.
            verbose: Print retrieval details.
            **connection: The `Connection` keywords (``timeout``, ``client``, ...), as
                for :class:`DifyLLM`.
        """
        super().__init__(
            (DifyClient, AsyncDifyClient),
            {"api_key": api_key, "base_url": base_url, **connection},
            callback_manager=callback_manager,
            verbose=verbose,
        )
        self.user = user or default_user()
        self.inputs = dict(inputs or {})
        self.similarity_top_k = _top_k(similarity_top_k, k)
        self.delete_conversation = delete_conversation

    @classmethod
    def class_name(cls) -> str:
        """Return the class name."""
        return "DifyRetriever"

    def _nodes(self, result: Result) -> list[NodeWithScore]:
        resources = [r.model_dump(mode="json") for r in result.retriever_resources]
        return nodes_from_resources(resources[: self.similarity_top_k])

    def _cite_kwargs(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "inputs": self.inputs,
            "delete_conversation": self.delete_conversation,
        }

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        result = self._clients.sync().cite(query_bundle.query_str, **self._cite_kwargs())
        return self._nodes(result)

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        client = self._clients.async_()
        return self._nodes(await client.cite(query_bundle.query_str, **self._cite_kwargs()))


class DifyKnowledgeRetriever(_ClientsRetriever[DifyKnowledgeClient, AsyncDifyKnowledgeClient]):
    """Search a Dify knowledge base (Knowledge API, dataset key) from LlamaIndex.

    Calls ``POST /datasets/{dataset_id}/retrieve`` and returns each hit as
    ``NodeWithScore(TextNode(id_=segment_id, text=content, metadata=...), score)``.
    Leave the retrieval options unset to use the knowledge base's own settings.

    Setup:
        ``DIFY_DATASET_API_KEY`` (a ``dataset-...`` key), ``DIFY_DATASET_ID`` and,
        for self-hosted Dify, ``DIFY_BASE_URL``.

    Examples:
        ```python
        from llama_index.core.query_engine import RetrieverQueryEngine
        from llama_index_dify import DifyKnowledgeRetriever, DifyLLM

        retriever = DifyKnowledgeRetriever(similarity_top_k=4, search_method="hybrid_search")
        engine = RetrieverQueryEngine.from_args(retriever, llm=DifyLLM())
        print(engine.query("What is Dify?"))
        ```
    """

    def __init__(
        self,
        *,
        dataset_id: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        similarity_top_k: int | None = None,
        k: int | None = None,
        search_method: SearchMethod | None = None,
        score_threshold: float | None = None,
        reranking_enable: bool | None = None,
        retrieval_model: dict[str, Any] | None = None,
        filters: MetadataFilters | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
        **connection: Unpack[Connection[DifyKnowledgeClient, AsyncDifyKnowledgeClient]],
    ) -> None:
        """Create the retriever (no I/O); the search options stay as attributes of the same names.

        Args:
            dataset_id: Knowledge base id (default: ``$DIFY_DATASET_ID``).
            api_key: Dataset key (default: ``$DIFY_DATASET_API_KEY``).
            base_url: Service API root (default: ``$DIFY_BASE_URL``, else Dify Cloud).
            similarity_top_k: Number of hits (None: the knowledge base's top-k).
            k: Alias of ``similarity_top_k``.
            search_method: A `SearchMethod` (None: the knowledge base's own).
            score_threshold: Drop hits scoring below this (None: the base's setting).
            reranking_enable: Rerank with the base's reranking model, or not (None:
                the knowledge base's setting). Options are merged into the base's own
                retrieval settings, so ``similarity_top_k`` alone keeps its search method.
            retrieval_model: A full Dify ``retrieval_model`` object (overrides the
                options above).
            filters: LlamaIndex ``MetadataFilters`` on the documents' Dify metadata
                (EQ, NE, GT, GTE, LT, LTE, IN, NIN, CONTAINS, TEXT_MATCH, IS_EMPTY;
                AND or OR); checked at once, ``MetadataFilterError`` for what Dify lacks.
            callback_manager: Legacy callback manager.
            verbose: Print retrieval details.
            **connection: The `Connection` keywords (``timeout``, ``client``, ...), as
                for :class:`DifyLLM` (the clients: knowledge ones).

        Raises:
            DifyConfigError: If no dataset id is given or set in the environment.
        """
        super().__init__(
            (DifyKnowledgeClient, AsyncDifyKnowledgeClient),
            {"api_key": api_key, "base_url": base_url, **connection},
            callback_manager=callback_manager,
            verbose=verbose,
        )
        self.dataset_id: str = dataset_id_or_env(dataset_id)
        self.similarity_top_k = _top_k(similarity_top_k, k)
        self.search_method: SearchMethod | None = search_method
        self.score_threshold = score_threshold
        self.reranking_enable = reranking_enable
        self.retrieval_model = retrieval_model
        self.filters = filters
        if filters is not None:
            dify_filter(filters)  # a filter Dify cannot express fails here, not per query

    @classmethod
    def class_name(cls) -> str:
        """Return the class name."""
        return "DifyKnowledgeRetriever"

    def _options(self) -> dict[str, Any]:
        return {
            "top_k": self.similarity_top_k,
            "search_method": self.search_method,
            "score_threshold": self.score_threshold,
            "reranking_enable": self.reranking_enable,
            "retrieval_model": self.retrieval_model,
            "metadata_filter": dify_filter(self.filters) if self.filters is not None else None,
        }

    def _nodes(self, response: RetrieveResponse) -> list[NodeWithScore]:
        return [node_from_record(record, self.dataset_id) for record in response.records]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        response = self.client.retrieve(self.dataset_id, query_bundle.query_str, **self._options())
        return self._nodes(response)

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        client = self._clients.async_()
        response = await client.retrieve(self.dataset_id, query_bundle.query_str, **self._options())
        return self._nodes(response)
