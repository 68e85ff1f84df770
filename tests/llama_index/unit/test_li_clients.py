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


def test_components_pickle_without_their_built_clients(caplog: pytest.LogCaptureFixture) -> None:
    import logging
    import pickle

    from llama_index_dify import DifyChatEngine, DifyKnowledgeRetriever, DifyRetriever

    llm = DifyLLM(api_key="app-a", base_url="http://one/v1", user="u", system_variable="p")
    store = DifyChatStore(api_key="app-a", user="u")
    retriever = DifyRetriever(api_key="app-a", user="u", k=2)
    knowledge = DifyKnowledgeRetriever(api_key="dataset-a", dataset_id="d")
    built = {
        "llm": llm._app_clients().sync(),
        "store": store._app_clients().async_(),
        "retriever": retriever._clients.sync(),
        "knowledge": knowledge._clients.async_(),
    }
    engine = DifyChatEngine(llm, conversation_id="c1", system_prompt="Be terse.")
    with caplog.at_level(logging.WARNING):
        copies = pickle.loads(pickle.dumps([llm, store, retriever, knowledge, engine]))
    assert [r for r in caplog.records if "unpickleable" in r.getMessage()] == []
    llm2, store2, retriever2, knowledge2, engine2 = copies
    assert (llm2.user, llm2.system_variable, llm2.api_key.get_secret_value()) == ("u", "p", "app-a")
    assert llm2._app_clients().sync() is not built["llm"]
    assert llm2._app_clients().sync()._secret == "app-a"
    assert store2._app_clients().async_() is not built["store"]
    assert (retriever2.user, retriever2.similarity_top_k) == ("u", 2)
    assert retriever2._clients.sync() is not built["retriever"]
    assert knowledge2._clients.async_() is not built["knowledge"]
    assert knowledge2.dataset_id == "d"
    assert engine2.conversation_id == "c1"
    assert engine2.llm.user == "u"
