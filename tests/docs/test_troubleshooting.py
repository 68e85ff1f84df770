"""README's Troubleshooting table quotes the messages a newcomer really gets.

Each row's mistake is made against the emulator (in-process) or, for the web UI's
URL, a ``MockTransport`` serving the HTML 404 page of Dify's web front end; the
error's class and its full message must appear in README.md as quoted.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from _docs_paths import README

import dify_transport
from dify_emulator import Emulator
from dify_transport import DifyClient, DifyError
from langchain_dify import ChatDify

TEXT = README.read_text(encoding="utf-8")
TABLE = TEXT[TEXT.index("## Troubleshooting") : TEXT.index("## What's in the box")]
EMU = Emulator()  # not started: served in-process
NEXT_404 = (
    b"<!DOCTYPE html><html><head><title>404: This page could not be found.</title></head>"
    b"<body><h1>404</h1></body></html>"
)


def _emulated() -> httpx.Client:
    return httpx.Client(transport=EMU.transport())


def _web_ui() -> httpx.Client:
    page = httpx.Response(404, content=NEXT_404, headers={"content-type": "text/html"})
    return httpx.Client(transport=httpx.MockTransport(lambda _request: page))


def _chat(key: str, base_url: str = EMU.base_url, client: httpx.Client | None = None) -> None:
    ChatDify(api_key=key, base_url=base_url, http_client=client or _emulated()).invoke("Hi")


CASES: dict[str, tuple[Callable[[], object], str]] = {
    "wrong key": (lambda: _chat("app-not-a-real-key"), "AuthenticationError"),
    "dataset key on an app": (lambda: _chat(EMU.keys.dataset), "AuthenticationError"),
    "missing /v1": (
        lambda: _chat(EMU.keys.chat, EMU.base_url.removesuffix("/v1")),
        "NotFoundError",
    ),
    "web UI URL": (
        lambda: _chat(EMU.keys.chat, "http://localhost", _web_ui()),
        "NotFoundError",
    ),
    "agent app, blocking": (
        lambda: DifyClient(
            api_key=EMU.keys.agent, base_url=EMU.base_url, http_client=_emulated()
        ).chat("Hi", user="newcomer"),
        "AgentBlockingModeError",
    ),
    "completion key on ChatDify": (lambda: _chat(EMU.keys.completion), "NotChatAppError"),
    "workflow key on ChatDify": (lambda: _chat(EMU.keys.workflow), "NotChatAppError"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_readme_quotes_the_real_message(case: str) -> None:
    trigger, class_name = CASES[case]
    with pytest.raises(DifyError) as caught:
        trigger()
    assert isinstance(caught.value, getattr(dify_transport, class_name))
    assert f"`{class_name}`" in TABLE
    assert f"`{caught.value}`" in TABLE, f"README Troubleshooting should quote: {caught.value}"
