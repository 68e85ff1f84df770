"""Structured prediction, agents, feedback, clients: the LlamaIndex components vs the emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from llama_index.core.base.llms.types import CitationBlock, ThinkingBlock
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel

from dify_transport import AsyncDifyClient, DifyClient, DifyConfigError, DifyError
from dify_transport.structured import StructuredOutputError
from dify_transport.turns import strip_transcript

if TYPE_CHECKING:
    from tests.llama_index.conftest import Target


class Joke(BaseModel):
    setup: str
    punchline: str


PROMPT = PromptTemplate("Tell me a joke about {topic}.")


def test_structured_predict_returns_a_validated_instance(target: Target) -> None:
    llm = target.llm()
    joke = llm.structured_predict(Joke, PROMPT, topic="cats")
    assert isinstance(joke, Joke)
    query = target.requests("/chat-messages")[-1].body["query"]
    assert '"required":["setup","punchline"]' in query
    assert "{{" not in query  # no template-escaped braces reach the model
    assert strip_transcript(query) == "Tell me a joke about cats."


async def test_async_structured_predict_and_streams(atarget: Target) -> None:
    llm = atarget.llm()
    joke = await llm.astructured_predict(Joke, PROMPT, topic="dogs")
    assert isinstance(joke, Joke)
    partials = [p async for p in await llm.astream_structured_predict(Joke, PROMPT, topic="dogs")]
    assert partials[-1] == joke
    sync_partials = list(llm.stream_structured_predict(Joke, PROMPT, topic="dogs"))
    assert sync_partials[-1] == joke
    assert len(sync_partials) > 1  # partial objects while the answer streams


def test_as_structured_llm(target: Target) -> None:
    structured = target.llm().as_structured_llm(Joke)
    response = structured.chat([ChatMessage(role="user", content="A joke about tea?")])
    assert isinstance(response.raw, Joke)


def test_a_malformed_answer_raises_with_the_raw_text(target: Target) -> None:
    llm = target.llm()
    with pytest.raises(StructuredOutputError) as info:
        llm.structured_predict(Joke, PROMPT, topic="malformed cats")
    assert isinstance(info.value, DifyError)
    assert isinstance(info.value, ValueError)
    assert info.value.raw.startswith("Sure! Here is the JSON")
    with pytest.raises(StructuredOutputError):
        list(llm.stream_structured_predict(Joke, PROMPT, topic="malformed cats"))


def test_a_dify_app_is_not_a_function_calling_llm(target: Target) -> None:
    """Dify apps pick their tools on the server: ReAct prompts tools, FunctionAgent refuses."""
    llm = target.llm()
    assert llm.metadata.is_function_calling_model is False  # FunctionAgent refuses it
    assert llm.metadata.is_chat_model is True  # AgentWorkflow / ReActAgent prompt it instead


def test_feedback_and_suggested_questions_through_the_engine(target: Target) -> None:
    engine = target.engine()
    answer = engine.chat("What colour is the sky?")
    engine.send_feedback(answer, "like", content="good")
    client = target.client()
    try:
        feedback = target.requests("/feedbacks")[-1]
        assert feedback.body == {"rating": "like", "user": target.user, "content": "good"}
        message_id = answer.metadata["message_id"]
        history = client.get_messages(engine.conversation_id or "", user=target.user).data
        assert [m.feedback for m in history if m.id == message_id] == [{"rating": "like"}]
        expected = client.get_suggested_questions(message_id, user=target.user)
    finally:
        client.close()
    assert engine.suggested_questions(answer) == expected
    assert engine.llm.suggested_questions(message_id) == expected
    engine.send_feedback(message_id, None)  # revoke
    assert engine.chat_history[-1].additional_kwargs.get("feedback") is None


async def test_async_feedback_on_a_chat_response(atarget: Target) -> None:
    llm = atarget.llm(user="the-default-user")
    response = await llm.achat([ChatMessage(role="user", content="Hello?")], user=atarget.user)
    await llm.asend_feedback(response, "dislike", user=atarget.user)
    assert atarget.requests("/feedbacks")[-1].body == {"rating": "dislike", "user": atarget.user}
    assert await llm.asuggested_questions(response.message, user=atarget.user)
    with pytest.raises(DifyConfigError, match="no Dify message_id"):
        await llm.asend_feedback(ChatMessage(role="assistant", content="x"), "like")


def test_public_clients(target: Target) -> None:
    llm = target.llm()
    assert isinstance(llm.client, DifyClient)
    assert isinstance(llm.async_client, AsyncDifyClient)
    assert llm.client is llm.client
    engine = target.engine()
    assert isinstance(engine.client, DifyClient)
    assert target.store().client.get_parameters() is not None
    injected = target.client()
    try:
        assert target.llm(client=injected).client is injected
    finally:
        injected.close()


def test_messages_carry_citation_and_thinking_blocks(target: Target) -> None:
    response = target.llm().chat([ChatMessage(role="user", content="What colour is the sky?")])
    resources = response.additional_kwargs["retriever_resources"]  # metadata keeps what it had
    citations = [b for b in response.message.blocks if isinstance(b, CitationBlock)]
    assert [c.title for c in citations] == [r["document_name"] for r in resources]
    assert [c.cited_content.text for c in citations] == [r["content"] for r in resources]  # type: ignore[union-attr]
    assert [c.additional_location_info["position"] for c in citations] == [1, 2, 3]
    assert response.message.content == str(response.message.blocks[0].text)  # type: ignore[union-attr]
    for app in ("reasoning", "think"):
        answer = target.llm(app).chat([ChatMessage(role="user", content="What colour is the sky?")])
        first = answer.message.blocks[0]
        assert isinstance(first, ThinkingBlock)
        assert "I should find the passage" in (first.content or "")
        assert "I should find" not in (answer.message.content or "")


def test_feedback_uses_the_user_the_answer_records(target: Target) -> None:
    llm = target.llm(user="the-default-user")
    response = llm.chat([ChatMessage(role="user", content="Hello?")], user=target.user)
    assert response.additional_kwargs["user"] == target.user
    llm.send_feedback(response, "like")  # no user given: the answer's, not the model's
    assert target.requests("/feedbacks")[-1].body == {"rating": "like", "user": target.user}
