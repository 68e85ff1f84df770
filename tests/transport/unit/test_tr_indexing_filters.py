"""wait_for_indexing (polling, progress, typed errors) and metadata filters, on MockTransport."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import httpx
import pytest

from dify_transport import (
    AsyncDifyKnowledgeClient,
    DifyKnowledgeClient,
    IndexingFailedError,
    IndexingPausedError,
    IndexingTimeoutError,
    MetadataFilterError,
)
from dify_transport._indexing import IndexingWatch, progress_default
from dify_transport.metadata_filter import Condition, conditions, from_mongo
from dify_transport.types import IndexingStatusList

KEY = "dataset-UnitTestKey-0123456789"
DS = "d0000000-0000-4000-8000-00000000000d"


def _status(state: str, done: int = 0, total: int = 4, error: str | None = None) -> dict[str, Any]:
    return {"data": [{"id": "doc1", "indexing_status": state, "completed_segments": done,
                      "total_segments": total, "error": error}]}  # fmt: skip


def _client(answers: list[dict[str, Any]], seen: list[httpx.Request]) -> DifyKnowledgeClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answers[min(len(seen), len(answers)) - 1])

    http = httpx.Client(transport=httpx.MockTransport(handler))
    kc = DifyKnowledgeClient(api_key=KEY, base_url="http://dify.test/v1", http_client=http)
    kc._sleep = lambda _s: None
    return kc


def test_polls_until_completed_and_reports_each_change() -> None:
    seen: list[httpx.Request] = []
    kc = _client([_status("parsing"), _status("indexing", 2), _status("indexing", 2),
                  _status("completed", 4)], seen)  # fmt: skip
    out = io.StringIO()
    watch_cls = IndexingWatch

    class Plain(watch_cls):  # type: ignore[misc, valid-type]
        def __init__(self, batch: str, **kw: Any) -> None:
            super().__init__(batch, **{**kw, "stream": out})

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("dify_transport._sync._knowledge_ingest.IndexingWatch", Plain)
        result = kc.wait_for_indexing(DS, "b1", progress=True)
    assert result.data[0].indexing_status == "completed"
    assert len(seen) == 4
    assert {r.url.path for r in seen} == {f"/v1/datasets/{DS}/documents/b1/indexing-status"}
    assert out.getvalue().splitlines() == [
        "Indexing batch b1: 0/4 segments (parsing)",
        "Indexing batch b1: 2/4 segments (indexing)",
        "Indexing batch b1: 4/4 segments (completed)",
    ]


def test_progress_is_off_outside_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert progress_default() is False  # pytest captures stderr: not a terminal
    seen: list[httpx.Request] = []
    kc = _client([_status("indexing", 1), _status("completed", 4)], seen)
    kc.wait_for_indexing(DS, "b1")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("answer", "error", "needle"),
    [
        (_status("error", error="PDF is encrypted"), IndexingFailedError, "PDF is encrypted"),
        (_status("paused"), IndexingPausedError, "resume it"),
    ],
)
def test_error_and_paused_raise_typed_errors(
    answer: dict[str, Any], error: type[Exception], needle: str
) -> None:
    kc = _client([_status("indexing"), answer], [])
    with pytest.raises(error, match=needle) as caught:
        kc.wait_for_indexing(DS, "b1")
    assert caught.value.batch == "b1"  # type: ignore[attr-defined]


def test_timeout_raises_after_max_wait_without_hanging() -> None:
    seen: list[httpx.Request] = []
    kc = _client([_status("indexing", 1)], seen)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    kc._sleep = sleep
    with pytest.raises(IndexingTimeoutError, match=r"within 0\.05 s") as caught:
        kc.wait_for_indexing(DS, "b1", max_wait=0.05, poll_interval=0.02)
    assert caught.value.statuses[0].indexing_status == "indexing"  # type: ignore[attr-defined]
    assert all(s <= 0.02 for s in slept)
    assert len(seen) >= 2


def test_async_wait() -> None:
    answers = [_status("indexing", 1), _status("completed", 4)]
    calls: list[int] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json=answers[min(len(calls), 2) - 1])

    async def run() -> IndexingStatusList:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with AsyncDifyKnowledgeClient(api_key=KEY, base_url="http://dify.test/v1",
                                            http_client=http) as kc:  # fmt: skip

            async def no_sleep(_s: float) -> None:
                return None

            kc._sleep = no_sleep
            out = await kc.wait_for_indexing(DS, "b1", progress=False)
        await http.aclose()
        return out

    assert asyncio.run(run()).data[0].indexing_status == "completed"
    assert len(calls) == 2


def test_from_mongo_maps_operators_by_value_type() -> None:
    assert from_mongo({"year": 2024, "lang": "en"}) == {
        "logical_operator": "and",
        "conditions": [
            {"name": "year", "comparison_operator": "=", "value": 2024},
            {"name": "lang", "comparison_operator": "is", "value": "en"},
        ],
    }
    got = from_mongo({"$or": [{"year": {"$gte": 2020}}, {"lang": {"$nin": ["de"]}},
                              {"tag": {"$exists": False}}, {"year": {"$ne": 1}}]})  # fmt: skip
    assert got["logical_operator"] == "or"
    assert [(c["comparison_operator"], c.get("value")) for c in got["conditions"]] == [
        ("≥", 2020), ("not in", ["de"]), ("empty", None), ("≠", 1)]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"a": {"$regex": "x"}}, r"no metadata filter operator '\$regex'"),
        ({"$or": [{"a": 1, "b": 2}]}, "cannot nest"),
        ({"$and": [{"$or": [{"a": 1}]}]}, "cannot express"),
        ({"a": {"$gt": "x"}}, "compares numbers"),
        ({"a": {"$in": "x"}}, "needs a list"),
        ({"$not": {"a": 1}}, "cannot express"),
        ({"logical_operator": "and", "conditions": [{"name": "a",
          "comparison_operator": "!="}]}, "no metadata filter operator '!='"),
    ],
)
def test_filters_dify_cannot_express_fail_before_sending(spec: dict[str, Any], needle: str) -> None:
    with pytest.raises(MetadataFilterError, match=needle):
        from_mongo(spec)


def test_neutral_conditions_and_retrieve_sends_complete_model() -> None:
    assert conditions([Condition("a", "starts_with", "x")], "OR") == {
        "logical_operator": "or",
        "conditions": [{"name": "a", "comparison_operator": "start with", "value": "x"}],
    }
    with pytest.raises(MetadataFilterError, match="'xor'"):
        conditions([Condition("a", "eq", 1)], "xor")
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"data": [], "has_more": False})
        bodies.append(json.loads(request.read()))
        return httpx.Response(200, json={"query": {"content": "q"}, "records": []})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with DifyKnowledgeClient(api_key=KEY, base_url="http://dify.test/v1", http_client=http) as kc:
        kc.retrieve(DS, "q", metadata_filter={"lang": "en"})
        kc.retrieve(DS, "q", retrieval_model={"search_method": "keyword_search",
                    "reranking_enable": False, "score_threshold_enabled": False, "top_k": 2},
                    metadata_filter={"n": {"$lt": 3}})  # fmt: skip
    model = bodies[0]["retrieval_model"]
    assert {"search_method", "reranking_enable", "score_threshold_enabled", "top_k"} <= set(model)
    assert model["metadata_filtering_conditions"]["conditions"][0]["value"] == "en"
    assert bodies[1]["retrieval_model"]["search_method"] == "keyword_search"
    assert bodies[1]["retrieval_model"]["metadata_filtering_conditions"]["conditions"] == [
        {"name": "n", "comparison_operator": "<", "value": 3}]  # fmt: skip


def test_add_documents_creates_fields_sets_values_and_waits() -> None:
    from dify_transport import TextDocument

    calls: list[tuple[str, str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read()) if request.content else None
        path = request.url.path.removeprefix(f"/v1/datasets/{DS}")
        calls.append((request.method, path, body))
        if path == "/document/create-by-text":
            doc = {"id": f"id-{body['name']}", "name": body["name"]}
            return httpx.Response(200, json={"document": doc, "batch": f"b-{body['name']}"})
        if path == "/metadata" and request.method == "GET":
            return httpx.Response(200, json={"doc_metadata": [
                {"id": "f-year", "name": "year", "type": "number"}]})  # fmt: skip
        if path == "/metadata":
            return httpx.Response(201, json={"id": f"f-{body['name']}", **body})
        if path.endswith("/indexing-status"):
            return httpx.Response(200, json=_status("completed", 1, 1))
        return httpx.Response(200, json={"result": "success"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with DifyKnowledgeClient(api_key=KEY, base_url="http://dify.test/v1", http_client=http) as kc:
        ids = kc.add_documents(DS, [
            TextDocument("a", "x", {"year": 2024, "source": "/a.txt", "tags": ["t"]}),
            TextDocument("b", "y"),
        ], progress=False)  # fmt: skip
    assert ids == ["id-a", "id-b"]
    assert [(m, p) for m, p, _ in calls] == [
        ("POST", "/document/create-by-text"), ("POST", "/document/create-by-text"),
        ("GET", "/metadata"), ("POST", "/metadata"), ("POST", "/documents/metadata"),
        ("GET", "/documents/b-a/indexing-status"), ("GET", "/documents/b-b/indexing-status"),
    ]  # fmt: skip
    assert calls[3][2] == {"type": "string", "name": "doc_source"}
    assert calls[4][2] == {"operation_data": [{"document_id": "id-a", "metadata_list": [
        {"id": "f-year", "name": "year", "value": 2024},
        {"id": "f-doc_source", "name": "doc_source", "value": "/a.txt"}]}]}  # fmt: skip
