"""Issue 9 (under load): every LlamaIndex component takes ``max_connections`` (no httpx by hand)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dify_transport import DEFAULT_MAX_CONNECTIONS
from llama_index_dify import (
    DifyChatEngine,
    DifyChatStore,
    DifyCompletionLLM,
    DifyKnowledgeRetriever,
    DifyLLM,
    DifyRetriever,
    tools,
)


@pytest.mark.parametrize("cls", [DifyLLM, DifyCompletionLLM, DifyChatStore])
def test_pydantic_components_take_the_limit(cls: type[Any]) -> None:
    assert cls(api_key="app-a")._app_clients().sync().max_connections == DEFAULT_MAX_CONNECTIONS
    clients = cls(api_key="app-a", max_connections=7)._app_clients()
    assert clients.sync().max_connections == 7
    assert clients.async_().max_connections == 7
    with pytest.raises(ValidationError):
        cls(api_key="app-a", max_connections=0)


def test_engine_retrievers_and_tools_take_the_limit() -> None:
    engine = DifyChatEngine(api_key="app-a", max_connections=5)
    assert engine._llm._app_clients().async_().max_connections == 5
    retriever = DifyRetriever(api_key="app-a", max_connections=6)
    assert retriever._clients.sync().max_connections == 6
    knowledge = DifyKnowledgeRetriever(dataset_id="ds", api_key="dataset-a", max_connections=8)
    assert knowledge._clients.async_().max_connections == 8
    assert tools._clients({"api_key": "app-a", "max_connections": 4}).sync().max_connections == 4
