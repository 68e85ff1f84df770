"""`DifyLLM` against the emulator: in-process (no sockets) and over 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, MessageRole, TextBlock

from dify_transport import AuthenticationError, ConversationNotFoundError

if TYPE_CHECKING:
    from dify_emulator import Emulator
    from tests.llama_index.conftest import Target

TINY_PNG = (Path(__file__).parent.parent / "assets" / "tiny.png").read_bytes()


def user(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, content=text)


def _wait_for(predicate: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_chat(target: Target) -> None:
    response = target.llm(model="kb-bot").chat([user("What is Dify?")])
    assert response.delta is None
    assert "Dify is an open-source platform" in (response.message.content or "")
    ids = response.message.additional_kwargs
    assert ids["conversation_id"]
    assert ids["message_id"]
    extra = response.additional_kwargs
    assert extra["model_name"] == "kb-bot"
    assert extra["usage"]["total_tokens"] > 0
    assert extra["retriever_resources"]
    assert extra["finish_reason"] == "stop"
    (sent,) = target.requests("/chat-messages")
    assert sent.body["response_mode"] == "streaming"  # one code path, agent-safe
    assert sent.body["query"] == "What is Dify?"


def test_stream_chat(target: Target) -> None:
    chunks = list(target.llm().stream_chat([user("What colour is the sky?")]))
    *deltas, last = chunks
    assert len(deltas) > 3
    text = ""
    for chunk in deltas:
        assert chunk.delta
        text += chunk.delta
        assert chunk.message.content == text  # cumulative message plus delta
        assert chunk.message.additional_kwargs["conversation_id"]
    assert last.delta == ""
    assert last.message.content == text
    assert last.additional_kwargs["usage"]["completion_tokens"] > 0
    assert last.raw["usage"]["total_tokens"] > 0


async def test_achat_and_astream_chat(atarget: Target) -> None:
    llm = atarget.llm()
    response = await llm.achat([user("What is Dify?")])
    assert response.message.additional_kwargs["conversation_id"]
    text = ""
    last = None
    async for chunk in await llm.astream_chat([user("What colour is the sky?")]):
        text += chunk.delta or ""
        last = chunk
    assert last is not None
    assert last.message.content == text
    assert "sky" in text


def test_completion_methods(target: Target) -> None:
    llm = target.llm()
    completion = llm.complete("What is Dify?")
    assert "Dify is an open-source platform" in completion.text
    assert completion.additional_kwargs["conversation_id"]
    parts = list(llm.stream_complete("What colour is the sky?"))
    assert "".join(p.delta or "" for p in parts) == parts[-1].text
    assert parts[-1].additional_kwargs["usage"]["total_tokens"] > 0


async def test_async_completion_methods(atarget: Target) -> None:
    llm = atarget.llm()
    completion = await llm.acomplete("What is Dify?")
    assert completion.text
    text = ""
    async for part in await llm.astream_complete("What colour is the sky?"):
        text += part.delta or ""
    assert "sky" in text


def test_a_reply_put_back_continues_its_conversation(target: Target) -> None:
    llm = target.llm()
    history = [user("What is Dify?")]
    first = llm.chat(history)
    history += [first.message, user("And the sky?")]
    second = llm.chat(history)
    cid = first.message.additional_kwargs["conversation_id"]
    assert second.message.additional_kwargs["conversation_id"] == cid
    assert target.requests("/chat-messages")[-1].body["query"] == "And the sky?"
    stored = list(target.client().iter_messages(cid, user=target.user))
    assert [m.query for m in stored] == ["What is Dify?", "And the sky?"]


def test_conversation_kwarg_and_field_win(target: Target) -> None:
    llm = target.llm()
    cid = llm.chat([user("What is Dify?")]).message.additional_kwargs["conversation_id"]
    assert (
        llm.chat([user("more")], conversation_id=cid).message.additional_kwargs["conversation_id"]
        == cid
    )
    pinned = target.llm(conversation_id=cid)
    assert pinned.chat([user("again")]).message.additional_kwargs["conversation_id"] == cid
    fresh = pinned.chat([user("new one")], conversation_id=None)
    assert fresh.message.additional_kwargs["conversation_id"] != cid


def test_earlier_turns_without_a_conversation_go_as_a_transcript(target: Target) -> None:
    messages = [
        ChatMessage(role=MessageRole.SYSTEM, content="Answer briefly."),
        user("I am Bob."),
        ChatMessage(role=MessageRole.ASSISTANT, content="Hello Bob."),
        user("What is my name?"),
    ]
    target.llm().chat(messages)
    query = target.requests("/chat-messages")[-1].body["query"]
    assert query == (
        "system: Answer briefly.\nuser: I am Bob.\nassistant: Hello Bob.\nuser: What is my name?"
    )


def test_system_variable_system_messages_when_continuing_are_not_dropped(
    target: Target,
) -> None:
    llm = target.llm(system_variable="persona")
    history = [ChatMessage(role=MessageRole.SYSTEM, content="Bob"), user("Hi")]
    first = llm.chat(history)
    body = target.requests("/chat-messages")[-1].body
    assert (body["query"], body["inputs"].get("persona")) == ("Hi", "Bob")
    history += [
        first.message,
        ChatMessage(role=MessageRole.SYSTEM, content="Answer in French"),
        user("Next"),
    ]
    llm.chat(history)
    body = target.requests("/chat-messages")[-1].body
    assert body["conversation_id"] == first.message.additional_kwargs["conversation_id"]
    assert body["query"] == "system: Bob\nsystem: Answer in French\nuser: Next"
    assert "persona" not in (body.get("inputs") or {})


def test_a_system_context_before_the_history_reaches_dify_on_every_turn(target: Target) -> None:
    llm = target.llm()

    def ask(context: str, history: list[ChatMessage], question: str) -> ChatMessage:
        system = ChatMessage(role=MessageRole.SYSTEM, content=f"context: {context}")
        return llm.chat([system, *history, user(question)]).message

    first = ask("one", [], "q1")
    ask("two", [user("q1"), first], "q2")
    bodies = [r.body for r in target.requests("/chat-messages")]
    assert [b["query"] for b in bodies] == [
        "system: context: one\nuser: q1",
        "system: context: two\nuser: q2",  # the new context is not lost
    ]
    assert bodies[1]["conversation_id"] == first.additional_kwargs["conversation_id"]
    dropping = target.llm(prior_turns="drop")
    system = ChatMessage(role=MessageRole.SYSTEM, content="context: three")
    dropping.chat([system, user("q1"), first, user("q3")])
    assert target.requests("/chat-messages")[-1].body["query"] == "q3"


def test_image_blocks_become_dify_files(target: Target) -> None:
    message = ChatMessage(
        role=MessageRole.USER,
        blocks=[
            TextBlock(text="What is in these pictures?"),
            ImageBlock(url="https://example.com/cat.png"),
            ImageBlock(image=TINY_PNG),
        ],
    )
    response = target.llm().chat([message])
    assert "2 images" in (response.message.content or "")
    (upload,) = target.requests("/files/upload")
    files = target.requests("/chat-messages")[-1].body["files"]
    assert files[0] == {
        "type": "image",
        "transfer_method": "remote_url",
        "url": "https://example.com/cat.png",
    }
    assert files[1]["transfer_method"] == "local_file"
    assert files[1]["upload_file_id"]
    assert upload.method == "POST"


async def test_async_image_upload(atarget: Target) -> None:
    message = ChatMessage(
        role=MessageRole.USER, blocks=[TextBlock(text="Look"), ImageBlock(image=TINY_PNG)]
    )
    response = await atarget.llm().achat([message])
    assert "1 image" in (response.message.content or "")
    assert len(atarget.requests("/files/upload")) == 1


def test_inputs_and_user_per_call(target: Target) -> None:
    llm = target.llm(inputs={"name": "Ada"})
    llm.chat([user("hi")], inputs={"extra": "x"})
    body = target.requests("/chat-messages")[-1].body
    assert body["inputs"] == {"name": "Ada", "extra": "x"}


def test_leaving_a_stream_early_stops_the_dify_task(target: Target) -> None:
    stream = target.llm().stream_chat([user("please be slow")])
    first = next(stream)
    assert first.delta
    stream.close()
    assert _wait_for(lambda: len(target.stops()) == 1)
    (stop,) = target.stops()
    assert stop.task_id == first.message.additional_kwargs["task_id"]


async def test_leaving_an_async_stream_early_stops_the_dify_task(atarget: Target) -> None:
    stream = await atarget.llm().astream_chat([user("please be slow")])
    async for chunk in stream:
        assert chunk.delta
        break
    await stream.aclose()
    # The instrumentation wrapper closes our generator through the event loop.
    for _ in range(200):
        if atarget.stops():
            break
        await asyncio.sleep(0.02)
    assert len(atarget.stops()) == 1


def test_errors_are_the_transport_types(target: Target) -> None:
    bad = target.llm(api_key="app-wrong-key")
    with pytest.raises(AuthenticationError):
        bad.chat([user("hi")])
    with pytest.raises(AuthenticationError):
        list(bad.stream_chat([user("hi")]))
    with pytest.raises(ConversationNotFoundError):
        target.llm().chat([user("hi")], conversation_id="00000000-0000-0000-0000-000000000000")


@pytest.mark.parametrize("app", ["agent", "chatflow"])
def test_agent_and_chatflow_apps(target: Target, app: str) -> None:
    llm = target.llm(app)
    response = llm.chat([user("What time is it?")])
    assert response.message.content
    assert response.message.additional_kwargs["conversation_id"]
    chunks = list(llm.stream_chat([user("What time is it?")]))
    assert "".join(c.delta or "" for c in chunks) == chunks[-1].message.content
    if app == "agent":
        assert chunks[-1].additional_kwargs.get("agent_thoughts")


async def test_agent_app_async(atarget: Target) -> None:
    response = await atarget.llm("agent").achat([user("What time is it?")])
    assert response.message.content


def test_an_unpickled_llm_continues_the_conversation(emulator: Emulator) -> None:
    import pickle

    from llama_index_dify import DifyLLM

    llm = DifyLLM(api_key=emulator.keys.chat, base_url=emulator.base_url, user="li-pickle")
    first = llm.chat([user("My name is Ada.")])
    again = pickle.loads(pickle.dumps(llm))
    second = again.chat([user("My name is Ada."), first.message, user("Who am I?")])
    cid = first.message.additional_kwargs["conversation_id"]
    assert second.message.additional_kwargs["conversation_id"] == cid
    llm.close()
    again.close()
