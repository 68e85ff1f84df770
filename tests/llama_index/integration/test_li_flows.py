"""Engine, retrievers, chat store and instrumentation against the emulator (both wirings)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.bridge.pydantic import Field
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatInProgressEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionInProgressEvent,
    LLMCompletionStartEvent,
)
from llama_index.core.query_engine import RetrieverQueryEngine

from llama_index_dify import (
    DifyChatEngine,
    DifyReadOnlyHistoryError,
    DifyStreamingChatResponse,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.llama_index.conftest import Target


# -- chat engine -------------------------------------------------------------------------


def test_engine_three_turns_land_in_one_conversation(target: Target) -> None:
    engine = target.engine()
    answers = [engine.chat(q) for q in ("What is Dify?", "And the sky?", "Thanks!")]
    cids = {a.metadata["conversation_id"] for a in answers if a.metadata}
    assert len(cids) == 1
    (cid,) = cids
    assert engine.conversation_id == cid
    stored = list(target.client().iter_messages(cid, user=target.user))
    assert [m.query for m in stored] == ["What is Dify?", "And the sky?", "Thanks!"]
    # Only the new turn is sent each time: Dify holds the memory.
    assert [r.body["query"] for r in target.requests("/chat-messages")] == [
        "What is Dify?",
        "And the sky?",
        "Thanks!",
    ]
    assert answers[0].source_nodes
    assert all(hit.score is not None for hit in answers[0].source_nodes)
    assert answers[0].metadata is not None
    assert answers[0].metadata["message_id"]


def test_engine_from_a_transport_client_or_plain_config(target: Target) -> None:
    from_client = target.track(DifyChatEngine(client=target.client(), user=target.user))
    cid = (from_client.chat("What is Dify?").metadata or {})["conversation_id"]
    wiring = target.wiring()
    from_config = target.track(DifyChatEngine(user=target.user, conversation_id=cid, **wiring))
    assert (from_config.chat("And the sky?").metadata or {})["conversation_id"] == cid
    assert len(target.store().get_messages(cid)) == 4


def test_engine_system_prompt_and_prefix_messages_go_with_each_first_turn(
    target: Target,
) -> None:
    prefix = [
        ChatMessage(role=MessageRole.USER, content="I am Ada."),
        ChatMessage(role=MessageRole.ASSISTANT, content="Hello Ada."),
    ]
    engine = target.engine(system_prompt="Answer in French.", prefix_messages=prefix)
    engine.chat("What is Dify?")
    engine.chat("And the sky?")
    engine.reset()
    engine.chat("Who am I?")
    first_turn = "system: Answer in French.\nuser: I am Ada.\nassistant: Hello Ada.\nuser: {}"
    assert [r.body["query"] for r in target.requests("/chat-messages")] == [
        first_turn.format("What is Dify?"),
        "And the sky?",  # Dify has the first turn
        first_turn.format("Who am I?"),  # a new conversation after reset()
    ]


def test_engine_system_prompt_goes_to_the_system_variable(target: Target) -> None:
    llm = target.llm(system_variable="persona")
    engine = target.track(DifyChatEngine.from_defaults(llm=llm, system_prompt="Be terse."))
    engine.chat("What is Dify?")
    (sent,) = target.requests("/chat-messages")
    assert (sent.body["query"], sent.body["inputs"]) == ("What is Dify?", {"persona": "Be terse."})


def test_engine_reset_starts_a_new_conversation(target: Target) -> None:
    engine = target.engine()
    first = engine.chat("What is Dify?").metadata or {}
    engine.reset()
    assert engine.conversation_id is None
    second = engine.chat("What is Dify?").metadata or {}
    assert second["conversation_id"] != first["conversation_id"]
    store = target.store()
    assert first["conversation_id"] in store.get_keys()
    engine.reset(delete=True)
    assert second["conversation_id"] not in store.get_keys()


def test_engine_stream_chat(target: Target) -> None:
    engine = target.engine()
    streaming = engine.stream_chat("What is Dify?")
    assert isinstance(streaming, DifyStreamingChatResponse)
    deltas = list(streaming.response_gen)
    assert len(deltas) > 3
    assert all(deltas)
    assert streaming.response == "".join(deltas)
    assert streaming.source_nodes
    top = streaming.source_nodes[0]
    assert top.score is not None
    assert top.node.node_id == streaming.metadata["retriever_resources"][0]["segment_id"]
    assert streaming.metadata["conversation_id"] == engine.conversation_id
    assert streaming.message is not None
    # The next turn continues the same conversation.
    follow_up = engine.chat("And the sky?").metadata or {}
    assert follow_up["conversation_id"] == streaming.metadata["conversation_id"]


def test_leaving_an_engine_stream_early_stops_the_dify_task(target: Target) -> None:
    engine = target.engine()
    streaming = engine.stream_chat("please be slow")
    deltas = streaming.response_gen
    assert next(deltas)
    deltas.close()
    assert len(target.stops()) == 1


async def test_leaving_an_async_engine_stream_early_stops_the_dify_task(atarget: Target) -> None:
    engine = atarget.engine()
    streaming = await engine.astream_chat("please be slow")
    deltas = streaming.async_response_gen()
    assert await deltas.__anext__()
    await deltas.aclose()
    for _ in range(200):
        if atarget.stops():
            break
        await asyncio.sleep(0.02)
    assert len(atarget.stops()) == 1


def test_engine_chat_history_reads_dify(target: Target) -> None:
    engine = target.engine()
    assert engine.chat_history == []
    engine.chat("What is Dify?")
    engine.chat("And the sky?")
    history = engine.chat_history
    assert [m.role for m in history] == [MessageRole.USER, MessageRole.ASSISTANT] * 2
    assert history[2].content == "And the sky?"
    assert history[-1].additional_kwargs["conversation_id"] == engine.conversation_id


def test_engine_chat_history_argument(target: Target) -> None:
    engine = target.engine()
    history = [
        ChatMessage(role=MessageRole.USER, content="I am Bob."),
        ChatMessage(role=MessageRole.ASSISTANT, content="Hello Bob."),
    ]
    engine.chat("What is my name?", chat_history=history)
    assert target.requests("/chat-messages")[-1].body["query"] == (
        "user: I am Bob.\nassistant: Hello Bob.\nuser: What is my name?"
    )
    # A Dify reply in the history continues its conversation.
    cid = engine.conversation_id
    other = target.engine()
    reply = ChatMessage(
        role=MessageRole.ASSISTANT, content="...", additional_kwargs={"conversation_id": cid}
    )
    answer = other.chat("Again?", chat_history=[reply])
    assert (answer.metadata or {})["conversation_id"] == cid


async def test_engine_async(atarget: Target) -> None:
    engine = atarget.engine()
    first = await engine.achat("What is Dify?")
    streaming = await engine.astream_chat("And the sky?")
    deltas = [d async for d in streaming.async_response_gen()]
    assert "".join(deltas) == streaming.response
    assert streaming.metadata["conversation_id"] == (first.metadata or {})["conversation_id"]
    history = await engine.aget_chat_history()
    assert len(history) == 4
    await engine.areset(delete=True)
    assert engine.conversation_id is None


@pytest.mark.parametrize("app", ["agent", "chatflow"])
def test_engine_with_agent_and_chatflow_apps(target: Target, app: str) -> None:
    engine = target.engine(app)
    answer = engine.chat("What time is it?")
    assert answer.response
    streaming = engine.stream_chat("And now?")
    assert "".join(streaming.response_gen)
    assert streaming.metadata["conversation_id"] == (answer.metadata or {})["conversation_id"]


# -- retrievers --------------------------------------------------------------------------


def test_dify_retriever(target: Target) -> None:
    hits = target.retriever().retrieve("What colour is the sky?")
    assert hits
    assert hits[0].node.metadata["document_name"] == "sky.txt"
    assert "sky" in hits[0].node.get_content()
    assert hits[0].score is not None
    one = target.retriever(k=1).retrieve("What colour is the sky?")
    assert len(one) == 1
    assert one[0].node.node_id == hits[0].node.node_id
    # No paid title generation per retrieval (like the LangChain retriever).
    assert [r.body["auto_generate_name"] for r in target.requests("/chat-messages")] == [
        False,
        False,
    ]


def test_dify_retriever_can_delete_its_conversations(target: Target) -> None:
    target.retriever(delete_conversation=True).retrieve("What is Dify?")
    assert target.store().get_keys() == []


async def test_dify_retriever_async(atarget: Target) -> None:
    hits = await atarget.retriever(similarity_top_k=2).aretrieve("What is Dify?")
    assert 0 < len(hits) <= 2
    (sent,) = atarget.requests("/chat-messages")
    assert sent.body["auto_generate_name"] is False


def test_knowledge_retriever(target: Target) -> None:
    retriever = target.knowledge(
        similarity_top_k=2, search_method="semantic_search", score_threshold=0.01
    )
    hits = retriever.retrieve("What colour is the sky?")
    assert 0 < len(hits) <= 2
    assert hits[0].node.metadata["document_name"] == "sky.txt"
    assert hits[0].node.metadata["dataset_id"] == target.emu.dataset_id
    assert hits[0].score is not None
    sent = [r for r in target.emu.requests if r.path.endswith("/retrieve")][-1]
    model = sent.body["retrieval_model"]
    assert model["top_k"] == 2
    assert model["search_method"] == "semantic_search"
    assert model["score_threshold"] == 0.01


async def test_knowledge_retriever_async(atarget: Target) -> None:
    hits = await atarget.knowledge().aretrieve("What is Dify?")
    assert hits
    assert all(hit.node.node_id for hit in hits)


def test_query_engine_over_knowledge_answers_with_dify(target: Target) -> None:
    engine = RetrieverQueryEngine.from_args(target.knowledge(), llm=target.llm())
    response = engine.query("What colour is the sky?")
    assert str(response)
    assert response.source_nodes
    assert response.source_nodes[0].node.metadata["document_name"] == "sky.txt"
    # The passage reached the Dify app inside the prompt.
    assert "scatter" in target.requests("/chat-messages")[-1].body["query"]


# -- chat store --------------------------------------------------------------------------


def test_chat_store(target: Target) -> None:
    llm = target.llm()
    first = llm.chat([ChatMessage(role=MessageRole.USER, content="What is Dify?")])
    cid = first.message.additional_kwargs["conversation_id"]
    store = target.store()
    assert store.get_keys() == [cid]
    messages = store.get_messages(cid)
    assert [m.content for m in messages] == ["What is Dify?", first.message.content]
    assert messages[1].additional_kwargs["conversation_id"] == cid
    # The stored history continues the conversation when handed back to the model.
    messages.append(ChatMessage(role=MessageRole.USER, content="More?"))
    assert llm.chat(messages).message.additional_kwargs["conversation_id"] == cid
    with pytest.raises(DifyReadOnlyHistoryError):
        store.add_message(cid, ChatMessage(role=MessageRole.USER, content="x"))
    assert store.delete_messages(cid) is None
    assert store.get_keys() == []
    # BaseChatStore's contract: an unknown key has no messages (it does not raise).
    assert store.get_messages(cid) == []
    assert store.delete_messages(cid) is None


async def test_chat_store_async(atarget: Target) -> None:
    answer = await atarget.llm().achat([ChatMessage(role=MessageRole.USER, content="Hi")])
    cid = answer.message.additional_kwargs["conversation_id"]
    store = atarget.store()
    assert await store.aget_keys() == [cid]
    assert len(await store.aget_messages(cid)) == 2
    await store.adelete_messages(cid)
    assert await store.aget_keys() == []
    assert await store.aget_messages(cid) == []
    assert await store.adelete_messages(cid) is None


# -- instrumentation ---------------------------------------------------------------------


class _Capture(BaseEventHandler):
    events: list[BaseEvent] = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "Capture"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)


@pytest.fixture
def captured() -> Iterator[list[BaseEvent]]:
    dispatcher = get_dispatcher()
    handler = _Capture(events=[])
    dispatcher.add_event_handler(handler)
    try:
        yield handler.events
    finally:
        dispatcher.event_handlers.remove(handler)


def _types(events: list[BaseEvent]) -> list[type[BaseEvent]]:
    return [type(e) for e in events]


def test_events_fire_for_chat_and_completion_without_the_key(
    target: Target, captured: list[BaseEvent]
) -> None:
    llm = target.llm()
    message = [ChatMessage(role=MessageRole.USER, content="What is Dify?")]
    llm.chat(message)
    chunks = list(llm.stream_chat(message))
    llm.complete("What is Dify?")
    list(llm.stream_complete("What is Dify?"))
    kinds = _types(captured)
    for kind in (LLMChatStartEvent, LLMChatEndEvent, LLMCompletionStartEvent):
        assert kind in kinds
    assert kinds.count(LLMChatInProgressEvent) >= len(chunks) * 2  # stream_chat + stream_complete
    assert LLMCompletionInProgressEvent in kinds
    assert LLMCompletionEndEvent in kinds
    start = next(e for e in captured if isinstance(e, LLMChatStartEvent))
    assert start.model_dict["class_name"] == "DifyLLM"
    end = next(e for e in captured if isinstance(e, LLMChatEndEvent))
    assert end.response is not None
    assert end.response.additional_kwargs["usage"]["total_tokens"] > 0
    key = target.key("chat")
    for event in captured:
        assert key not in event.model_dump_json()
        assert key not in repr(event)
