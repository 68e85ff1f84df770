"""The Dify 0.15 wire (spaced JSON, sparse metadata, 200 on DELETE) over 127.0.0.1."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from llama_index_dify import DifyChatEngine, DifyChatStore, DifyKnowledgeRetriever, DifyLLM

if TYPE_CHECKING:
    from dify_emulator import Emulator


def test_llm_engine_store_and_knowledge_on_the_015_wire(emulator_015: Emulator) -> None:
    emu = emulator_015
    user = f"li-015-{uuid.uuid4().hex[:8]}"
    llm = DifyLLM(api_key=emu.keys.chat, base_url=emu.base_url, user=user)
    engine = DifyChatEngine(llm)
    first = engine.chat("What is Dify?")
    streaming = engine.stream_chat("And the sky?")
    assert "".join(streaming.response_gen) == streaming.response
    assert streaming.metadata["conversation_id"] == (first.metadata or {})["conversation_id"]
    store = DifyChatStore(api_key=emu.keys.chat, base_url=emu.base_url, user=user)
    assert store.get_keys() == [engine.conversation_id]
    assert len(store.get_messages(streaming.metadata["conversation_id"])) == 4
    engine.reset(delete=True)
    assert store.get_keys() == []
    hits = DifyKnowledgeRetriever(
        api_key=emu.keys.dataset, base_url=emu.base_url, dataset_id=emu.dataset_id
    ).retrieve("What is Dify?")
    assert hits
    assert hits[0].score is not None
    engine.close()
    store.close()
