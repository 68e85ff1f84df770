"""DifyKnowledgeRetriever filters and DifyKnowledgeBase, on a mock transport."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from langchain_core.documents import Document

from dify_transport import DifyConfigError, MetadataFilterError
from langchain_dify import DifyKnowledgeBase, DifyKnowledgeRetriever

DS = "d0000000-0000-4000-8000-00000000000d"
HIT = {"segment": {"id": "s1", "content": "tea", "document_id": "doc1", "position": 1,
                   "document": {"id": "doc1", "name": "a.txt",
                                "doc_metadata": {"year": 2024, "score": "theirs"}}},
       "score": 0.8}  # fmt: skip


def _server() -> tuple[list[httpx.Request], httpx.Client]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if request.method == "GET" and path == "/v1/datasets":
            return httpx.Response(200, json={"data": [], "has_more": False})
        if path.endswith("/retrieve"):
            return httpx.Response(200, json={"query": {"content": "q"}, "records": [HIT]})
        if path.endswith("/create-by-text"):
            body = json.loads(request.read())
            doc = {"id": f"id-{body['name']}", "name": body["name"]}
            return httpx.Response(200, json={"document": doc, "batch": "b"})
        if path.endswith("/indexing-status"):
            return httpx.Response(200, json={"data": [{"id": "x",
                                                       "indexing_status": "completed"}]})
        if path.endswith("/metadata"):  # GET fields / POST documents/metadata
            return httpx.Response(200, json={"doc_metadata": [{"id": "f1", "name": "title"}],
                                             "result": "success"})
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(404, json={"code": "not_found", "message": path})

    return seen, httpx.Client(transport=httpx.MockTransport(handler))


def _filters(seen: list[httpx.Request]) -> list[Any]:
    return [json.loads(r.read())["retrieval_model"].get("metadata_filtering_conditions")
            for r in seen if r.url.path.endswith("/retrieve")]  # fmt: skip


def test_retriever_filter_per_retriever_and_per_call() -> None:
    seen, http = _server()
    retriever = DifyKnowledgeRetriever(dataset_id=DS, api_key="dataset-x",
                                       base_url="http://dify.test/v1", http_client=http,
                                       filter={"lang": "en"})  # fmt: skip
    docs = retriever.invoke("tea")
    retriever.invoke("tea", filter={"$or": [{"year": {"$gte": 2020}}, {"lang": "de"}]})
    assert _filters(seen) == [
        {"logical_operator": "and",
         "conditions": [{"name": "lang", "comparison_operator": "is", "value": "en"}]},
        {"logical_operator": "or",
         "conditions": [{"name": "year", "comparison_operator": "≥", "value": 2020},
                        {"name": "lang", "comparison_operator": "is", "value": "de"}]},
    ]  # fmt: skip
    assert docs[0].metadata["year"] == 2024  # the Dify metadata field
    assert docs[0].metadata["score"] == 0.8  # ours win on a clash
    sent = len(seen)
    with pytest.raises(MetadataFilterError, match="Dify has no metadata filter operator"):
        retriever.invoke("tea", filter={"lang": {"$like": "e%"}})
    assert len(seen) == sent  # nothing sent


def test_knowledge_base_add_search_delete() -> None:
    seen, http = _server()
    kb = DifyKnowledgeBase(DS, api_key="dataset-x", base_url="http://dify.test/v1",
                           http_client=http, progress=False)  # fmt: skip
    ids = kb.add_documents([Document(page_content="tea", metadata={"title": "T"}),
                            Document(page_content="more")])  # fmt: skip
    assert ids == ["id-T", "id-document-2.txt"]
    values = [json.loads(r.read()) for r in seen if r.url.path.endswith("/documents/metadata")]
    assert values == [{"operation_data": [{"document_id": "id-T", "metadata_list": [
        {"id": "f1", "name": "title", "value": "T"}]}]}]  # fmt: skip
    assert kb.embeddings is None
    assert kb.similarity_search("tea", k=2, filter={"year": 2024})[0].metadata["year"] == 2024
    assert kb.delete(ids) is True
    assert [r.method for r in seen if r.method == "DELETE"] == ["DELETE", "DELETE"]
    with pytest.raises(DifyConfigError, match="Dify assigns document ids"):
        kb.add_texts(["x"], ids=["mine"])
    with pytest.raises(DifyConfigError, match="no text"):
        kb.add_documents([Document(page_content=" ")])
    with pytest.raises(DifyConfigError, match="dataset_id"):
        DifyKnowledgeBase()
