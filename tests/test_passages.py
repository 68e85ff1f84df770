"""A knowledge passage reads the same in LangChain and LlamaIndex (Q&A segments too)."""

from __future__ import annotations

import httpx
import pytest

from langchain_dify import DifyKnowledgeRetriever as LcKnowledgeRetriever
from llama_index_dify import DifyKnowledgeRetriever as LiKnowledgeRetriever

SEGMENTS = {
    "qa": (
        {"content": "What does the warranty cover?", "answer": "Parts and labour."},
        "question: What does the warranty cover?\nanswer: Parts and labour.",
    ),
    "plain": ({"content": "The sky is blue."}, "The sky is blue."),
}


def _transport(fields: dict[str, str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        segment = {"id": "s1", "position": 1, "document_id": "d1", **fields}
        segment["document"] = {"id": "d1", "name": "faq.txt"}
        record = {"segment": segment, "score": 0.9}
        return httpx.Response(200, json={"query": {"content": "q"}, "records": [record]})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("kind", SEGMENTS)
def test_both_retrievers_give_the_same_text(kind: str) -> None:
    fields, expected = SEGMENTS[kind]
    settings = {"api_key": "dataset-x", "base_url": "http://kb.test/v1", "dataset_id": "ds"}
    with httpx.Client(transport=_transport(fields)) as http:
        (doc,) = LcKnowledgeRetriever(**settings, http_client=http).invoke("q")
        (node,) = LiKnowledgeRetriever(**settings, http_client=http).retrieve("q")
    assert doc.page_content == node.node.get_content() == expected
