"""Knowledge retrievers: options merge into the knowledge base's own retrieval settings."""

from __future__ import annotations

import json
from typing import Any

import httpx

from langchain_dify import DifyKnowledgeRetriever as LcKnowledgeRetriever
from llama_index_dify import DifyKnowledgeRetriever as LiKnowledgeRetriever

DATASET = "51b6263a-1dd2-46ab-9fb4-e57b0d627db8"
KB_SETTINGS = {
    "search_method": "hybrid_search",
    "reranking_enable": True,
    "reranking_mode": "reranking_model",
    "reranking_model": {"reranking_provider_name": "cohere", "reranking_model_name": "rerank"},
    "weights": None,
    "top_k": 4,
    "score_threshold_enabled": False,
    "score_threshold": None,
}


def _transport(sent: list[dict[str, Any]]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/datasets"):
            body = {"data": [{"id": DATASET, "name": "kb", "retrieval_model_dict": KB_SETTINGS}]}
            body |= {"has_more": False, "limit": 100, "total": 1, "page": 1}
            return httpx.Response(200, json=body)
        sent.append(json.loads(request.content))
        segment = {"id": "s1", "content": "text", "position": 1, "document_id": "d1"}
        segment["document"] = {"id": "d1", "name": "doc.txt"}
        record = {"segment": segment, "score": 0.9}
        return httpx.Response(200, json={"query": {"content": "q"}, "records": [record]})

    return httpx.MockTransport(handler)


def test_langchain_k_alone_keeps_the_knowledge_base_settings() -> None:
    sent: list[dict[str, Any]] = []
    with httpx.Client(transport=_transport(sent)) as http:
        retriever = LcKnowledgeRetriever(
            api_key="dataset-x",
            base_url="http://kb.test/v1",
            dataset_id=DATASET,
            k=1,
            http_client=http,
        )
        docs = retriever.invoke("q")
    assert len(docs) == 1
    model = sent[0]["retrieval_model"]
    assert model["top_k"] == 1
    assert model["search_method"] == "hybrid_search"
    assert model["reranking_enable"] is True
    assert model["reranking_model"]["reranking_model_name"] == "rerank"


def test_llama_index_top_k_alone_keeps_the_knowledge_base_settings() -> None:
    sent: list[dict[str, Any]] = []
    with httpx.Client(transport=_transport(sent)) as http:
        retriever = LiKnowledgeRetriever(
            api_key="dataset-x",
            base_url="http://kb.test/v1",
            dataset_id=DATASET,
            similarity_top_k=1,
            http_client=http,
        )
        nodes = retriever.retrieve("q")
    assert len(nodes) == 1
    model = sent[0]["retrieval_model"]
    assert (model["top_k"], model["search_method"], model["reranking_enable"]) == (
        1,
        "hybrid_search",
        True,
    )
