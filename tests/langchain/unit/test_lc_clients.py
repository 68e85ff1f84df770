"""Transport clients of ``ChatDify`` and the retrievers: built lazily, per settings, owned."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from dify_transport import AsyncDifyClient, DifyClient
from langchain_dify import ChatDify, DifyChatMessageHistory, DifyKnowledgeRetriever, DifyRetriever

if TYPE_CHECKING:
    from dify_emulator import Emulator

COMPONENTS: list[tuple[type[Any], dict[str, Any]]] = [
    (ChatDify, {}),
    (DifyRetriever, {}),
    (DifyKnowledgeRetriever, {"dataset_id": "ds"}),
]


@pytest.mark.parametrize(("cls", "extra"), COMPONENTS, ids=lambda v: getattr(v, "__name__", ""))
def test_model_copy_with_new_settings_builds_new_clients(
    cls: type[Any], extra: dict[str, Any]
) -> None:
    original = cls(api_key="app-a", base_url="http://one/v1", **extra)
    sync, aio = original._client, original._async_client
    copied = original.model_copy(
        update={"api_key": "app-b", "base_url": "http://two/v1", "max_retries": 0}
    )
    assert copied._client is not sync
    assert copied._async_client is not aio
    for client in (copied._client, copied._async_client):
        assert client.base_url.rstrip("/") == "http://two/v1"
        assert client._secret == "app-b"
        assert client.max_retries == 0
    # The original keeps its own clients.
    assert original._client is sync
    assert original._async_client is aio
    assert sync.base_url.rstrip("/") == "http://one/v1"


@pytest.mark.parametrize(("cls", "extra"), COMPONENTS, ids=lambda v: getattr(v, "__name__", ""))
def test_copies_never_share_the_originals_clients(cls: type[Any], extra: dict[str, Any]) -> None:
    original = cls(api_key="app-a", base_url="http://one/v1", **extra)
    sync = original._client
    for copied in (copy.copy(original), copy.deepcopy(original), original.model_copy()):
        assert copied._client is not sync
        assert copied._client is copied._client  # cached once built
        assert copied._client.base_url == sync.base_url


def test_assigning_a_setting_rebuilds_the_client() -> None:
    llm = ChatDify(api_key="app-a", base_url="http://one/v1")
    first = llm._client
    assert llm._client is first
    llm.base_url = "http://two/v1"
    second = llm._client
    assert second is not first
    assert second.base_url.rstrip("/") == "http://two/v1"
    assert isinstance(second, DifyClient)
    assert isinstance(llm._async_client, AsyncDifyClient)


# ------------------------------------------------------------------ close / with


def _built_http(component: Any) -> tuple[Any, Any]:
    """Make the component build its transport clients' httpx pools (no I/O)."""
    return component._client._http(), component._async_client._http()


@pytest.mark.parametrize(("cls", "extra"), COMPONENTS, ids=lambda v: getattr(v, "__name__", ""))
async def test_close_closes_built_clients_and_rebuilds_on_next_use(
    cls: type[Any], extra: dict[str, Any]
) -> None:
    component = cls(api_key="app-a", base_url="http://one/v1", **extra)
    sync_http, async_http = _built_http(component)
    component.close()
    assert sync_http.is_closed
    assert not async_http.is_closed  # async pools need aclose()
    assert component._client._http() is not sync_http  # still usable
    await component.aclose()
    assert async_http.is_closed


@pytest.mark.parametrize(("cls", "extra"), COMPONENTS, ids=lambda v: getattr(v, "__name__", ""))
async def test_injected_http_clients_stay_open(cls: type[Any], extra: dict[str, Any]) -> None:
    with httpx.Client() as sync_http:
        async with httpx.AsyncClient() as async_http:
            component = cls(
                api_key="app-a", http_client=sync_http, http_async_client=async_http, **extra
            )
            assert _built_http(component) == (sync_http, async_http)
            with component as entered:
                assert entered is component
            async with component:
                pass
            component.close()
            await component.aclose()
            assert not sync_http.is_closed
            assert not async_http.is_closed


@pytest.mark.parametrize(("cls", "extra"), COMPONENTS, ids=lambda v: getattr(v, "__name__", ""))
async def test_context_managers_close_what_was_built(cls: type[Any], extra: dict[str, Any]) -> None:
    with cls(api_key="app-a", **extra) as component:
        sync_http = component._client._http()
    assert sync_http.is_closed
    async with cls(api_key="app-a", **extra) as component:
        sync_http, async_http = _built_http(component)
    assert sync_http.is_closed
    assert async_http.is_closed


def test_close_after_a_settings_change_closes_the_replaced_client_too() -> None:
    llm = ChatDify(api_key="app-a", base_url="http://one/v1")
    first = llm._client._http()
    llm.base_url = "http://two/v1"
    second = llm._client._http()
    llm.close()
    assert first.is_closed
    assert second.is_closed


async def test_chat_model_invoke_then_close_keeps_injected_emulator_client(
    emulator: Emulator,
) -> None:
    transport = emulator.transport()
    with httpx.Client(transport=transport) as http:
        async with httpx.AsyncClient(transport=transport) as ahttp:
            async with ChatDify(
                api_key=emulator.keys.chat,
                base_url=emulator.base_url,
                http_client=http,
                http_async_client=ahttp,
            ) as llm:
                assert llm.invoke("hi").content
                assert (await llm.ainvoke("hi")).content
            assert not http.is_closed
            assert not ahttp.is_closed


# ------------------------------------------------------------------------ history


async def test_history_closes_built_clients_only() -> None:
    history = DifyChatMessageHistory("c1", api_key="app-a", base_url="http://one/v1")
    sync_http, async_http = history.client._http(), history.async_client._http()
    with history as entered:
        assert entered is history
    assert sync_http.is_closed
    assert history.client._http() is not sync_http  # rebuilt on next use
    async with history:
        pass
    assert async_http.is_closed


async def test_history_leaves_injected_clients_open() -> None:
    with httpx.Client() as sync_http, DifyClient(api_key="app-a") as client:
        async with AsyncDifyClient(api_key="app-a") as aclient:
            history = DifyChatMessageHistory(
                "c1", client=client, async_client=aclient, http_client=sync_http
            )
            injected_http, injected_ahttp = client._http(), aclient._http()
            history.close()
            await history.aclose()
            assert history.client is client
            assert not injected_http.is_closed
            assert not injected_ahttp.is_closed
    # A history built around an injected httpx client leaves that client open too.
    with httpx.Client() as sync_http:
        history = DifyChatMessageHistory("c1", api_key="app-a", http_client=sync_http)
        assert history.client._http() is sync_http
        history.close()
        assert not sync_http.is_closed


def test_components_pickle_with_fresh_clients() -> None:
    import pickle

    llm = ChatDify(api_key="app-k", user="u", conversation_id="c1")
    built = llm._client  # a built client (and its lock) must not stop pickling
    again = pickle.loads(pickle.dumps(llm))
    assert again.api_key is not None
    assert again.api_key.get_secret_value() == "app-k"
    assert (again.user, again.conversation_id) == ("u", "c1")
    assert again._client is not built
    assert again._client is again._client
    for component in (
        DifyRetriever(api_key="app-k"),
        DifyKnowledgeRetriever(api_key="dataset-k", dataset_id="d"),
    ):
        _ = component._client
        assert pickle.loads(pickle.dumps(component)).base_url == component.base_url
    history = DifyChatMessageHistory("c1", api_key="app-k", user="u")
    _ = history.client
    copied = pickle.loads(pickle.dumps(history))
    assert (copied.conversation_id, copied.user) == ("c1", "u")
    assert copied.client is not history.client
