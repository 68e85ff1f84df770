"""The same flows against a real Dify (``DIFY_BASE_URL`` + ``DIFY_API_KEY``; skipped otherwise).

The app behind ``DIFY_API_KEY`` must be a chat, chatflow or agent app. The knowledge
test also needs ``DIFY_DATASET_API_KEY`` and ``DIFY_DATASET_ID``.
"""

from __future__ import annotations

import os
import uuid

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from llama_index_dify import DifyChatEngine, DifyChatStore, DifyKnowledgeRetriever, DifyLLM

pytestmark = pytest.mark.live


@pytest.fixture
def user() -> str:
    return f"li-live-{uuid.uuid4().hex[:8]}"


def test_live_llm(user: str) -> None:
    llm = DifyLLM(user=user)
    reply = llm.chat([ChatMessage(role=MessageRole.USER, content="Say hello.")])
    assert reply.message.content
    cid = reply.message.additional_kwargs["conversation_id"]
    history = [
        ChatMessage(role=MessageRole.USER, content="Say hello."),
        reply.message,
        ChatMessage(role=MessageRole.USER, content="Again, please."),
    ]
    chunks = list(llm.stream_chat(history))
    assert chunks[-1].message.additional_kwargs["conversation_id"] == cid
    assert "".join(c.delta or "" for c in chunks)
    DifyChatStore(user=user).delete_messages(cid)


async def test_live_llm_async(user: str) -> None:
    llm = DifyLLM(user=user)
    text = ""
    async for chunk in await llm.astream_chat([ChatMessage(role="user", content="Hi")]):
        text += chunk.delta or ""
    assert text
    await llm.aclose()


def test_live_engine_and_store(user: str) -> None:
    engine = DifyChatEngine.from_defaults(user=user)
    for question in ("Hello.", "What did I just say?", "Thanks."):
        engine.chat(question)
    cid = engine.conversation_id
    assert cid is not None
    store = DifyChatStore(user=user)
    assert cid in store.get_keys()
    assert len(store.get_messages(cid)) == 6
    engine.reset(delete=True)


@pytest.mark.skipif(
    not (os.environ.get("DIFY_DATASET_API_KEY") and os.environ.get("DIFY_DATASET_ID")),
    reason="set DIFY_DATASET_API_KEY and DIFY_DATASET_ID",
)
def test_live_knowledge_retriever() -> None:
    hits = DifyKnowledgeRetriever(similarity_top_k=2).retrieve("test")
    assert len(hits) <= 2
