"""Wire shapes the emulator does not produce on demand, through `httpx.MockTransport`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from dify_transport import APIError
from llama_index_dify import DifyChatEngine, DifyLLM

ENVELOPE = {"conversation_id": "c1", "message_id": "m1", "created_at": 1, "task_id": "t1"}


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps({**ENVELOPE, **e}).encode() + b"\n\n" for e in events)


def _message(text: str) -> dict[str, Any]:
    return {"event": "message", "id": "m1", "answer": text}


END = {
    "event": "message_end",
    "id": "m1",
    "metadata": {
        "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6},
        "retriever_resources": [],
    },
    "files": None,
}


def _llm(body: bytes, seen: list[httpx.Request] | None = None) -> DifyLLM:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    transport = httpx.MockTransport(handler)
    return DifyLLM(
        api_key="app-test",
        base_url="http://dify.test/v1",
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
    )


REPLACED = _sse(
    _message("something "),
    _message("bad"),
    {"event": "message_replace", "answer": "[moderated]", "reason": ""},
    END,
)


def test_chat_returns_the_moderation_replacement() -> None:
    response = _llm(REPLACED).chat([ChatMessage(role=MessageRole.USER, content="hi")])
    assert response.message.content == "[moderated]"
    assert response.additional_kwargs["message_replace"] == "[moderated]"


def test_the_last_streamed_response_holds_the_replaced_message() -> None:
    chunks = list(_llm(REPLACED).stream_chat([ChatMessage(role=MessageRole.USER, content="hi")]))
    assert [c.delta for c in chunks] == ["something ", "bad", ""]
    assert chunks[1].message.content == "something bad"
    assert chunks[-1].message.content == "[moderated]"
    assert chunks[-1].additional_kwargs["message_replace"] == "[moderated]"


async def test_async_stream_holds_the_replacement_too() -> None:
    llm = _llm(REPLACED)
    chunks = [c async for c in await llm.astream_chat([ChatMessage(role="user", content="hi")])]
    assert chunks[-1].message.content == "[moderated]"
    await llm.aclose()


def test_engine_stream_response_is_the_replacement() -> None:
    engine = DifyChatEngine(_llm(REPLACED))
    streaming = engine.stream_chat("hi")
    assert "".join(streaming.response_gen) == "something bad"
    assert streaming.response == "[moderated]"
    assert streaming.metadata["message_replace"] == "[moderated]"
    assert engine.conversation_id == "c1"


def test_in_stream_error_is_the_transport_error_with_the_partial_answer() -> None:
    body = _sse(
        _message("partial "),
        {"event": "error", "status": 400, "code": "completion_request_error", "message": "boom"},
    )
    chunks = []
    with pytest.raises(APIError) as caught:
        chunks.extend(_llm(body).stream_chat([ChatMessage(role=MessageRole.USER, content="hi")]))
    assert [c.delta for c in chunks] == ["partial "]
    assert caught.value.partial_answer == "partial "
    assert caught.value.conversation_id == "c1"


def test_request_shape() -> None:
    seen: list[httpx.Request] = []
    llm = _llm(_sse(_message("ok"), END), seen)
    llm.chat([ChatMessage(role=MessageRole.USER, content="hi")], user="carol", inputs={"a": 1})
    (request,) = seen
    assert request.url == "http://dify.test/v1/chat-messages"
    assert request.headers["authorization"] == "Bearer app-test"
    assert json.loads(request.content) == {
        "inputs": {"a": 1},
        "query": "hi",
        "user": "carol",
        "response_mode": "streaming",
    }


def test_nothing_is_sent_until_a_stream_is_iterated() -> None:
    seen: list[httpx.Request] = []
    stream = _llm(_sse(_message("ok"), END), seen).stream_chat(
        [ChatMessage(role=MessageRole.USER, content="hi")]
    )
    assert seen == []
    assert [c.delta for c in stream] == ["ok", ""]
    assert len(seen) == 1


def test_bad_messages_fail_before_any_request() -> None:
    seen: list[httpx.Request] = []
    llm = _llm(_sse(END), seen)
    with pytest.raises(ValueError, match="No new user message"):
        llm.stream_chat([ChatMessage(role=MessageRole.ASSISTANT, content="hi")])
    assert seen == []
