"""Issue 14, multi-user backends: one chain or graph serving many Dify end users."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import pytest_socket
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import ConfigurableField
from langchain_core.runnables.history import RunnableWithMessageHistory
from langchain_core.stores import InMemoryByteStore, InMemoryStore

from dify_transport import DifyClient
from langchain_dify import ChatDify, DifyChatMessageHistory

if TYPE_CHECKING:
    from dify_emulator import Emulator

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
def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def llm(emulator: Emulator, tag: str) -> ChatDify:
    return ChatDify(api_key=emulator.keys.chat, base_url=emulator.base_url, user=f"app-{tag}")


@pytest.fixture
def client(emulator: Emulator) -> Iterator[DifyClient]:
    with DifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url) as c:
        yield c


def chats(emu: Emulator, user: str) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat-messages") and r.user == user]


@pytest.mark.parametrize("store_type", [InMemoryStore, InMemoryByteStore])
def test_acceptance_5_three_users_three_conversations_human_turns_back(
    emulator: Emulator, llm: ChatDify, client: DifyClient, tag: str, store_type: type
) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are the help desk of {team}."),
            MessagesPlaceholder("history"),
            ("human", "{question}"),
        ]
    )
    store = store_type()
    chain = RunnableWithMessageHistory(
        prompt | llm,
        DifyChatMessageHistory.factory(llm, session_store=store),
        input_messages_key="question",
        history_messages_key="history",
        history_factory_config=DifyChatMessageHistory.history_factory_config(),
    )
    users = [f"{name}-{tag}" for name in ("ada", "bob", "cy")]
    questions = ["What does the warranty cover?", "And how long does it last?"]
    for user in users:
        for question in questions:
            # the same session id for everyone: sessions are keyed by (user, session)
            config = {"configurable": {"user_id": user, "session_id": "main"}}
            chain.invoke({"team": "Acme", "question": question}, config=config)

    conversations = {}
    for user in users:
        sent = chats(emulator, user)
        assert len(sent) == 2
        owned = list(client.iter_conversations(user=user))
        assert len(owned) == 1  # one conversation per user, under that Dify user
        conversations[user] = owned[0].id
        assert sent[1].body["conversation_id"] == owned[0].id
        assert not owned[0].name.startswith("System")
        assert owned[0].name == questions[0]
        history = DifyChatMessageHistory.factory(llm, session_store=store)("main", user_id=user)
        assert history.conversation_id == owned[0].id
        messages = history.messages
        assert [m.content for m in messages if isinstance(m, HumanMessage)] == questions
        assert all("System:" not in str(m.content) for m in messages)
        assert messages[0].additional_kwargs["system_text"] == "You are the help desk of Acme."
    assert len(set(conversations.values())) == 3
    assert not chats(emulator, llm.user)  # the model's own user sent nothing
    key = f"{users[0]}/main"
    value = store.mget([key])[0]
    assert value == (conversations[users[0]].encode() if store_type is InMemoryByteStore
                     else conversations[users[0]])  # fmt: skip


async def test_async_history_with_a_key_value_store(
    emulator: Emulator, llm: ChatDify, tag: str
) -> None:
    store = InMemoryStore()
    chain = RunnableWithMessageHistory(
        llm,
        DifyChatMessageHistory.factory(llm, session_store=store),
        history_factory_config=DifyChatMessageHistory.history_factory_config(),
    )
    user = f"async-{tag}"
    config = {"configurable": {"user_id": user, "session_id": "s"}}
    first = await chain.ainvoke("Hi, I'm Ada", config=config)
    second = await chain.ainvoke("What's my name?", config=config)
    cid = first.response_metadata["conversation_id"]
    assert second.response_metadata["conversation_id"] == cid
    assert store.mget([f"{user}/s"]) == [cid]
    assert {r.user for r in chats(emulator, user)} == {user}
    history = DifyChatMessageHistory.factory(llm, session_store=store)("s", user_id=user)
    await history.aclear()
    assert store.mget([f"{user}/s"]) == [None]


def test_a_plain_session_store_object_is_rejected_clearly(llm: ChatDify) -> None:
    with pytest.raises(TypeError, match="BaseStore"):
        DifyChatMessageHistory(session_id="s", session_store={"s": "c"})  # type: ignore[arg-type]


# ------------------------------------------------------- per-request user, streaming


def test_config_user_on_direct_calls_and_bind_wins(
    emulator: Emulator, llm: ChatDify, tag: str
) -> None:
    alice, bob = f"alice-{tag}", f"bob-{tag}"
    llm.invoke("hello", config={"configurable": {"dify_user": alice}})
    chunks = list(llm.stream("hello", config={"configurable": {"dify_user": alice}}))
    assert len([c for c in chunks if c.content]) > 1
    assert len(chats(emulator, alice)) == 2
    llm.bind(user=bob).invoke("hello", config={"configurable": {"dify_user": alice}})
    assert len(chats(emulator, bob)) == 1
    assert len(chats(emulator, alice)) == 2


async def test_config_user_async_and_events_stream(
    emulator: Emulator, llm: ChatDify, tag: str
) -> None:
    user = f"ev-{tag}"
    config = {"configurable": {"dify_user": user}}
    await llm.ainvoke("hello", config=config)
    events = [e async for e in llm.astream_events("hello", config=config, version="v2")]
    assert sum(e["event"] == "on_chat_model_stream" for e in events) > 1
    assert len(chats(emulator, user)) == 2


async def test_configurable_fields_user_keeps_streaming(
    emulator: Emulator, llm: ChatDify, tag: str
) -> None:
    user = f"cf-{tag}"
    configurable = llm.configurable_fields(user=ConfigurableField(id="dify_user"))
    config = {"configurable": {"dify_user": user}}
    events = [e async for e in configurable.astream_events("hello", config=config, version="v2")]
    assert sum(e["event"] == "on_chat_model_stream" for e in events) > 1
    assert len(chats(emulator, user)) == 1
    chunks = [c async for c in configurable.astream("hello", config=config)]
    assert len([c for c in chunks if c.content]) > 1
    assert len(chats(emulator, user)) == 2


def test_langgraph_one_graph_many_users_streams_tokens(
    emulator: Emulator, llm: ChatDify, tag: str
) -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import START, MessagesState, StateGraph

    def chat(state: MessagesState) -> dict[str, Any]:
        return {"messages": [llm.invoke(state["messages"])]}  # no config passed on purpose

    graph = StateGraph(MessagesState).add_node("chat", chat).add_edge(START, "chat")
    app = graph.compile(checkpointer=InMemorySaver())
    for name in ("ann", "ben"):
        user = f"{name}-{tag}"
        config = {"configurable": {"thread_id": f"t-{name}", "dify_user": user}}
        tokens = [
            chunk.content
            for chunk, _ in app.stream(
                {"messages": [HumanMessage("What is the warranty?")]},
                config,
                stream_mode="messages",
            )
            if chunk.content
        ]
        assert len(tokens) > 1
        app.invoke({"messages": [HumanMessage("And for how long?")]}, config)
        sent = chats(emulator, user)
        assert len(sent) == 2
        assert sent[1].body["conversation_id"]  # the thread continued its conversation
        state = app.get_state(config).values["messages"]
        assert isinstance(state[1], AIMessage)
        assert state[1].response_metadata["conversation_id"] == sent[1].body["conversation_id"]


def test_system_prompt_on_continuation_reads_back_without_system_lines(
    emulator: Emulator, llm: ChatDify, client: DifyClient
) -> None:
    first = llm.invoke([SystemMessage("Be brief."), HumanMessage("Hi there")])
    second = llm.invoke([SystemMessage("Be brief."), HumanMessage("Hi there"), first,
                         HumanMessage("And now?")])  # fmt: skip
    cid = second.response_metadata["conversation_id"]
    history = DifyChatMessageHistory(
        cid, user=llm.user, api_key=emulator.keys.chat, base_url=emulator.base_url
    )
    humans = [m for m in history.messages if isinstance(m, HumanMessage)]
    assert [m.content for m in humans] == ["Hi there", "And now?"]
    assert [m.additional_kwargs["system_text"] for m in humans] == ["Be brief."] * 2
    (conversation,) = [c for c in client.iter_conversations(user=llm.user) if c.id == cid]
    assert conversation.name == "Hi there"


# ------------------------------------------------- listing, renaming, deleting


def test_history_lists_renames_and_deletes_the_users_conversations(
    emulator: Emulator, llm: ChatDify
) -> None:
    first = llm.invoke("What does the warranty cover?")
    other = llm.invoke("Hello")
    history = DifyChatMessageHistory(
        first.response_metadata["conversation_id"],
        user=llm.user,
        api_key=emulator.keys.chat,
        base_url=emulator.base_url,
    )
    listed = history.list_conversations()
    assert {c.id for c in listed} == {
        first.response_metadata["conversation_id"],
        other.response_metadata["conversation_id"],
    }
    assert all(c.name for c in listed)  # Dify's generated names
    assert history.rename_conversation("Warranty").name == "Warranty"
    other_id = other.response_metadata["conversation_id"]
    renamed = history.rename_conversation("Greeting", conversation_id=other_id)
    assert renamed.id == other_id
    history.delete_conversation(other_id)
    assert [c.name for c in history.list_conversations()] == ["Warranty"]
    history.delete_conversation(first.response_metadata["conversation_id"])
    assert history.conversation_id is None
    assert history.list_conversations() == []


async def test_history_conversations_async(emulator: Emulator, llm: ChatDify) -> None:
    answer = await llm.ainvoke("Hello")
    cid = answer.response_metadata["conversation_id"]
    history = DifyChatMessageHistory(
        user=llm.user, api_key=emulator.keys.chat, base_url=emulator.base_url
    )
    with pytest.raises(ValueError, match="conversation_id="):
        await history.arename_conversation("x")
    assert [c.id for c in await history.alist_conversations()] == [cid]
    assert (await history.arename_conversation("Hi", conversation_id=cid)).name == "Hi"
    await history.adelete_conversation(cid)
    assert await history.alist_conversations() == []


# ------------------------------------------------------------- same-second turns


def test_history_under_the_one_second_clock_reads_every_turn_in_pairs(
    emulator: Emulator, llm: ChatDify
) -> None:
    from dify_emulator import Faults
    from llama_index_dify import DifyChatStore

    system = SystemMessage("Be brief.")
    questions = [f"Question number {i}?" for i in range(5)]
    messages: list[Any] = [system]
    for question in questions:
        messages.append(HumanMessage(question))
        messages.append(llm.invoke(messages))
    cid = messages[-1].response_metadata["conversation_id"]
    history = DifyChatMessageHistory(
        cid, user=llm.user, api_key=emulator.keys.chat, base_url=emulator.base_url
    )
    store = DifyChatStore(user=llm.user, api_key=emulator.keys.chat, base_url=emulator.base_url)
    emulator.set_faults("chat", Faults(same_second=1))
    try:
        read = history.messages
        other_framework = store.get_messages(cid)  # LangChain's "System:" lines decoded too
    finally:
        emulator.clear_faults()
        store.close()
    assert [type(m) for m in read] == [HumanMessage, AIMessage] * len(questions)
    assert sorted(m.content for m in read[::2]) == questions  # each once, no System: text
    assert all(m.additional_kwargs["system_text"] == "Be brief." for m in read[::2])
    assert sorted(m.content for m in other_framework[::2]) == questions
