"""DifyCompletionLLM: a completion app as a LlamaIndex LLM, alone and in a query engine."""

from __future__ import annotations

import uuid

import httpx
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.response_synthesizers import get_response_synthesizer
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from dify_emulator import Emulator
from llama_index_dify import DifyCompletionLLM


def _llm(emulator: Emulator) -> DifyCompletionLLM:
    transport = emulator.transport()
    return DifyCompletionLLM(
        api_key=emulator.keys.completion,
        base_url=emulator.base_url,
        user=f"li-cmp-{uuid.uuid4().hex[:8]}",
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
    )


def test_complete_and_stream_agree(emulator: Emulator) -> None:
    llm = _llm(emulator)
    whole = llm.complete("Why is the sky blue?")
    streamed = list(llm.stream_complete("Why is the sky blue?"))
    assert streamed[-1].text == whole.text
    assert "".join(r.delta or "" for r in streamed) == whole.text
    assert whole.raw["message_id"]
    (post, _) = [r for r in emulator.requests if r.user == llm.user and r.method == "POST"]
    assert post.body["inputs"] == {"query": "Why is the sky blue?"}


async def test_async_and_chat(emulator: Emulator) -> None:
    llm = _llm(emulator)
    whole = await llm.acomplete("Why is the sky blue?")
    chunks = [r async for r in await llm.astream_complete("Why is the sky blue?")]
    assert chunks[-1].text == whole.text
    reply = await llm.achat([ChatMessage(role="user", content="Why is the sky blue?")])
    assert reply.message.content
    assert llm.chat([ChatMessage(role="user", content="Why is the sky blue?")]).message.content


class _OnePassage(BaseRetriever):
    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        text = "The sky is blue because air scatters blue light more than red light."
        return [NodeWithScore(node=TextNode(text=text), score=1.0)]


def test_in_a_query_engine(emulator: Emulator) -> None:
    llm = _llm(emulator)
    engine = RetrieverQueryEngine(
        retriever=_OnePassage(), response_synthesizer=get_response_synthesizer(llm=llm)
    )
    response = engine.query("Why is the sky blue?")
    assert str(response).strip()
