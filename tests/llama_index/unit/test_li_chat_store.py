"""``DifyChatStore`` keys that Dify does not know (in-process emulator, no sockets)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import httpx
import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from dify_emulator import Emulator, Faults
from dify_transport import AuthenticationError, InternalServerError
from llama_index_dify import DifyChatStore, DifyLLM

USER = "store-user"


@pytest.fixture
def emu() -> Emulator:
    return Emulator()  # its own state and faults, reached in-process


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emu.transport()) as client:
        yield client


def _store(emu: Emulator, http: httpx.Client, **kwargs: object) -> DifyChatStore:
    settings: dict[str, object] = {
        "api_key": emu.keys.chat,
        "base_url": "http://dify.local/v1",
        "user": USER,
        "http_client": http,
        **kwargs,
    }
    return DifyChatStore(**settings)  # type: ignore[arg-type]


def _conversation(emu: Emulator, http: httpx.Client, user: str) -> str:
    llm = DifyLLM(
        api_key=emu.keys.chat, base_url="http://dify.local/v1", user=user, http_client=http
    )
    reply = llm.chat([ChatMessage(role=MessageRole.USER, content="hello")])
    return str(reply.message.additional_kwargs["conversation_id"])


def test_unknown_and_invalid_keys_have_no_messages(
    emu: Emulator, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(emu, http)
    other_users = _conversation(emu, http, "someone-else")
    with caplog.at_level(logging.DEBUG, logger="llama_index_dify"):
        assert store.get_messages(str(uuid.uuid4())) == []
        assert store.get_messages(other_users) == []  # unknown to this user
        sent = len(emu.requests)
        assert store.get_messages("chat_history") == []  # ChatMemoryBuffer's default key
        assert store.delete_messages("chat_history") is None
        assert len(emu.requests) == sent  # not a conversation id: nothing is sent
        assert store.delete_messages(str(uuid.uuid4())) is None
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(logged) == 5
    assert all(f"user='{USER}'" in line for line in logged)
    # The other user's conversation is untouched.
    assert len(_store(emu, http, user="someone-else").get_messages(other_users)) == 2


async def test_unknown_keys_async(emu: Emulator) -> None:
    async with httpx.AsyncClient(transport=emu.transport()) as aio:
        store = DifyChatStore(
            api_key=emu.keys.chat, base_url="http://dify.local/v1", async_http_client=aio
        )
        assert await store.aget_messages(str(uuid.uuid4())) == []
        assert await store.aget_messages("chat_history") == []
        assert await store.adelete_messages(str(uuid.uuid4())) is None
        assert await store.adelete_messages("chat_history") is None


def test_a_memory_buffer_with_its_default_key_starts_empty(
    emu: Emulator, http: httpx.Client
) -> None:
    from llama_index.core.memory import ChatMemoryBuffer

    memory = ChatMemoryBuffer.from_defaults(chat_store=_store(emu, http))
    assert memory.get() == []


def test_other_failures_still_raise(emu: Emulator, http: httpx.Client) -> None:
    key = str(uuid.uuid4())
    with pytest.raises(AuthenticationError):
        _store(emu, http, api_key="app-wrong").get_messages(key)
    with pytest.raises(AuthenticationError):
        _store(emu, http, api_key="app-wrong").delete_messages(key)
    emu.set_faults("chat", Faults(status=500))
    store = _store(emu, http, max_retries=0)
    with pytest.raises(InternalServerError):
        store.get_messages(key)
    with pytest.raises(InternalServerError):
        store.delete_messages(key)
