"""``ChatDify`` configuration and behaviour without sockets (in-process emulator)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from langchain_dify import DEFAULT_USER, ChatDify

if TYPE_CHECKING:
    from dify_emulator import Emulator


@pytest.fixture
def transport_clients(emulator: Emulator) -> Iterator[dict[str, object]]:
    transport = emulator.transport()
    with httpx.Client(transport=transport) as sync_client:
        yield {
            "http_client": sync_client,
            "http_async_client": httpx.AsyncClient(transport=transport),
            "base_url": emulator.base_url,
        }


@pytest.fixture
def user() -> str:
    return f"unit-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def llm(emulator: Emulator, transport_clients: dict[str, object], user: str) -> ChatDify:
    return ChatDify(api_key=emulator.keys.chat, user=user, **transport_clients)  # type: ignore[arg-type]


def test_defaults_without_env() -> None:
    llm = ChatDify()
    assert llm.user == DEFAULT_USER == "dify-integrations"
    assert llm.base_url == "https://api.dify.ai/v1"
    assert llm.api_key is None
    assert llm.model == "dify"
    assert llm._llm_type == "dify-chat"


def test_model_name_alias_and_ls_params() -> None:
    llm = ChatDify(model_name="support-bot", stop=["x"])
    assert llm.model == "support-bot"
    params = llm._get_ls_params()
    assert params["ls_provider"] == "dify"
    assert params["ls_model_name"] == "support-bot"
    assert params["ls_stop"] == ["x"]
    assert llm._get_ls_params(model="other")["ls_model_name"] == "other"


def test_identifying_params_cover_the_app_identity() -> None:
    llm = ChatDify(base_url="http://h/v1", user="u", inputs={"a": 1}, conversation_id="c")
    params = llm._identifying_params
    for key, value in {
        "base_url": "http://h/v1",
        "user": "u",
        "inputs": {"a": 1},
        "conversation_id": "c",
        "model": "dify",
    }.items():
        assert params[key] == value


def test_missing_key_is_a_config_error_at_first_request() -> None:
    from dify_transport import DifyConfigError

    llm = ChatDify()  # no key, no env: constructing is fine
    with pytest.raises(DifyConfigError):
        llm.invoke("hi")


def test_unknown_call_kwargs_are_refused() -> None:
    with pytest.raises(TypeError, match="temperature"):
        ChatDify(api_key="k").invoke("hi", temperature=0.2)


def test_invoke_in_process(emulator: Emulator, llm: ChatDify, user: str) -> None:
    msg = llm.invoke("What does the warranty cover?")
    assert isinstance(msg, AIMessage)
    assert msg.content
    assert msg.response_metadata["conversation_id"]
    sent = [r for r in emulator.requests if r.user == user][-1]
    assert sent.body["query"] == "What does the warranty cover?"
    assert sent.body["user"] == user


def test_per_call_kwargs_and_inputs(emulator: Emulator, llm: ChatDify, user: str) -> None:
    other = f"{user}-other"
    llm.invoke("hi", user=other, inputs={"topic": "x"})
    sent = [r for r in emulator.requests if r.user == other][-1]
    assert sent.body["inputs"].get("topic") == "x"


def test_system_input_variable(emulator: Emulator, llm: ChatDify, user: str) -> None:
    bound = llm.model_copy(update={"system_input": "persona"})
    bound.invoke([SystemMessage("be terse"), HumanMessage("hi")])
    sent = [r for r in emulator.requests if r.user == user][-1]
    assert sent.body["query"] == "hi"
    assert sent.body["inputs"]["persona"] == "be terse"


def test_system_input_system_messages_when_continuing_are_not_dropped(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    bound = llm.model_copy(update={"system_input": "persona"})
    first = bound.invoke([SystemMessage("Bob"), HumanMessage("Hi")])
    sent = [r for r in emulator.requests if r.user == user][-1]
    assert (sent.body["query"], sent.body["inputs"].get("persona")) == ("Hi", "Bob")
    second = bound.invoke(
        [
            SystemMessage("Bob"),
            HumanMessage("Hi"),
            first,
            SystemMessage("Answer in French"),
            HumanMessage("Next"),
        ]
    )
    sent = [r for r in emulator.requests if r.user == user][-1]
    assert sent.body["conversation_id"] == first.response_metadata["conversation_id"]
    assert sent.body["query"] == "System: Bob\nSystem: Answer in French\nHuman: Next"
    assert "persona" not in (sent.body.get("inputs") or {})
    assert second.response_metadata["conversation_id"] == sent.body["conversation_id"]


def test_transcript_when_there_is_no_conversation(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    llm.invoke([HumanMessage("a"), AIMessage("b"), HumanMessage("c")])
    sent = [r for r in emulator.requests if r.user == user and r.path.endswith("/chat-messages")][
        -1
    ]
    assert sent.body["query"] == "Human: a\nAI: b\nHuman: c"
    assert "conversation_id" not in sent.body or not sent.body["conversation_id"]


async def test_async_in_process(llm: ChatDify) -> None:
    msg = await llm.ainvoke("hello")
    assert msg.content
    chunks = [c async for c in llm.astream("hello")]
    assert chunks[-1].chunk_position == "last"
    assert sum(1 for c in chunks if c.usage_metadata) == 1


def test_per_call_files_are_sent(emulator: Emulator, llm: ChatDify, user: str) -> None:
    files = [{"type": "image", "transfer_method": "remote_url", "url": "https://e.x/a.png"}]
    llm.bind(files=files).invoke("look")
    sent = [r for r in emulator.requests if r.user == user][-1]
    assert sent.body["files"] == files


def test_history_on_the_015_wire(emulator_015: Emulator) -> None:
    from langchain_dify import DifyChatMessageHistory

    transport = emulator_015.transport()
    with httpx.Client(transport=transport) as http:
        llm = ChatDify(
            api_key=emulator_015.keys.chat, base_url=emulator_015.base_url, http_client=http
        )
        first = llm.invoke("hello from the old wire")
        second = llm.invoke([HumanMessage("hello from the old wire"), first, HumanMessage("again")])
        conversation = first.response_metadata["conversation_id"]
        assert second.response_metadata["conversation_id"] == conversation
        assert first.usage_metadata is not None
        history = DifyChatMessageHistory(
            conversation,
            api_key=emulator_015.keys.chat,
            base_url=emulator_015.base_url,
            http_client=http,
        )
        assert [m.content for m in history.messages][::2] == ["hello from the old wire", "again"]
        history.clear()
        assert history.conversation_id is None


class DictStore:
    """A user-supplied session store (anything with get/set/delete)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def get(self, session_id: str) -> str | None:
        return self.data.get(session_id)

    def set(self, session_id: str, conversation_id: str) -> None:
        self.data[session_id] = conversation_id

    def delete(self, session_id: str) -> None:
        self.data.pop(session_id, None)


@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
async def test_pluggable_session_store_async(llm: ChatDify) -> None:
    from langchain_core.runnables.history import RunnableWithMessageHistory

    from langchain_dify import DifyChatMessageHistory, SessionStore

    store = DictStore()
    assert isinstance(store, SessionStore)
    chain = RunnableWithMessageHistory(
        llm, DifyChatMessageHistory.factory(llm, session_store=store)
    )
    config = {"configurable": {"session_id": "abc"}}
    one = await chain.ainvoke("first turn", config=config)
    two = await chain.ainvoke("second turn", config=config)
    conversation = one.response_metadata["conversation_id"]
    assert store.data == {"abc": conversation}
    assert two.response_metadata["conversation_id"] == conversation


class TokenCounter(BaseCallbackHandler):
    """Counts ``on_llm_new_token`` calls that carry text."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        if token:
            self.tokens.append(token)


def test_invoke_without_streaming_fires_no_token_callbacks(llm: ChatDify) -> None:
    counter = TokenCounter()
    msg = llm.invoke("What does the warranty cover?", config={"callbacks": [counter]})
    assert msg.content
    assert counter.tokens == []


async def test_ainvoke_without_streaming_fires_no_token_callbacks(llm: ChatDify) -> None:
    counter = TokenCounter()
    msg = await llm.ainvoke("What does the warranty cover?", config={"callbacks": [counter]})
    assert msg.content
    assert counter.tokens == []


async def test_streaming_true_and_stream_fire_one_callback_per_delta(llm: ChatDify) -> None:
    streaming = llm.model_copy(update={"streaming": True})
    for run in (
        lambda cb: streaming.invoke("hello there", config={"callbacks": [cb]}).content,
        lambda cb: "".join(c.text for c in llm.stream("hello there", config={"callbacks": [cb]})),
    ):
        counter = TokenCounter()
        answer = run(counter)
        assert len(counter.tokens) > 1
        assert "".join(counter.tokens) == answer
    counter = TokenCounter()
    msg = await streaming.ainvoke("hello there", config={"callbacks": [counter]})
    assert len(counter.tokens) > 1
    assert "".join(counter.tokens) == msg.content


# ---------------------------------------------------------------- moderation


MODERATED = "please moderate this"  # the emulator's output moderation fires on "moderate"


class _TokenHandler(BaseCallbackHandler):
    """A streaming callback (langchain-core's ``_StreamingCallbackHandler`` protocol, as
    ``astream_events`` attaches): makes ``invoke`` go through ``_stream``."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.ends: list[str] = []

    def tap_output_iter(self, run_id: uuid.UUID, output: Iterator[Any]) -> Iterator[Any]:
        return output

    def tap_output_aiter(self, run_id: uuid.UUID, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        return output

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.tokens.append(token)

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.ends.append(response.generations[0][0].message.content)


@pytest.mark.parametrize("streaming", [False, True])
def test_invoke_returns_the_moderation_replacement_on_every_path(
    llm: ChatDify, streaming: bool
) -> None:
    model = llm.model_copy(update={"streaming": streaming})
    msg = model.invoke(MODERATED)
    replacement = msg.response_metadata["message_replace"]
    assert replacement
    assert msg.content == replacement
    handler = _TokenHandler()
    via_callback = llm.invoke(MODERATED, config={"callbacks": [handler]})
    assert handler.tokens  # really streamed
    assert via_callback.content == replacement
    assert handler.ends == [replacement]  # on_llm_end sees the replacement too
    batched = model.batch([MODERATED, "hello"])
    assert batched[0].content == replacement
    assert batched[1].content != replacement
    assert "message_replace" not in batched[1].response_metadata
    assert llm.invoke(MODERATED, stream=True).content == replacement


@pytest.mark.parametrize("streaming", [False, True])
async def test_ainvoke_returns_the_moderation_replacement_on_every_path(
    llm: ChatDify, streaming: bool
) -> None:
    from langchain_core.runnables import RunnableLambda

    model = llm.model_copy(update={"streaming": streaming})
    msg = await model.ainvoke(MODERATED)
    replacement = msg.response_metadata["message_replace"]
    assert msg.content == replacement
    assert [m.content for m in await model.abatch([MODERATED])] == [replacement]

    async def ask(text: str) -> str:
        return str((await model.ainvoke(text)).content)

    # ``ainvoke`` under ``astream_events`` streams (a streaming callback is attached).
    ends = [
        event["data"]["output"]
        async for event in RunnableLambda(ask).astream_events(MODERATED, version="v2")
        if event["event"] in {"on_chat_model_end", "on_chain_end"}
    ]
    assert ends[-1] == replacement
    assert ends[0].content == replacement
    # A stream cannot take tokens back: its last chunk carries the replacement.
    chunks = [c async for c in model.astream(MODERATED)]
    assert chunks[-1].response_metadata["message_replace"] == replacement


# ----------------------------------------------------------------- LLM cache


def test_llm_cache_is_off_by_default(emulator: Emulator, llm: ChatDify, user: str) -> None:
    from langchain_core.caches import InMemoryCache
    from langchain_core.globals import get_llm_cache, set_llm_cache

    previous = get_llm_cache()
    set_llm_cache(InMemoryCache())
    try:
        assert llm.cache is False
        other_app = llm.model_copy(update={"api_key": emulator.keys.chatflow})
        first = llm.invoke("What is Dify?")
        second = other_app.invoke("What is Dify?")
        assert (
            second.response_metadata["conversation_id"]
            != (first.response_metadata["conversation_id"])
        )
        pinned = llm.bind(conversation_id=first.response_metadata["conversation_id"])
        pinned.invoke("And then?")
        pinned.invoke("And then?")  # a repeated follow-up is still a new Dify turn
        sent = [r.body["query"] for r in emulator.requests if r.user == user]
        assert sent.count("And then?") == 2
        assert sent.count("What is Dify?") == 2
    finally:
        set_llm_cache(previous)


def test_an_enabled_cache_never_crosses_apps(emulator: Emulator, llm: ChatDify, user: str) -> None:
    from langchain_core.caches import InMemoryCache

    cache = InMemoryCache()
    chat = llm.model_copy(update={"cache": cache})
    chatflow = llm.model_copy(update={"cache": cache, "api_key": emulator.keys.chatflow})
    a = chat.invoke("What is Dify?")
    b = chatflow.invoke("What is Dify?")
    assert chat.invoke("What is Dify?").content == a.content  # a hit for the same app
    sent = [r for r in emulator.requests if r.user == user]
    assert len(sent) == 2  # one per app: the second app's question was not a hit
    assert a.response_metadata["conversation_id"] != b.response_metadata["conversation_id"]
    fingerprints = {m._identifying_params["api_key_fingerprint"] for m in (chat, chatflow)}
    assert len(fingerprints) == 2
    for model, key in ((chat, emulator.keys.chat), (chatflow, emulator.keys.chatflow)):
        assert key not in model._get_llm_string()
        assert key not in str(model._identifying_params)


# ------------------------------------------------ history behind an output parser


def test_history_warns_when_an_answer_has_no_conversation_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from langchain_dify import DifyChatMessageHistory

    history = DifyChatMessageHistory(session_id="s", api_key="k")
    with caplog.at_level(logging.WARNING, logger="langchain_dify"):
        history.add_messages([HumanMessage("hi"), AIMessage("a parsed string")])
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "outside RunnableWithMessageHistory" in record.getMessage()
    assert "`prompt | ChatDify()`" in record.getMessage()
    caplog.clear()
    # Nothing to warn about: a Dify answer, a history that follows a conversation,
    # or no AI message at all.
    with caplog.at_level(logging.WARNING, logger="langchain_dify"):
        history.add_messages([HumanMessage("hi")])
        dify_answer = AIMessage("x", response_metadata={"conversation_id": "c1"})
        history.add_messages([HumanMessage("hi"), dify_answer])
        history.add_messages([HumanMessage("hi"), AIMessage("a parsed string")])
    assert history.conversation_id == "c1"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
def test_parser_inside_runnable_with_message_history_is_reported(
    emulator: Emulator, llm: ChatDify, user: str, caplog: pytest.LogCaptureFixture
) -> None:
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
    from langchain_core.runnables.history import RunnableWithMessageHistory

    from langchain_dify import DifyChatMessageHistory

    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{question}")]
    )
    factory = DifyChatMessageHistory.factory(llm)
    keys = {"input_messages_key": "question", "history_messages_key": "history"}
    inside = RunnableWithMessageHistory(prompt | llm | StrOutputParser(), factory, **keys)
    with caplog.at_level(logging.WARNING, logger="langchain_dify"):
        inside.invoke({"question": "My name is Ada."}, {"configurable": {"session_id": "in"}})
    assert any("outside RunnableWithMessageHistory" in r.getMessage() for r in caplog.records)
    caplog.clear()
    # The documented shape: the parser after the history wrapper keeps one conversation.
    outside = RunnableWithMessageHistory(prompt | llm, factory, **keys) | StrOutputParser()
    config = {"configurable": {"session_id": "out"}}
    with caplog.at_level(logging.WARNING, logger="langchain_dify"):
        answers = [outside.invoke({"question": q}, config) for q in ("I am Ada.", "Who am I?")]
    assert all(isinstance(a, str) and a for a in answers)
    assert caplog.records == []
    sent = [
        r.body for r in emulator.requests if r.user == user and r.path.endswith("/chat-messages")
    ][-2:]
    assert [b["query"] for b in sent] == ["I am Ada.", "Who am I?"]
    assert sent[1]["conversation_id"]


@pytest.mark.filterwarnings("ignore::langchain_core._api.deprecation.LangChainDeprecationWarning")
def test_prompt_system_context_reaches_dify_on_every_turn(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
    from langchain_core.runnables.history import RunnableWithMessageHistory

    from langchain_dify import DifyChatMessageHistory

    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "context: {context}"),
            MessagesPlaceholder("history"),
            ("human", "{question}"),
        ]
    )
    chain = RunnableWithMessageHistory(
        prompt | llm,
        DifyChatMessageHistory.factory(llm),
        input_messages_key="question",
        history_messages_key="history",
    )
    config = {"configurable": {"session_id": "ctx"}}
    first = chain.invoke({"context": "one", "question": "q1"}, config)
    second = chain.invoke({"context": "two", "question": "q2"}, config)
    assert second.response_metadata["conversation_id"] == first.response_metadata["conversation_id"]
    sent = [r.body for r in emulator.requests if r.user == user and "query" in (r.body or {})]
    assert [b["query"] for b in sent[-2:]] == [
        "System: context: one\nHuman: q1",
        "System: context: two\nHuman: q2",  # the new context is not lost
    ]
    dropping = llm.model_copy(update={"prior_turns": "drop"})
    history = [SystemMessage("context: three"), HumanMessage("q1"), first, HumanMessage("q3")]
    dropping.invoke(history)
    assert [r.body for r in emulator.requests if r.user == user][-1]["query"] == "q3"
