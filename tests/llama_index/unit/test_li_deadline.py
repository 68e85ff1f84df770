"""Issue 9.3: a ``deadline`` on every LlamaIndex component bounds each call to Dify."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from llama_index.core.llms import ChatMessage

from dify_transport import APITimeoutError
from llama_index_dify import (
    DifyChatEngine,
    DifyChatStore,
    DifyCompletionLLM,
    DifyKnowledgeRetriever,
    DifyLLM,
    DifyRetriever,
)

TASK = "t-li"
FIRST = {"event": "message", "task_id": TASK, "message_id": "m1", "id": "m1", "answer": "Hi"}


class Pings(httpx.SyncByteStream, httpx.AsyncByteStream):
    """One delta, then pings forever."""

    first = b"data: " + json.dumps(FIRST).encode() + b"\n\n"

    def __iter__(self) -> Any:
        yield self.first
        while True:
            time.sleep(0.02)
            yield b"event: ping\n\n"

    async def __aiter__(self) -> Any:
        yield self.first
        while True:
            await asyncio.sleep(0.02)
            yield b"event: ping\n\n"


def _server(stops: list[str]) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stop"):
            stops.append(request.url.path)
            return httpx.Response(200, json={"result": "success"})
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Pings())

    return handle


def _kw(stops: list[str]) -> dict[str, Any]:
    transport = httpx.MockTransport(_server(stops))
    return {
        "api_key": "app-x",
        "base_url": "http://dify.test/v1",
        "http_client": httpx.Client(transport=transport),
        "async_http_client": httpx.AsyncClient(transport=transport),
        "deadline": 0.5,
    }


def test_llm_chat_and_complete_end_at_the_deadline() -> None:
    stops: list[str] = []
    llm = DifyLLM(**_kw(stops))
    for call in (lambda: llm.chat([ChatMessage(role="user", content="hi")]),
                 lambda: llm.complete("hi")):  # fmt: skip
        t0 = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            call()
        assert time.monotonic() - t0 < 3
        assert info.value.partial_answer == "Hi"
    assert stops == [f"/v1/chat-messages/{TASK}/stop"] * 2


async def test_llm_astream_chat_ends_at_the_deadline() -> None:
    stops: list[str] = []
    llm = DifyLLM(**_kw(stops))
    t0 = time.monotonic()

    async def drain() -> None:
        gen = await llm.astream_chat([ChatMessage(role="user", content="hi")])
        async for _ in gen:
            pass

    with pytest.raises(APITimeoutError):
        await drain()
    assert time.monotonic() - t0 < 3


def test_chat_engine_and_completion_llm_end_at_the_deadline() -> None:
    stops: list[str] = []
    t0 = time.monotonic()
    with pytest.raises(APITimeoutError):
        DifyChatEngine(**_kw(stops)).chat("hi")
    assert time.monotonic() - t0 < 3
    t0 = time.monotonic()
    with pytest.raises(APITimeoutError):
        DifyCompletionLLM(**_kw(stops)).complete("hi")
    assert time.monotonic() - t0 < 3


def test_every_component_passes_its_deadline_to_its_clients() -> None:
    assert DifyLLM(api_key="app-x", deadline=7.0)._app_clients().sync().deadline == 7.0
    assert DifyChatStore(api_key="app-x", deadline=7.0)._app_clients().async_().deadline == 7.0
    assert DifyRetriever(api_key="app-x", deadline=7.0)._clients.sync().deadline == 7.0
    kr = DifyKnowledgeRetriever(api_key="dataset-x", dataset_id="d", deadline=7.0)
    assert kr._clients.sync().deadline == 7.0
    with pytest.raises(ValueError, match="deadline"):
        DifyLLM(api_key="app-x", deadline=0)


def test_knowledge_index_takes_deadline_and_connection_limit() -> None:
    from llama_index_dify import DifyKnowledgeIndex

    index = DifyKnowledgeIndex("ds", api_key="dataset-x", deadline=7.0, max_connections=5)
    assert index._clients.sync().deadline == 7.0
    assert index._clients.async_().max_connections == 5
