"""Issue 9.1: an async client survives ``asyncio.run`` twice (a pool per event loop)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from langchain_core.messages import HumanMessage
from llama_index.core.llms import ChatMessage

from dify_transport import AsyncDifyClient, DifyConfigError
from langchain_dify import ChatDify
from llama_index_dify import DifyLLM

USER = "loop-tester"


def test_async_client_reused_across_asyncio_run(emulator):
    client = AsyncDifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url)

    async def ask() -> str:
        return (await client.chat("What is Dify?", user=USER)).answer

    assert asyncio.run(ask())
    assert asyncio.run(ask())  # was: RuntimeError: Event loop is closed
    asyncio.run(client.aclose())


def test_async_stream_reused_across_asyncio_run(emulator):
    client = AsyncDifyClient(api_key=emulator.keys.chat, base_url=emulator.base_url)

    async def ask() -> str:
        stream = await client.stream_chat("What is Dify?", user=USER)
        return (await stream.final()).answer

    assert asyncio.run(ask())
    assert asyncio.run(ask())


def test_injected_async_http_client_on_another_loop_is_a_config_error(emulator):
    http = httpx.AsyncClient()
    client = AsyncDifyClient(
        api_key=emulator.keys.chat, base_url=emulator.base_url, http_client=http
    )

    async def ask() -> str:
        return (await client.chat("What is Dify?", user=USER)).answer

    assert asyncio.run(ask())
    with pytest.raises(DifyConfigError, match="another event loop"):
        asyncio.run(ask())


def test_chatdify_ainvoke_twice_with_asyncio_run(emulator):
    llm = ChatDify(api_key=emulator.keys.chat, base_url=emulator.base_url, user=USER)
    first = asyncio.run(llm.ainvoke([HumanMessage("What is Dify?")]))
    second = asyncio.run(llm.ainvoke([HumanMessage("What is Dify?")]))
    assert first.content
    assert second.content


def test_difyllm_achat_twice_with_asyncio_run(emulator):
    llm = DifyLLM(api_key=emulator.keys.chat, base_url=emulator.base_url, user=USER)
    msg = [ChatMessage(role="user", content="What is Dify?")]
    assert asyncio.run(llm.achat(msg)).message.content
    assert asyncio.run(llm.achat(msg)).message.content
