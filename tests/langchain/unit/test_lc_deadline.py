"""Issue 9.3: a ``deadline`` on every LangChain component bounds each call to Dify."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from langchain_core.exceptions import LangChainException

from dify_transport import APITimeoutError, DifyError
from langchain_dify import (
    ChatDify,
    DifyChatMessageHistory,
    DifyCompletion,
    DifyKnowledgeRetriever,
    DifyRetriever,
    DifyWorkflow,
)

TASK = "t-lc"
FIRST = {"event": "message", "task_id": TASK, "message_id": "m1", "id": "m1", "answer": "Hi"}
FIRST_WF = {
    "event": "text_chunk",
    "task_id": TASK,
    "workflow_run_id": "r1",
    "data": {"text": "Hi"},
}


class Pings(httpx.SyncByteStream, httpx.AsyncByteStream):
    """One delta, then pings forever."""

    def __init__(self, first: dict[str, Any]) -> None:
        self.first = b"data: " + json.dumps(first).encode() + b"\n\n"

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
        path = request.url.path
        if path.endswith("/stop"):
            stops.append(path)
            return httpx.Response(200, json={"result": "success"})
        if path.endswith("/parameters"):
            return httpx.Response(200, json={"user_input_form": []})
        first = FIRST_WF if "workflows" in path else FIRST
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Pings(first)
        )

    return handle


def _http(stops: list[str]) -> dict[str, Any]:
    transport = httpx.MockTransport(_server(stops))
    return {
        "api_key": "app-x",
        "base_url": "http://dify.test/v1",
        "http_client": httpx.Client(transport=transport),
        "http_async_client": httpx.AsyncClient(transport=transport),
        "deadline": 0.5,
    }


def _check(err: BaseException, t0: float) -> None:
    assert time.monotonic() - t0 < 3
    assert isinstance(err, APITimeoutError)
    assert isinstance(err, DifyError)
    assert isinstance(err, LangChainException)  # ModelTimeoutError
    assert err.partial_answer == "Hi"


def test_chat_model_invoke_ends_at_the_deadline() -> None:
    stops: list[str] = []
    llm = ChatDify(**_http(stops))
    t0 = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        llm.invoke("hi")
    _check(info.value, t0)
    assert stops == [f"/v1/chat-messages/{TASK}/stop"]


async def test_chat_model_ainvoke_and_astream_end_at_the_deadline() -> None:
    stops: list[str] = []
    llm = ChatDify(**_http(stops))
    t0 = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        await llm.ainvoke("hi")
    _check(info.value, t0)
    with pytest.raises(APITimeoutError):
        async for _ in llm.astream("hi"):
            pass
    assert len(stops) == 2


def test_completion_and_workflow_end_at_the_deadline() -> None:
    stops: list[str] = []
    t0 = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        DifyCompletion(**_http(stops)).invoke("hi")
    _check(info.value, t0)
    t0 = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        DifyWorkflow(**_http(stops), check_inputs=False).invoke({})
    _check(info.value, t0)
    assert stops[-1] == f"/v1/workflows/tasks/{TASK}/stop"


def test_every_component_passes_its_deadline_to_its_clients() -> None:
    kw: dict[str, Any] = {"api_key": "app-x", "deadline": 7.0}
    assert ChatDify(**kw)._lazy_clients().sync().deadline == 7.0
    assert ChatDify(**kw)._lazy_clients().async_().deadline == 7.0
    assert DifyRetriever(**kw)._lazy_clients().sync().deadline == 7.0
    knowledge = DifyKnowledgeRetriever(api_key="dataset-x", dataset_id="d", deadline=7.0)
    assert knowledge._lazy_clients().sync().deadline == 7.0
    history = DifyChatMessageHistory(api_key="app-x", deadline=7.0)
    assert history._clients.sync().deadline == 7.0
    from_model = DifyChatMessageHistory.factory(ChatDify(**kw))("s1")
    assert from_model._clients.sync().deadline == 7.0
    assert ChatDify(api_key="app-x")._lazy_clients().sync().deadline is None


def test_knowledge_base_takes_deadline_and_connection_limit() -> None:
    from langchain_dify import DifyKnowledgeBase

    kb = DifyKnowledgeBase("ds", api_key="dataset-x", deadline=7.0, max_connections=5)
    assert kb._lazy_clients().sync().deadline == 7.0
    assert kb._lazy_clients().async_().max_connections == 5
