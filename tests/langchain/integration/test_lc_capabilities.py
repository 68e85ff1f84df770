"""Structured output, tools, first-chunk ids, feedback: ChatDify vs the emulator (127.0.0.1)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

import pytest
import pytest_socket
from langchain_core.exceptions import LangChainException, OutputParserException
from langchain_core.messages import AIMessageChunk
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from dify_transport import DifyClient, DifyConfigError, DifyError
from dify_transport.turns import strip_transcript
from langchain_dify import ChatDify
from langchain_dify._structured import DifyOutputParserError, DifyToolCallingError

if TYPE_CHECKING:
    from dify_emulator import Emulator


class Joke(BaseModel):
    """Joke to tell user."""

    setup: str = Field(description="question to set up a joke")
    punchline: str = Field(description="answer to resolve the joke")


class JokeDict(TypedDict):
    setup: Annotated[str, ..., "question to set up a joke"]
    punchline: Annotated[str, ..., "answer to resolve the joke"]


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
def llm(emulator: Emulator, user: str) -> Iterator[ChatDify]:
    with ChatDify(api_key=emulator.keys.chat, base_url=emulator.base_url, user=user) as model:
        yield model


def sent_queries(emu: Emulator, user: str) -> list[str]:
    return [
        r.body["query"]
        for r in emu.requests
        if r.path.endswith("/chat-messages") and r.user == user
    ]


# ------------------------------------------------------------- structured output


@pytest.mark.parametrize("method", ["json_schema", "json_mode", "function_calling"])
def test_pydantic_schema_gives_a_validated_instance(
    emulator: Emulator, llm: ChatDify, user: str, method: Any
) -> None:
    joke = llm.with_structured_output(Joke, method=method).invoke("Tell me a joke about cats.")
    assert isinstance(joke, Joke)
    assert joke.setup
    assert joke.punchline
    query = sent_queries(emulator, user)[-1]
    assert '"required":["setup","punchline"]' in query  # the schema travels in the query
    assert strip_transcript(query) == "Tell me a joke about cats."


@pytest.mark.parametrize("method", ["json_schema", "json_mode"])
async def test_async_pydantic_schema(llm: ChatDify, method: Any) -> None:
    joke = await llm.with_structured_output(Joke, method=method).ainvoke("A joke about dogs?")
    assert isinstance(joke, Joke)
    partials = [p async for p in llm.with_structured_output(Joke, method=method).astream("A joke?")]
    assert partials[-1] == joke
    assert all(isinstance(p, Joke) for p in partials)


@pytest.mark.parametrize("schema", [JokeDict, Joke.model_json_schema()])
def test_typeddict_and_json_schema_give_dicts_and_stream_partials(
    llm: ChatDify, schema: Any
) -> None:
    chain = llm.with_structured_output(schema)
    assert set(chain.invoke("Tell me a joke about cats.")) == {"setup", "punchline"}
    partials = list(chain.stream("Tell me a joke about cats."))
    assert len(partials) > 2  # partial objects while the answer streams
    assert set(partials[-1]) == {"setup", "punchline"}
    assert all(set(p) <= {"setup", "punchline"} for p in partials)


def test_json_mode_without_a_schema_gives_a_json_object(llm: ChatDify) -> None:
    value = llm.with_structured_output(method="json_mode").invoke("What colour is the sky?")
    assert isinstance(value, dict)
    assert value


def test_a_malformed_answer_is_an_output_parser_exception_and_a_dify_error(llm: ChatDify) -> None:
    chain = llm.with_structured_output(Joke)
    with pytest.raises(OutputParserException) as info:
        chain.invoke("Tell me a malformed joke.")
    err = info.value
    assert isinstance(err, DifyError)
    assert isinstance(err, DifyOutputParserError)
    assert err.llm_output == err.raw
    assert err.raw.startswith("Sure! Here is the JSON")
    with pytest.raises(DifyOutputParserError):
        list(llm.with_structured_output(JokeDict).stream("Tell me a malformed joke."))


async def test_include_raw_keeps_the_message_and_the_parsing_error(llm: ChatDify) -> None:
    good = llm.with_structured_output(Joke, include_raw=True).invoke("A joke?")
    assert isinstance(good["parsed"], Joke)
    assert good["parsing_error"] is None
    assert good["raw"].response_metadata["message_id"]
    bad = await llm.with_structured_output(Joke, include_raw=True).ainvoke("A malformed joke?")
    assert bad["parsed"] is None
    assert isinstance(bad["parsing_error"], DifyOutputParserError)
    assert bad["raw"].content == bad["parsing_error"].raw


def test_bad_structured_output_arguments_fail_before_sending(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    with pytest.raises(DifyConfigError, match="needs a schema"):
        llm.with_structured_output(None)
    with pytest.raises(DifyConfigError, match="method must be"):
        llm.with_structured_output(Joke, method="xml")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unexpected"):
        llm.with_structured_output(Joke, tools=[])
    assert sent_queries(emulator, user) == []


# ----------------------------------------------------------------------- tools


def test_bind_tools_raises_a_named_error(llm: ChatDify) -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    with pytest.raises(DifyToolCallingError) as info:
        llm.bind_tools([add], tool_choice="any")
    err = info.value
    assert isinstance(err, DifyConfigError)
    assert isinstance(err, LangChainException)
    assert not isinstance(err, NotImplementedError)
    text = str(err)
    assert "add" in text
    assert "agent app" in text
    assert "DifyWorkflow(...).as_tool()" in text


# ------------------------------------------------------- ids on the first chunk


def test_first_chunk_carries_the_ids_and_summing_doubles_nothing(
    emulator: Emulator, llm: ChatDify, user: str
) -> None:
    chunks = list(llm.stream("What colour is the sky?"))
    first, last = chunks[0], chunks[-1]
    ids = ("conversation_id", "message_id", "task_id")
    assert all(first.response_metadata[k] for k in ids)
    assert first.response_metadata["user"] == user
    assert not set(ids) & set(last.response_metadata)  # usage and finish reason stay last
    assert last.usage_metadata is not None
    assert last.response_metadata["finish_reason"] == "stop"
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert isinstance(total, AIMessageChunk)
    assert {k: total.response_metadata[k] for k in ids} == {
        k: first.response_metadata[k] for k in ids
    }
    assert total.response_metadata["model_name"] == "dify"
    assert total.id == first.response_metadata["message_id"]
    conversations = DifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url)
    with conversations:
        listed = conversations.get_conversations(user=user).data
    assert [c.id for c in listed] == [first.response_metadata["conversation_id"]]


# ------------------------------------------------------ feedback and follow-ups


def test_feedback_and_suggested_questions(emulator: Emulator, llm: ChatDify, user: str) -> None:
    answer = llm.invoke("What colour is the sky?")
    llm.send_feedback(answer, "like", content="clear and short")
    with DifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url) as client:
        mine = [f for f in client.get_app_feedbacks(limit=100).data if f.message_id == answer.id]
        assert [(f.rating, f.content) for f in mine] == [("like", "clear and short")]
        history = client.get_messages(answer.response_metadata["conversation_id"], user=user)
        assert history.data[-1].feedback == {"rating": "like"}
        expected = client.get_suggested_questions(str(answer.id), user=user)
    assert llm.suggested_questions(answer) == expected
    assert llm.suggested_questions(str(answer.id)) == expected
    assert len(expected) == 3
    llm.send_feedback(str(answer.id), None)  # revoke
    assert (
        llm.client.get_messages(answer.response_metadata["conversation_id"], user=user)
        .data[-1]
        .feedback
        is None
    )


async def test_async_feedback_uses_the_answers_user(emulator: Emulator, user: str) -> None:
    other = ChatDify(api_key=emulator.keys.chat, base_url=emulator.base_url, user="someone-else")
    async with other:
        answer = await other.ainvoke("Hello?", user=user)  # the call's user is recorded
        assert answer.response_metadata["user"] == user
        await other.asend_feedback(answer, "dislike", content="too short")
        assert await other.asuggested_questions(answer)
        assert isinstance(other.async_client, object)
    feedback = [r for r in emulator.requests if r.path.endswith("/feedbacks")][-1]
    assert feedback.body == {"rating": "dislike", "user": user, "content": "too short"}


def test_feedback_needs_a_dify_answer(llm: ChatDify) -> None:
    from langchain_core.messages import AIMessage

    with pytest.raises(DifyConfigError, match="no Dify message_id"):
        llm.send_feedback(AIMessage("not from Dify"), "like")


# ------------------------------------------------------------ content blocks


def test_content_blocks_carry_citations_with_names_and_scores(
    emulator: Emulator, llm: ChatDify
) -> None:
    answer = llm.invoke("What colour is the sky?")
    resources = answer.response_metadata["retriever_resources"]  # metadata keeps what it had
    assert resources
    blocks = answer.content_blocks
    assert [b["type"] for b in blocks] == ["text"]
    text = blocks[0]
    assert text["type"] == "text"
    assert text["text"] == answer.content
    notes = text.get("annotations", [])
    assert [n.get("title") for n in notes] == [r["document_name"] for r in resources]
    assert [n.get("extras", {}).get("score") for n in notes] == [r["score"] for r in resources]
    assert [n.get("cited_text") for n in notes] == [r["content"] for r in resources]
    assert all(n["type"] == "citation" for n in notes)


@pytest.mark.parametrize("app", ["reasoning", "think"])
def test_reasoning_arrives_as_a_reasoning_block(emulator: Emulator, user: str, app: str) -> None:
    key = getattr(emulator.keys, app)
    with ChatDify(api_key=key, base_url=emulator.base_url, user=user) as model:
        answer = model.invoke("What colour is the sky?")
        chunks = list(model.stream("What colour is the sky?"))
    kinds = [b["type"] for b in answer.content_blocks]
    assert kinds[0] == "reasoning"
    assert "text" in kinds
    reasoning = answer.content_blocks[0]
    assert reasoning["type"] == "reasoning"
    assert "I should find the passage" in reasoning.get("reasoning", "")
    assert "<think>" not in str(answer.content)
    assert "I should find" not in str(answer.content)
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert [b["type"] for b in total.content_blocks][:1] == ["reasoning"]
    assert (
        total.additional_kwargs["reasoning_content"]
        == answer.additional_kwargs["reasoning_content"]
    )


def test_output_version_v1_streams_blocks_with_citations(emulator: Emulator, user: str) -> None:
    with ChatDify(
        api_key=emulator.keys.chat, base_url=emulator.base_url, user=user, output_version="v1"
    ) as model:
        answer = model.invoke("What colour is the sky?")
        chunks = list(model.stream("What colour is the sky?"))
    assert isinstance(answer.content, list)
    assert answer.content[0]["type"] == "text"
    assert answer.content[0]["annotations"][0]["title"] == "sky.txt"
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert isinstance(total.content, list)
    texts = [b for b in total.content if isinstance(b, dict) and b["type"] == "text"]
    assert len(texts) == 1
    assert texts[0]["text"] == answer.content[0]["text"]
    assert [a["title"] for a in texts[0]["annotations"]] == [
        a["title"] for a in answer.content[0]["annotations"]
    ]
