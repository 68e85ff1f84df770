"""``DifyChatEngine`` keeps the conversation of a turn that failed mid-stream (no sockets)."""

from __future__ import annotations

import httpx
import pytest

from dify_emulator import Emulator, Faults
from dify_transport import APIError
from llama_index_dify import DifyChatEngine

BASE_URL = "http://dify.local/v1"


def _ask(engine: DifyChatEngine, text: str, streaming: bool) -> None:
    if streaming:
        list(engine.stream_chat(text).response_gen)
    else:
        engine.chat(text)


async def _aask(engine: DifyChatEngine, text: str, streaming: bool) -> None:
    if streaming:
        response = await engine.astream_chat(text)
        _ = [delta async for delta in response.async_response_gen()]
    else:
        await engine.achat(text)


def _chat_bodies(emu: Emulator) -> list[dict[str, object]]:
    return [r.body for r in emu.requests if r.path.endswith("/chat-messages") and r.body]


@pytest.mark.parametrize("streaming", [False, True])
def test_an_error_mid_stream_keeps_the_conversation(streaming: bool) -> None:
    emu = Emulator()
    with httpx.Client(transport=emu.transport()) as http:
        engine = DifyChatEngine(
            api_key=emu.keys.chat, base_url=BASE_URL, http_client=http, system_prompt="Be terse."
        )
        emu.set_faults("chat", Faults(error_after=2))
        with pytest.raises(APIError) as info:
            _ask(engine, "What is Dify?", streaming)
        assert info.value.conversation_id
        assert engine.conversation_id == info.value.conversation_id
        emu.clear_faults()
        answer = engine.chat("And the sky?")
        assert (answer.metadata or {})["conversation_id"] == info.value.conversation_id
        first, second = _chat_bodies(emu)
        assert first["query"] == "system: Be terse.\nuser: What is Dify?"
        # Dify has the failed turn: it is not sent again, only the new one.
        assert (second["query"], second["conversation_id"]) == (
            "And the sky?",
            info.value.conversation_id,
        )


@pytest.mark.parametrize("streaming", [False, True])
async def test_an_error_mid_stream_keeps_the_conversation_async(streaming: bool) -> None:
    emu = Emulator()
    async with httpx.AsyncClient(transport=emu.transport()) as aio:
        engine = DifyChatEngine(api_key=emu.keys.chat, base_url=BASE_URL, async_http_client=aio)
        emu.set_faults("chat", Faults(error_after=2))
        with pytest.raises(APIError) as info:
            await _aask(engine, "What is Dify?", streaming)
        assert engine.conversation_id == info.value.conversation_id
        emu.clear_faults()
        answer = await engine.achat("And the sky?")
        assert (answer.metadata or {})["conversation_id"] == info.value.conversation_id


def test_an_error_before_the_stream_leaves_the_engine_as_it_was() -> None:
    emu = Emulator()
    with httpx.Client(transport=emu.transport()) as http:
        engine = DifyChatEngine(api_key="app-wrong", base_url=BASE_URL, http_client=http)
        with pytest.raises(APIError) as info:
            engine.chat("hello")
        assert info.value.conversation_id is None
        assert engine.conversation_id is None
