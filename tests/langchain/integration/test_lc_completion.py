"""DifyCompletion: a completion app as a LangChain LLM in an LCEL chain (emulator)."""

from __future__ import annotations

import uuid

import httpx
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.prompts import PromptTemplate

from dify_emulator import Emulator
from langchain_dify import DifyCompletion


def _llm(emulator: Emulator) -> DifyCompletion:
    transport = emulator.transport()
    return DifyCompletion(
        api_key=emulator.keys.completion,
        base_url=emulator.base_url,
        user=f"cmp-{uuid.uuid4().hex[:8]}",
        inputs={"language": "English"},
        http_client=httpx.Client(transport=transport),
        http_async_client=httpx.AsyncClient(transport=transport),
    )


class _Tokens(BaseCallbackHandler):
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: str, **kw: object) -> None:
        self.tokens.append(token)


def test_in_a_chain_with_streamed_tokens(emulator: Emulator) -> None:
    llm = _llm(emulator)
    chain = PromptTemplate.from_template("Why is the {thing} blue?") | llm
    seen = _Tokens()
    answer = chain.invoke({"thing": "sky"}, config={"callbacks": [seen]})
    assert "sky" in answer.lower()
    assert "".join(seen.tokens) == answer
    (post,) = [r for r in emulator.requests if r.user == llm.user and r.method == "POST"]
    assert post.body["inputs"] == {"language": "English", "query": "Why is the sky blue?"}
    assert post.body["response_mode"] == "streaming"


async def test_async_stream_and_stop_sequence(emulator: Emulator) -> None:
    llm = _llm(emulator)
    chunks = [c async for c in llm.astream("Why is the sky blue?")]
    assert "".join(chunks) == await llm.ainvoke("Why is the sky blue?")
    full = llm.invoke("Why is the sky blue?")
    cut_at = full.split()[2]
    short = llm.invoke("Why is the sky blue?", stop=[cut_at])
    assert cut_at not in short
    assert full.startswith(short)
