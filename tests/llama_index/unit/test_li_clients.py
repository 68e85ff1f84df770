"""Transport clients of the pydantic components: copies build their own (no I/O)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from llama_index_dify import DifyChatStore, DifyLLM


@pytest.mark.parametrize("cls", [DifyLLM, DifyChatStore])
def test_model_copy_with_new_settings_builds_new_clients(cls: type[Any]) -> None:
    original = cls(api_key="app-a", base_url="http://one/v1")
    sync = original._app_clients().sync()
    aio = original._app_clients().async_()
    copied = original.model_copy(
        update={"api_key": "app-b", "base_url": "http://two/v1", "max_retries": 0}
    )
    for client in (copied._app_clients().sync(), copied._app_clients().async_()):
        assert client is not sync
        assert client is not aio
        assert client.base_url.rstrip("/") == "http://two/v1"
        assert client._secret == "app-b"
        assert client.max_retries == 0
    assert original._app_clients().sync() is sync
    assert original._app_clients().async_() is aio


@pytest.mark.parametrize("cls", [DifyLLM, DifyChatStore])
def test_copies_never_share_the_originals_clients(cls: type[Any]) -> None:
    original = cls(api_key="app-a", base_url="http://one/v1")
    clients = original._app_clients()
    clients.sync()
    for copied in (copy.copy(original), copy.deepcopy(original), original.model_copy(deep=True)):
        assert copied._app_clients() is not clients
        assert copied._app_clients().sync() is not clients.sync()
        assert copied._app_clients().sync().base_url == clients.sync().base_url
    # Closing a copy leaves the original's clients alone.
    copied = original.model_copy()
    copied.close()
    assert original._app_clients() is clients
    assert clients.client is not None
