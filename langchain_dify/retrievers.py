"""Dify retrievers: an app's citations, or a knowledge base searched directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.utils import from_env, secret_from_env
from pydantic import Field, SecretStr

from dify_transport import (
    AsyncDifyKnowledgeClient,
    DifyKnowledgeClient,
    Result,
    RetrieveRecord,
    RetrieveResponse,
)
from dify_transport._knowledge_api import SearchMethod
from dify_transport._lifecycle import dataset_id_or_env
from dify_transport.passages import hit_metadata, segment_text
from langchain_dify._clients import AppClientOwner, ClientOwner
from langchain_dify._errors import translate_errors

__all__ = ["DifyKnowledgeRetriever", "DifyRetriever", "SearchMethod"]


class DifyRetriever(AppClientOwner, BaseRetriever):
    """The passages a Dify app cites, as LangChain ``Document``s.

    Each call asks the app the query (one chat turn, streamed, so agent apps work) and
    returns its ``retriever_resources`` (the app must have citations enabled), best
    first. ``page_content`` is the passage; ``metadata`` holds ``dataset_id``,
    ``dataset_name``, ``document_id``, ``document_name``, ``segment_id``, ``score``,
    ``position`` and the app's ``answer``, ``conversation_id`` and ``message_id``;
    ``Document.id`` is the segment id. ``k`` can only *truncate*: the app's own
    retrieval settings (top-k, threshold) decide how many passages exist.

    ```python
    from langchain_dify import DifyRetriever

    retriever = DifyRetriever(k=3)  # $DIFY_API_KEY, $DIFY_BASE_URL
    docs = retriever.invoke("What does the warranty cover?")
    docs[0].metadata["score"], docs[0].metadata["answer"]
    ```

    To search a knowledge base without running the app's LLM, use
    :class:`DifyKnowledgeRetriever`.
    """

    inputs: dict[str, Any] = Field(default_factory=dict)
    """Values for the app's input variables."""

    k: int | None = None
    """Return at most this many passages (None: all the app cited)."""

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,  # noqa: ARG002 - injected by the base
        k: int | None = None,
    ) -> list[Document]:
        with translate_errors():
            result = self._client.cite(query, user=self.user, inputs=self.inputs)
        return self._documents(result, k)

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,  # noqa: ARG002
        k: int | None = None,
    ) -> list[Document]:
        with translate_errors():
            result = await self._async_client.cite(query, user=self.user, inputs=self.inputs)
        return self._documents(result, k)

    def _documents(self, result: Result, k: int | None) -> list[Document]:
        limit = k if k is not None else self.k
        resources = result.retriever_resources
        if limit is not None:
            resources = resources[: max(limit, 0)]
        return [
            Document(
                id=resource.segment_id,
                page_content=resource.content or "",
                metadata={
                    **resource.model_dump(exclude={"content"}, mode="json"),
                    "answer": result.answer,
                    "conversation_id": result.conversation_id,
                    "message_id": result.message_id,
                },
            )
            for resource in resources
        ]


class DifyKnowledgeRetriever(
    ClientOwner[DifyKnowledgeClient, AsyncDifyKnowledgeClient], BaseRetriever
):
    """A Dify knowledge base (dataset) searched directly: retrieval with no LLM call.

    Uses the knowledge API key (``dataset-...``), not an app key.

    ```python
    from langchain_dify import DifyKnowledgeRetriever

    # $DIFY_DATASET_API_KEY, $DIFY_DATASET_ID, $DIFY_BASE_URL
    retriever = DifyKnowledgeRetriever(top_k=4, search_method="hybrid_search")
    docs = retriever.invoke("warranty")
    ```

    ``page_content`` is the passage (a Q&A segment reads ``question: ...`` /
    ``answer: ...``, as in ``llama_index_dify``); ``metadata`` holds the document's Dify
    metadata fields (e.g. ``year``) and ``dataset_id``, ``document_id``,
    ``document_name``, ``segment_id``, ``score`` and ``position`` (which win on a clash);
    ``Document.id`` is the segment id.

    Metadata filter (``filter=`` on the retriever, or per call:
    ``retriever.invoke("tea", filter={...})``, which replaces the retriever's)::

        {"year": 2024}  # equals (Dify "=" / "is")
        {"year": {"$gte": 2020}, "lang": {"$in": ["en", "de"]}}  # AND of conditions
        {"$or": [{"lang": "en"}, {"year": {"$lt": 2000}}]}

    Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $contains $not_contains
    $starts_with $ends_with $exists $before $after`` (or Dify's own
    ``{"logical_operator": ..., "conditions": [...]}``). Anything Dify cannot express
    (nesting, ``$regex``, ...) raises ``MetadataFilterError`` (a ``ValueError``) before
    sending.
    """

    _client_factories: ClassVar[tuple[Callable[..., Any], Callable[..., Any]]] = (
        DifyKnowledgeClient,
        AsyncDifyKnowledgeClient,
    )

    api_key: SecretStr | None = Field(
        default_factory=secret_from_env("DIFY_DATASET_API_KEY", default=None), repr=False
    )
    """The knowledge API key (``dataset-...``); ``$DIFY_DATASET_API_KEY`` if not given."""

    dataset_id: str = Field(default_factory=from_env("DIFY_DATASET_ID", default=""))
    """The knowledge base to search; ``$DIFY_DATASET_ID`` if not given."""

    top_k: int | None = Field(default=None, alias="k")
    """How many passages to return (None: the knowledge base's setting). Alias ``k``."""

    search_method: SearchMethod | None = None
    """Search method (None: the knowledge base's setting)."""

    score_threshold: float | None = None
    """Drop passages scoring below this (None: the knowledge base's setting)."""

    reranking_enable: bool | None = None
    """Ask Dify to rerank, or not (None: the knowledge base's setting; reranking
    needs a rerank model configured on the knowledge base).

    Options given here are merged into the knowledge base's own retrieval settings,
    so setting ``k`` alone keeps its search method and reranking."""

    retrieval_model: dict[str, Any] | None = None
    """A full Dify ``retrieval_model`` object, for settings not covered above."""

    filter: dict[str, Any] | None = None
    """Metadata filter applied to every search (see the class docstring)."""

    def __init__(self, **data: Any) -> None:
        """Check the dataset id at construction, as ``llama_index_dify`` does."""
        super().__init__(**data)
        self.dataset_id = dataset_id_or_env(self.dataset_id)

    def _request(
        self, query: str, top_k: int | None, k: int | None, filter: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The ``retrieve`` arguments: a call's ``top_k`` (or ``k``) and ``filter`` win."""
        top_k = next((n for n in (top_k, k, self.top_k) if n is not None), None)
        return {
            "metadata_filter": filter if filter is not None else self.filter,
            "dataset_id": self.dataset_id,
            "query": query,
            "top_k": top_k,
            "search_method": self.search_method,
            "score_threshold": self.score_threshold,
            "reranking_enable": self.reranking_enable,
            "retrieval_model": self.retrieval_model,
        }

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,  # noqa: ARG002
        top_k: int | None = None,
        k: int | None = None,
        filter: dict[str, Any] | None = None,
    ) -> list[Document]:
        with translate_errors():
            response = self._client.retrieve(**self._request(query, top_k, k, filter))
        return self._documents(response)

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,  # noqa: ARG002
        top_k: int | None = None,
        k: int | None = None,
        filter: dict[str, Any] | None = None,
    ) -> list[Document]:
        with translate_errors():
            response = await self._async_client.retrieve(**self._request(query, top_k, k, filter))
        return self._documents(response)

    def _documents(self, response: RetrieveResponse) -> list[Document]:
        return [record_document(record, self.dataset_id) for record in response.records]


def record_document(record: RetrieveRecord, dataset_id: str) -> Document:
    """A knowledge-API hit as a LangChain ``Document`` (Dify metadata fields included)."""
    segment = record.segment
    return Document(
        id=segment.id,
        page_content=segment_text(segment),
        metadata=hit_metadata(record, dataset_id),
    )
