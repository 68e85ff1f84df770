"""Transport clients of ``ChatDify`` and the retrievers: built lazily, per settings, owned."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dify_transport import AsyncDifyClient, DifyClient
from langchain_dify import ChatDify, DifyKnowledgeRetriever, DifyRetriever

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
