"""Knowledge retrieve: options are overlaid on the knowledge base's own retrieval settings."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from _tr_support import RECORDINGS, Server, json_response

from dify_transport import AsyncDifyKnowledgeClient, AuthenticationError, DifyKnowledgeClient

DS = "d0000000-0000-4000-8000-00000000000d"
OTHER = "d0000000-0000-4000-8000-0000000000ff"
EMPTY = {"query": {"content": "q"}, "records": []}

HYBRID = {
    "search_method": "hybrid_search",
    "reranking_enable": True,
    "reranking_mode": "reranking_model",
    "reranking_model": {"reranking_provider_name": "cohere", "reranking_model_name": "rerank-v3"},
    "weights": {"weight_type": "customized", "keyword_setting": {"keyword_weight": 0.3}},
    "top_k": 6,
    "score_threshold_enabled": True,
    "score_threshold": 0.2,
}
FALLBACK = {
    "search_method": "semantic_search",
    "reranking_enable": False,
    "score_threshold_enabled": False,
    "score_threshold": None,
    "top_k": 4,
}


def dataset(did: str, settings: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": did, "name": did[-4:], "provider": "vendor", **extra}
    if settings is not None:
        body["retrieval_model_dict"] = settings
    return body


def listing(*datasets: dict[str, Any], page: int = 1, has_more: bool = False) -> httpx.Response:
    body = {"data": list(datasets), "has_more": has_more, "limit": 100, "page": page, "total": 9}
    return json_response(200, body)


def server(pages: list[httpx.Response] | httpx.Response | None) -> Server:
    """Retrieve always answers; ``GET /datasets`` serves ``pages`` by the ``page`` param."""
    s = Server()
    s.routes[("POST", "/datasets/*")] = json_response(200, EMPTY)
    if isinstance(pages, list):
        by_page = pages

        def list_route(request: httpx.Request) -> httpx.Response:
            return by_page[int(request.url.params["page"]) - 1]

        s.routes[("GET", "/datasets")] = list_route
    elif pages is not None:
        s.routes[("GET", "/datasets")] = pages
    return s


def kclient(s: Server, **kw: Any) -> DifyKnowledgeClient:
    http = httpx.Client(transport=httpx.MockTransport(s))
    return DifyKnowledgeClient(api_key="dataset-k", http_client=http, **kw)


def akclient(s: Server, **kw: Any) -> AsyncDifyKnowledgeClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(s))
    return AsyncDifyKnowledgeClient(api_key="dataset-k", http_client=http, **kw)


def sent_models(s: Server) -> list[Any]:
    return [c.body.get("retrieval_model") for c in s.calls("POST", "/retrieve")]


def test_top_k_keeps_the_datasets_own_hybrid_and_reranking_settings():
    s = server([listing(dataset(OTHER, FALLBACK), has_more=True), listing(dataset(DS, HYBRID))])
    kc = kclient(s)
    kc.retrieve(DS, "q", top_k=1)
    lists = s.calls("GET", "/datasets")
    assert [c.params for c in lists] == [
        {"page": "1", "limit": "100"},
        {"page": "2", "limit": "100"},
    ]
    assert sent_models(s) == [{**HYBRID, "top_k": 1}]


def test_settings_are_cached_per_client_and_dataset_and_never_mutated():
    s = server(listing(dataset(DS, HYBRID), dataset(OTHER, FALLBACK)))
    kc = kclient(s)
    kc.retrieve(DS, "q", top_k=1)
    kc.retrieve(DS, "q", score_threshold=0.7)
    kc.retrieve(DS, "q", search_method="full_text_search", reranking_enable=False)
    assert len(s.calls("GET", "/datasets")) == 1
    kc.retrieve(OTHER, "q", reranking_enable=True)
    assert len(s.calls("GET", "/datasets")) == 2
    assert sent_models(s) == [
        {**HYBRID, "top_k": 1},
        {**HYBRID, "score_threshold_enabled": True, "score_threshold": 0.7},
        {**HYBRID, "search_method": "full_text_search", "reranking_enable": False},
        {**FALLBACK, "reranking_enable": True},
    ]
    kclient(s).retrieve(DS, "q", top_k=2)  # another client has its own cache
    assert len(s.calls("GET", "/datasets")) == 3


def test_no_option_sends_no_retrieval_model_and_fetches_nothing():
    s = server(listing(dataset(DS, HYBRID)))
    kclient(s).retrieve(DS, "q")
    assert s.calls("POST", "/retrieve")[0].body == {"query": "q"}
    assert s.calls("GET", "/datasets") == []


def test_full_retrieval_model_is_sent_as_is_without_a_fetch():
    s = server(listing(dataset(DS, HYBRID)))
    model = {"search_method": "keyword_search", "reranking_enable": False}
    kclient(s).retrieve(DS, "q", retrieval_model=model, top_k=9, reranking_enable=True)
    assert sent_models(s) == [model]
    assert s.calls("GET", "/datasets") == []


def test_recorded_listing_reproduces_the_recorded_retrieve_body():
    listed = httpx.Response(200, content=(RECORDINGS / "dataset_list" / "body.bin").read_bytes())
    recorded = json.loads((RECORDINGS / "dataset_retrieve_with_model" / "request.json").read_text())
    ds_id = recorded["path"].split("/")[-2]
    s = server(listed)
    kclient(s).retrieve(ds_id, recorded["body"]["query"], top_k=2)
    assert s.calls("POST", "/retrieve")[0].body == recorded["body"]


def test_unlisted_dataset_falls_back_to_defaults_logs_and_caches(caplog):
    s = server(listing(dataset(OTHER, HYBRID)))
    kc = kclient(s)
    with caplog.at_level(logging.DEBUG, logger="dify_transport"):
        kc.retrieve(DS, "q", top_k=3, score_threshold=0.5)
    assert sent_models(s) == [
        {**FALLBACK, "top_k": 3, "score_threshold_enabled": True, "score_threshold": 0.5}
    ]
    assert any(DS in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)
    kc.retrieve(DS, "q", top_k=3)
    assert len(s.calls("GET", "/datasets")) == 1


@pytest.mark.parametrize(
    "entry",
    [
        dataset(DS),  # an older server: no retrieval_model_dict
        dataset(DS, HYBRID, provider="external"),  # external knowledge
        dataset(DS, {"top_k": 5}),  # no search_method: not usable as a base
    ],
)
def test_listed_without_usable_settings_falls_back(entry):
    s = server(listing(entry))
    kclient(s).retrieve(DS, "q", search_method="keyword_search")
    assert sent_models(s) == [{**FALLBACK, "search_method": "keyword_search"}]


def test_partial_settings_get_the_keys_dify_requires():
    partial = {"search_method": "hybrid_search", "reranking_enable": None, "weights": {"w": 1}}
    s = server(listing(dataset(DS, partial)))
    kclient(s).retrieve(DS, "q", top_k=2)
    assert sent_models(s) == [{**FALLBACK, **partial, "reranking_enable": False, "top_k": 2}]


@pytest.mark.parametrize(
    ("response", "cached"),
    [
        (json_response(403, {"code": "forbidden", "message": "no", "status": 403}), True),
        (httpx.Response(404, text="<html><title>404 Not Found</title></html>"), True),
        (httpx.Response(200, text="<html>proxy</html>"), True),
        (json_response(503, {"code": "unavailable", "message": "x", "status": 503}), False),
    ],
)
def test_listing_failure_falls_back(caplog, response, cached):
    s = server(response)
    kc = kclient(s, max_retries=0)
    with caplog.at_level(logging.DEBUG, logger="dify_transport"):
        kc.retrieve(DS, "q", top_k=2)
    assert sent_models(s) == [{**FALLBACK, "top_k": 2}]
    assert any(DS in r.getMessage() for r in caplog.records)
    kc.retrieve(DS, "q", top_k=2)
    assert len(s.calls("GET", "/datasets")) == (1 if cached else 2)


def test_listing_401_is_raised():
    s = server(json_response(401, {"code": "unauthorized", "message": "bad", "status": 401}))
    with pytest.raises(AuthenticationError):
        kclient(s).retrieve(DS, "q", top_k=2)
    assert s.calls("POST", "/retrieve") == []


def test_listing_gets_the_calls_headers():
    s = server(listing(dataset(DS, HYBRID)))
    kclient(s).retrieve(DS, "q", top_k=2, extra_headers={"X-Trace": "t1"})
    assert s.calls("GET", "/datasets")[0].headers["x-trace"] == "t1"


def test_paging_stops_at_the_last_page():
    s = server([listing(dataset(OTHER, HYBRID), has_more=True), listing(page=2)])
    kclient(s).retrieve(DS, "q", top_k=2)
    assert len(s.calls("GET", "/datasets")) == 2
    assert sent_models(s) == [{**FALLBACK, "top_k": 2}]


async def test_async_overlays_caches_and_falls_back(caplog):
    s = server([listing(dataset(OTHER, FALLBACK), has_more=True), listing(dataset(DS, HYBRID))])
    kc = akclient(s)
    await kc.retrieve(DS, "q", top_k=1)
    await kc.retrieve(DS, "q", reranking_enable=False)
    await kc.retrieve(DS, "q")
    await kc.retrieve(DS, "q", retrieval_model={"search_method": "keyword_search"})
    assert len(s.calls("GET", "/datasets")) == 2
    with caplog.at_level(logging.DEBUG, logger="dify_transport"):
        await kc.retrieve("unlisted", "q", top_k=2)
    assert any("unlisted" in r.getMessage() for r in caplog.records)
    await kc.aclose()
    assert sent_models(s) == [
        {**HYBRID, "top_k": 1},
        {**HYBRID, "reranking_enable": False},
        None,
        {"search_method": "keyword_search"},
        {**FALLBACK, "top_k": 2},
    ]


async def test_async_listing_401_is_raised():
    s = server(json_response(401, {"code": "unauthorized", "message": "bad", "status": 401}))
    kc = akclient(s)
    with pytest.raises(AuthenticationError):
        await kc.retrieve(DS, "q", top_k=2)
    await kc.aclose()
