"""Every component exposes its transport clients as public ``client`` / ``async_client``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dify_transport import (
    AsyncDifyClient,
    AsyncDifyKnowledgeClient,
    DifyClient,
    DifyKnowledgeClient,
)
from langchain_dify import (
    ChatDify,
    DifyChatMessageHistory,
    DifyCompletion,
    DifyKnowledgeRetriever,
    DifyRetriever,
    DifyWorkflow,
)
from llama_index_dify import DifyChatEngine, DifyChatStore, DifyCompletionLLM, DifyLLM
from llama_index_dify import DifyKnowledgeRetriever as LiKnowledgeRetriever
from llama_index_dify import DifyRetriever as LiRetriever

APP: dict[str, Any] = {"api_key": "app-k", "base_url": "http://127.0.0.1:9/v1"}
KB: dict[str, Any] = {
    "api_key": "dataset-k",
    "base_url": "http://127.0.0.1:9/v1",
    "dataset_id": "d",
}
BUILDERS: dict[str, tuple[Callable[[], Any], type, type]] = {
    "ChatDify": (lambda: ChatDify(**APP), DifyClient, AsyncDifyClient),
    "DifyCompletion": (lambda: DifyCompletion(**APP), DifyClient, AsyncDifyClient),
    "DifyWorkflow": (lambda: DifyWorkflow(**APP), DifyClient, AsyncDifyClient),
    "DifyRetriever": (lambda: DifyRetriever(**APP), DifyClient, AsyncDifyClient),
    "DifyKnowledgeRetriever": (
        lambda: DifyKnowledgeRetriever(**KB),
        DifyKnowledgeClient,
        AsyncDifyKnowledgeClient,
    ),
    "DifyChatMessageHistory": (
        lambda: DifyChatMessageHistory(**APP),
        DifyClient,
        AsyncDifyClient,
    ),
    "DifyLLM": (lambda: DifyLLM(**APP), DifyClient, AsyncDifyClient),
    "DifyCompletionLLM": (lambda: DifyCompletionLLM(**APP), DifyClient, AsyncDifyClient),
    "DifyChatStore": (lambda: DifyChatStore(**APP), DifyClient, AsyncDifyClient),
    "DifyChatEngine": (lambda: DifyChatEngine(**APP), DifyClient, AsyncDifyClient),
    "li.DifyRetriever": (lambda: LiRetriever(**APP), DifyClient, AsyncDifyClient),
    "li.DifyKnowledgeRetriever": (
        lambda: LiKnowledgeRetriever(**KB),
        DifyKnowledgeClient,
        AsyncDifyKnowledgeClient,
    ),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
async def test_public_clients(name: str) -> None:
    build, sync_cls, async_cls = BUILDERS[name]
    component = build()
    try:
        assert isinstance(component.client, sync_cls)
        assert component.client is component.client  # built once, reused
        assert isinstance(component.async_client, async_cls)
    finally:
        await component.aclose()
