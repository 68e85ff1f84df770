"""A framework's run id reaches Dify as ``X-Trace-Id`` (issue 11), checked in the emulator's log."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler

from dify_emulator import Emulator
from dify_transport import trace_headers
from langchain_dify import ChatDify
from llama_index_dify import DifyLLM


def _trace_of(emulator: Emulator, user: str) -> str | None:
    posts = [r for r in emulator.requests if r.user == user and r.path.endswith("chat-messages")]
    assert len(posts) == 1
    headers = {k.lower(): v for k, v in posts[0].headers.items()}
    return headers.get("x-trace-id")


class _RunIds(BaseCallbackHandler):
    def __init__(self) -> None:
        self.ids: list[uuid.UUID] = []

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: uuid.UUID, **kw: Any
    ) -> None:
        self.ids.append(run_id)


@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        ("abc-DEF_123", {"X-Trace-Id": "abc-DEF_123"}),
        ("a b\r\nc;d", {"X-Trace-Id": "abcd"}),
        ("x" * 300, {"X-Trace-Id": "x" * 128}),
        ("  ", {}),
        (None, {}),
    ],
)
def test_trace_headers_sanitise(raw: object, sent: dict[str, str]) -> None:
    assert trace_headers(raw) == sent


def test_langchain_run_id_is_the_trace_id(emulator: Emulator) -> None:
    user = f"trace-{uuid.uuid4().hex[:8]}"
    with httpx.Client(transport=emulator.transport()) as http:
        llm = ChatDify(
            api_key=emulator.keys.chat, base_url=emulator.base_url, user=user, http_client=http
        )
        seen = _RunIds()
        llm.invoke("Hello", config={"callbacks": [seen]})
    assert _trace_of(emulator, user) == str(seen.ids[0])


def test_llamaindex_span_id_is_the_trace_id(emulator: Emulator) -> None:
    user = f"trace-{uuid.uuid4().hex[:8]}"
    with httpx.Client(transport=emulator.transport()) as http:
        llm = DifyLLM(
            api_key=emulator.keys.chat, base_url=emulator.base_url, user=user, http_client=http
        )
        llm.complete("Hello")
    trace = _trace_of(emulator, user)
    assert trace is not None
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", trace)
