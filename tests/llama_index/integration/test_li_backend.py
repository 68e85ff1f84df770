"""Issue 14 (multi-user backends) from LlamaIndex: engine aborts, the chat store's read-back."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from dify_emulator import Faults
from llama_index_dify import DifyChatEngine

if TYPE_CHECKING:
    from tests.llama_index.conftest import Target


def _engine(target: Target) -> DifyChatEngine:
    return target.engine(system_prompt="Answer like a pirate.")


@pytest.mark.parametrize("how", ["break", "close"])
def test_a_first_turn_left_mid_stream_keeps_its_conversation(target: Target, how: str) -> None:
    engine = _engine(target)
    response = engine.stream_chat("What does the warranty cover?")
    deltas = response.response_gen
    assert next(deltas)
    if how == "close":
        deltas.close()
    else:
        for _ in deltas:
            break
        deltas.close()  # what leaving a for loop does once the generator is dropped
    cid = engine.conversation_id
    assert cid is not None
    engine.chat("And for how long?")
    sent = target.requests("/chat-messages")
    assert len(sent) == 2
    assert sent[1].body["conversation_id"] == cid
    assert sent[1].body["query"] == "And for how long?"  # the system prompt went once


async def test_a_first_turn_cancelled_mid_stream_keeps_its_conversation(atarget: Target) -> None:
    engine = _engine(atarget)
    atarget.emu.set_faults("chat", Faults(delay=0.5))  # the task waits inside the stream
    try:
        response = await engine.astream_chat("What does the warranty cover?")
        got = asyncio.Event()

        async def consume() -> None:
            async for _ in response.async_response_gen():
                got.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        atarget.emu.clear_faults()
    assert engine.conversation_id is not None
    await engine.achat("And for how long?")
    sent = atarget.requests("/chat-messages")
    assert sent[1].body["conversation_id"] == engine.conversation_id


def test_chat_store_reads_the_users_words_and_names_them(target: Target) -> None:
    llm = target.llm()
    system = ChatMessage(role=MessageRole.SYSTEM, content="Be brief.")
    first = llm.chat([system, ChatMessage(role=MessageRole.USER, content="Hi there")])
    history = [system, ChatMessage(role=MessageRole.USER, content="Hi there"), first.message]
    llm.chat([*history, ChatMessage(role=MessageRole.USER, content="And now?")])
    cid = first.message.additional_kwargs["conversation_id"]
    store = target.store()
    users = [m for m in store.get_messages(cid) if m.role == MessageRole.USER]
    assert [m.content for m in users] == ["Hi there", "And now?"]
    assert [m.additional_kwargs["system_text"] for m in users] == ["Be brief."] * 2
    (listed,) = store.list_conversations()
    assert listed.id == cid
    assert listed.name == "Hi there"
    assert store.rename_conversation(cid, "Greetings").name == "Greetings"
    assert [c.name for c in store.list_conversations()] == ["Greetings"]
    store.delete_messages(cid)
    assert store.list_conversations() == []


async def test_chat_store_async_conversations(atarget: Target) -> None:
    llm = atarget.llm()
    reply = await llm.achat([ChatMessage(role=MessageRole.USER, content="Hello")])
    cid = reply.message.additional_kwargs["conversation_id"]
    store = atarget.store()
    assert [c.id for c in await store.alist_conversations()] == [cid]
    renamed = await store.arename_conversation(cid, "Renamed")
    assert renamed.name == "Renamed"
    await store.adelete_messages(cid)
    assert await store.alist_conversations() == []


def test_chat_store_under_the_one_second_clock_keeps_every_turn(target: Target) -> None:
    engine = target.engine()
    questions = [f"Question number {i}?" for i in range(5)]
    for question in questions:
        engine.chat(question)
    cid = engine.conversation_id
    assert cid is not None
    target.emu.set_faults("chat", Faults(same_second=1))
    try:
        messages = target.store().get_messages(cid)
    finally:
        target.emu.clear_faults()
    users = [m.content for m in messages if m.role == MessageRole.USER]
    assert sorted(users) == questions  # every turn once (ties may come in Dify's order)
    roles = [m.role for m in messages]
    assert roles == [MessageRole.USER, MessageRole.ASSISTANT] * len(questions)
