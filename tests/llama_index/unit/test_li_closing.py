"""``with`` / ``async with`` on every component: built clients close, injected ones stay open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dify_transport import (
    AsyncDifyClient,
    AsyncDifyKnowledgeClient,
    DifyClient,
    DifyKnowledgeClient,
)
from llama_index_dify import (
    DifyChatEngine,
    DifyChatStore,
    DifyKnowledgeRetriever,
    DifyLLM,
    DifyRetriever,
)
from llama_index_dify._clients import LazyClients

_APP: dict[str, Any] = {"api_key": "app-test", "base_url": "http://dify.test/v1"}
_DATASET: dict[str, Any] = {
    "api_key": "dataset-test",
    "base_url": "http://dify.test/v1",
    "dataset_id": "ds-1",
}

Make = Callable[..., Any]

COMPONENTS: dict[str, tuple[Make, type[Any], type[Any]]] = {
    # name: (component factory, sync client factory, async client factory)
    "llm": (lambda **kw: DifyLLM(**_APP, **kw), DifyClient, AsyncDifyClient),
    "engine": (lambda **kw: DifyChatEngine(**_APP, **kw), DifyClient, AsyncDifyClient),
    "store": (lambda **kw: DifyChatStore(**_APP, **kw), DifyClient, AsyncDifyClient),
    "retriever": (lambda **kw: DifyRetriever(**_APP, **kw), DifyClient, AsyncDifyClient),
    "knowledge": (
        lambda **kw: DifyKnowledgeRetriever(**_DATASET, **kw),
        DifyKnowledgeClient,
        AsyncDifyKnowledgeClient,
    ),
}


def _clients(component: Any) -> LazyClients[Any, Any]:
    owner = component.llm if isinstance(component, DifyChatEngine) else component
    clients: LazyClients[Any, Any] = owner._lazy_clients()
    return clients


def _injected(sync_cls: type[Any], async_cls: type[Any]) -> dict[str, Any]:
    return {
        "client": sync_cls(api_key=_APP["api_key"], base_url=_APP["base_url"]),
        "async_client": async_cls(api_key=_APP["api_key"], base_url=_APP["base_url"]),
    }


@pytest.mark.parametrize("name", COMPONENTS)
def test_with_closes_the_sync_client_it_built(name: str) -> None:
    make, sync_cls, _ = COMPONENTS[name]
    with make() as component:
        client = _clients(component).sync()
        assert isinstance(client, sync_cls)
        pool = client._http()  # the httpx pool the built client owns (no I/O)
        assert not pool.is_closed
    assert pool.is_closed
    assert _clients(component).client is None
    # Closing again is harmless; a later call builds a fresh client.
    component.close()
    assert _clients(component).sync() is not client
    component.close()


@pytest.mark.parametrize("name", COMPONENTS)
async def test_async_with_closes_the_async_client_it_built(name: str) -> None:
    make, _, async_cls = COMPONENTS[name]
    async with make() as component:
        client = _clients(component).async_()
        assert isinstance(client, async_cls)
        pool = client._http()
        assert not pool.is_closed
    assert pool.is_closed
    assert _clients(component).async_client is None


@pytest.mark.parametrize("name", COMPONENTS)
async def test_with_and_async_with_leave_injected_clients_open(name: str) -> None:
    make, sync_cls, async_cls = COMPONENTS[name]
    injected = _injected(sync_cls, async_cls)
    pools = (injected["client"]._http(), injected["async_client"]._http())
    with make(**injected) as component:
        assert _clients(component).sync() is injected["client"]
    async with component:
        assert _clients(component).async_() is injected["async_client"]
    assert not any(pool.is_closed for pool in pools)
    assert _clients(component).sync() is injected["client"]
    assert _clients(component).async_() is injected["async_client"]
    injected["client"].close()
    await injected["async_client"].aclose()


@pytest.mark.parametrize("name", COMPONENTS)
def test_with_leaves_a_caller_owned_httpx_client_open(name: str) -> None:
    make, _, _ = COMPONENTS[name]
    with httpx.Client() as http:
        with make(http_client=http) as component:
            assert _clients(component).sync()._http() is http
        assert not http.is_closed


@pytest.mark.parametrize("name", COMPONENTS)
async def test_async_with_leaves_a_caller_owned_httpx_client_open(name: str) -> None:
    make, _, _ = COMPONENTS[name]
    async with httpx.AsyncClient() as http:
        async with make(async_http_client=http) as component:
            assert _clients(component).async_()._http() is http
        assert not http.is_closed


def _raise_inside(llm: DifyLLM) -> httpx.Client:
    with llm:
        pool = llm._get_client()._http()
        raise RuntimeError(pool)


def test_the_block_closes_even_when_it_raises() -> None:
    with pytest.raises(RuntimeError) as raised:
        _raise_inside(DifyLLM(**_APP))
    (pool,) = raised.value.args
    assert isinstance(pool, httpx.Client)
    assert pool.is_closed
