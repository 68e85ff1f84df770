"""Issue 9 (under load): every LangChain component takes ``max_connections`` (no httpx by hand)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from dify_transport import DEFAULT_MAX_CONNECTIONS
from langchain_dify import (
    ChatDify,
    DifyChatMessageHistory,
    DifyCompletion,
    DifyKnowledgeRetriever,
    DifyRetriever,
    DifyWorkflow,
)

COMPONENTS: list[tuple[type[Any], dict[str, Any]]] = [
    (ChatDify, {}),
    (DifyCompletion, {}),
    (DifyWorkflow, {}),
    (DifyRetriever, {}),
    (DifyKnowledgeRetriever, {"dataset_id": "ds"}),
]


@pytest.mark.parametrize(("cls", "extra"), COMPONENTS, ids=lambda v: getattr(v, "__name__", ""))
def test_components_build_clients_with_their_connection_limit(
    cls: type[Any], extra: dict[str, Any]
) -> None:
    default = cls(api_key="app-a", **extra)._lazy_clients()
    assert default.sync().max_connections == DEFAULT_MAX_CONNECTIONS
    limited = cls(api_key="app-a", max_connections=7, **extra)._lazy_clients()
    assert limited.sync().max_connections == 7
    assert limited.async_().max_connections == 7
    # An injected httpx client keeps its own limits; the async client is still limited.
    mixed = cls(api_key="app-a", max_connections=7, http_client=httpx.Client(), **extra)
    assert mixed._lazy_clients().sync().max_connections is None
    assert mixed._lazy_clients().async_().max_connections == 7
    with pytest.raises(ValidationError):
        cls(api_key="app-a", max_connections=0, **extra)


def test_history_and_its_factory_take_the_limit() -> None:
    history = DifyChatMessageHistory("c1", api_key="app-a", max_connections=9)
    assert history._clients.sync().max_connections == 9
    llm = ChatDify(api_key="app-a", max_connections=11)
    made = DifyChatMessageHistory.factory(llm)("session")
    assert made._clients.async_().max_connections == 11
    assert (
        DifyChatMessageHistory.factory(api_key="app-a", max_connections=3)("s")
        ._clients.sync()
        .max_connections
        == 3
    )
