"""The issue's acceptance flows, run as a user would: over 127.0.0.1 against the emulator."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_socket
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.exceptions import (
    ModelAuthenticationError,
    ModelInvalidRequestError,
    ModelNotFoundError,
)
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.runnables.history import RunnableWithMessageHistory

from dify_emulator import Faults
from dify_transport import AuthenticationError, ConversationNotFoundError, DifyClient
from langchain_dify import (
    ChatDify,
    DifyAuthenticationError,
    DifyBadRequestError,
    DifyChatMessageHistory,
    DifyKnowledgeRetriever,
    DifyNotFoundError,
    DifyRetriever,
    InMemorySessionStore,
)

if TYPE_CHECKING:
    from dify_emulator import Emulator

TINY_PNG_B64 = base64.b64encode(
    (Path(__file__).parents[1] / "assets" / "tiny.png").read_bytes()
).decode()

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*RunnableWithMessageHistory.*:langchain_core._api.deprecation.LangChainDeprecationWarning"
)


@pytest.fixture(autouse=True)
def _loopback_only(emulator: Emulator) -> Iterator[None]:
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    try:
        yield
    finally:
        pytest_socket._remove_restrictions()


@pytest.fixture
def user() -> str:
    return f"lc-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def llm(emulator: Emulator, user: str) -> ChatDify:
    return ChatDify(api_key=emulator.keys.chat, base_url=emulator.base_url, user=user)


def chat_requests(emu: Emulator, user: str) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat-messages") and r.user == user]


class TokenCounter(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)


# ----------------------------------------------------------------- 2: pipelines


def test_prompt_pipeline_streams_one_token_event_per_delta(llm: ChatDify) -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "Tell me about {topic}")])
    chain = prompt | llm | StrOutputParser()
    counter = TokenCounter()
    pieces = list(chain.stream({"topic": "the warranty"}, config={"callbacks": [counter]}))
    assert len(pieces) > 3
    text_tokens = [t for t in counter.tokens if t]
    assert text_tokens == [p for p in pieces if p]
    assert "".join(pieces) == chain.invoke({"topic": "the warranty"})


def test_invoke_fires_tokens_and_carries_metadata(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    # Token callbacks need streaming=True; streaming=False aggregates silently.
    silent = TokenCounter()
    llm.invoke("What does the warranty cover?", config={"callbacks": [silent]})
    assert silent.tokens == []
    counter = TokenCounter()
    streaming = llm.model_copy(update={"streaming": True})
    msg = streaming.invoke("What does the warranty cover?", config={"callbacks": [counter]})
    assert isinstance(msg, AIMessage)
    assert "".join(counter.tokens) == msg.content
    meta = msg.response_metadata
    assert meta["model_provider"] == "dify"
    assert meta["model_name"] == "dify"
    assert meta["conversation_id"]
    assert meta["message_id"]
    assert meta["task_id"]
    assert msg.id == meta["message_id"]
    assert meta["finish_reason"] == "stop"
    assert len(meta["retriever_resources"]) >= 3
    assert meta["usage"]["currency"]
    assert msg.usage_metadata is not None
    assert msg.usage_metadata["total_tokens"] == (
        msg.usage_metadata["input_tokens"] + msg.usage_metadata["output_tokens"]
    )
    assert chat_requests(emulator, user)[-1].body["response_mode"] == "streaming"


async def test_async_paths(llm: ChatDify) -> None:
    msg = await llm.ainvoke("hello there")
    assert msg.content
    batch = await llm.abatch(["first question", "second question"])
    assert [bool(m.content) for m in batch] == [True, True]
    kinds = [e["event"] async for e in llm.astream_events("hello again", version="v2")]
    assert "on_chat_model_stream" in kinds
    assert kinds[-1] == "on_chat_model_end"
    chunks = [c async for c in llm.astream("stream me")]
    assert chunks[-1].chunk_position == "last"


# -------------------------------------------------------------- 3: history


def test_runnable_with_message_history_keeps_one_conversation(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    store = InMemorySessionStore()
    chain = RunnableWithMessageHistory(
        llm, DifyChatMessageHistory.factory(llm, session_store=store)
    )
    first = {"configurable": {"session_id": "s1"}}
    questions = ["My name is Ada.", "What is the warranty?", "And what is my name?"]
    answers = [chain.invoke(q, config=first) for q in questions]
    conversation = answers[0].response_metadata["conversation_id"]
    assert {a.response_metadata["conversation_id"] for a in answers} == {conversation}
    assert store.get("s1") == conversation
    # Each turn sent only the new human text.
    assert [r.body["query"] for r in chat_requests(emulator, user)] == questions
    # On the server: three messages in that one conversation.
    client = DifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url)
    assert [m.query for m in client.iter_messages(conversation, user=user)] == questions
    # A second session gets its own conversation.
    other = chain.invoke("Hello", config={"configurable": {"session_id": "s2"}})
    assert other.response_metadata["conversation_id"] != conversation
    # The history reads the whole conversation back, oldest first, as pairs.
    history = DifyChatMessageHistory(
        conversation, user=user, api_key=emulator.keys.chat, base_url=emulator.base_url
    )
    messages = history.messages
    assert [type(m) for m in messages] == [HumanMessage, AIMessage] * 3
    assert [m.content for m in messages[::2]] == questions
    ai = messages[1]
    assert ai.response_metadata["conversation_id"] == conversation
    assert ai.response_metadata["message_id"] == answers[0].response_metadata["message_id"]
    assert "feedback" in ai.response_metadata
    assert "retriever_resources" in ai.response_metadata
    client.close()


async def test_history_async_and_clear(emulator: Emulator, llm: ChatDify, user: str) -> None:
    msg = await llm.ainvoke("remember me")
    conversation = msg.response_metadata["conversation_id"]
    history = DifyChatMessageHistory(
        user=user, api_key=emulator.keys.chat, base_url=emulator.base_url
    )
    assert await history.aget_messages() == []
    await history.aadd_messages([HumanMessage("remember me"), msg])
    assert history.conversation_id == conversation
    assert len(await history.aget_messages()) == 2
    await history.aclear()
    assert history.conversation_id is None
    with pytest.raises(DifyNotFoundError):
        await DifyChatMessageHistory(
            conversation, user=user, api_key=emulator.keys.chat, base_url=emulator.base_url
        ).aget_messages()


# ------------------------------------------------------- 4: continuing by message


def test_continuing_from_a_dify_answer_sends_only_the_new_turn(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    first = llm.invoke("My name is Ada.")
    second = llm.invoke([HumanMessage("My name is Ada."), first, HumanMessage("What is my name?")])
    conversation = first.response_metadata["conversation_id"]
    assert second.response_metadata["conversation_id"] == conversation
    last = chat_requests(emulator, user)[-1].body
    assert last["query"] == "What is my name?"
    assert last["conversation_id"] == conversation


def test_bound_conversation_id_wins(emulator: Emulator, llm: ChatDify, user: str) -> None:
    first = llm.invoke("start")
    conversation = first.response_metadata["conversation_id"]
    bound = llm.bind(conversation_id=conversation)
    again = bound.invoke("continue please")
    assert again.response_metadata["conversation_id"] == conversation


# ------------------------------------------------------------------ 5: agent


def test_agent_app_invoke_and_stream(emulator: Emulator, user: str) -> None:
    agent = ChatDify(api_key=emulator.keys.agent, base_url=emulator.base_url, user=user)
    msg = agent.invoke("What is the weather and the warranty?")
    assert msg.content
    assert msg.response_metadata["agent_thoughts"]
    chunks = list(agent.stream("What is the weather?"))
    total = chunks[0]
    for c in chunks[1:]:
        total += c
    assert isinstance(total, AIMessageChunk)
    assert total.content
    assert total.response_metadata["agent_thoughts"]
    assert total.response_metadata["model_name"] == "dify"


# ------------------------------------------------------------------- 6: RAG


def test_rag_chain_with_knowledge_retriever(emulator: Emulator, llm: ChatDify) -> None:
    retriever = DifyKnowledgeRetriever(
        api_key=emulator.keys.dataset,
        dataset_id=emulator.dataset_id,
        base_url=emulator.base_url,
        top_k=2,
    )

    def join(docs: list[Document]) -> str:
        return "\n\n".join(d.page_content for d in docs)

    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from this context:\n{context}"), ("human", "{question}")]
    )
    chain = {"context": retriever | join, "question": RunnablePassthrough()} | prompt | llm
    answer = chain.invoke("What does the warranty cover?")
    assert answer.content
    docs = retriever.invoke("What does the warranty cover?")
    assert len(docs) == 2
    assert all(d.id == d.metadata["segment_id"] for d in docs)
    assert all(isinstance(d.metadata["score"], float) for d in docs)


def test_app_retriever_returns_k_scored_documents(emulator: Emulator, user: str) -> None:
    retriever = DifyRetriever(
        api_key=emulator.keys.chat, base_url=emulator.base_url, user=user, k=3
    )
    docs = retriever.invoke("What does the warranty cover?")
    assert len(docs) == 3
    for doc in docs:
        assert doc.page_content
        assert isinstance(doc.metadata["score"], float)
        assert doc.id == doc.metadata["segment_id"]
        assert doc.metadata["dataset_id"]
        assert doc.metadata["document_name"]
        assert doc.metadata["answer"]
    assert [d.metadata["position"] for d in docs] == [1, 2, 3]


# ------------------------------------------------------------------ 7: errors


def test_wrong_key_is_a_typed_auth_error(emulator: Emulator) -> None:
    llm = ChatDify(api_key="app-wrong", base_url=emulator.base_url)
    with pytest.raises(DifyAuthenticationError) as info:
        llm.invoke("hi")
    assert isinstance(info.value, AuthenticationError)
    assert isinstance(info.value, ModelAuthenticationError)
    assert "app-wrong" not in str(info.value)


def test_unknown_conversation_names_the_user(llm: ChatDify, user: str) -> None:
    with pytest.raises(ConversationNotFoundError) as info:
        llm.invoke("hi", conversation_id=str(uuid.uuid4()))
    assert isinstance(info.value, DifyNotFoundError)
    assert isinstance(info.value, ModelNotFoundError)
    assert user in str(info.value)


def test_in_stream_error_carries_partial_answer(emulator: Emulator, llm: ChatDify) -> None:
    emulator.set_faults("chat", Faults(error_after=3))
    try:
        received: list[str] = []

        def consume() -> None:
            received.extend(chunk.text for chunk in llm.stream("What does the warranty cover?"))

        with pytest.raises(DifyBadRequestError) as info:
            consume()
    finally:
        emulator.clear_faults()
    err = info.value
    assert isinstance(err, ModelInvalidRequestError)
    assert err.in_stream
    assert err.partial_answer
    assert "".join(received) == err.partial_answer


# ------------------------------------------------------------ 8: image upload


def test_base64_image_is_uploaded_as_local_file(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    message = HumanMessage(
        content=[
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image", "base64": TINY_PNG_B64, "mime_type": "image/png"},
            {"type": "image", "url": "https://example.com/cat.png"},
        ]
    )
    answer = llm.invoke([message])
    assert answer.content
    uploads = [r for r in emulator.requests if r.path.endswith("/files/upload") and r.user == user]
    assert len(uploads) == 1
    files = chat_requests(emulator, user)[-1].body["files"]
    assert [f["transfer_method"] for f in files] == ["remote_url", "local_file"]
    assert files[1]["upload_file_id"]


# ---------------------------------------------------------------- cancelling


def test_breaking_out_of_a_stream_stops_the_task(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    for _chunk in llm.stream("please answer slow"):
        break
    assert any(call[1] == user for call in emulator.stop_calls)


async def test_cancelling_an_async_stream_stops_the_task(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    started = asyncio.Event()

    async def consume() -> None:
        async for _chunk in llm.astream("please answer slow"):
            started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert any(call[1] == user for call in emulator.stop_calls)


def test_stop_sequence_cuts_answer_and_stops_task(llm: ChatDify) -> None:
    full = llm.invoke("What does the warranty cover?").content
    assert isinstance(full, str)
    word = full.split()[3]
    cut = llm.invoke("What does the warranty cover?", stop=[word])
    assert cut.content == full[: full.index(word)]
    assert cut.response_metadata["finish_reason"] == "stop_sequence"


def test_an_unpickled_model_talks_to_dify(emulator: Emulator, llm: ChatDify, user: str) -> None:
    import pickle

    first = llm.invoke("My name is Ada.")
    again = pickle.loads(pickle.dumps(llm))
    second = again.invoke([HumanMessage("My name is Ada."), first, HumanMessage("Who am I?")])
    assert second.response_metadata["conversation_id"] == first.response_metadata["conversation_id"]
    again.close()
