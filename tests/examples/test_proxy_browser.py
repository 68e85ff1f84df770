"""The proxy example in a real headless browser (Debian's chromium, driven by Playwright).

Two users log in from two isolated browser contexts; answers stream over SSE and
over WebSocket; Stop reaches the emulator as exactly one stop call with the
right Dify user; a conversation continues; and the Dify key is in nothing the
browser received (bodies, headers, SSE messages, WebSocket frames, cookies, DOM).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from _proxy_support import Proxy

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
WAIT_MS = 15_000

if not os.path.exists(CHROMIUM):
    pytest.skip(
        "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="pip install -e '.[dev]' (the playwright package)"
)

pytestmark = pytest.mark.timeout(120)


@dataclass
class Received:
    """Everything one browser context received, gathered for the key check."""

    responses: list[Any] = field(default_factory=list)
    sse: list[str] = field(default_factory=list)
    ws_frames: list[str] = field(default_factory=list)
    ws_sent: list[str] = field(default_factory=list)


@dataclass
class User:
    name: str
    page: Any
    context: Any
    received: Received


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_api.sync_playwright() as playwright:
        # launch() gives the browser a fresh temporary --user-data-dir of its own.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def open_user(browser: Any, proxy: Proxy, name: str) -> User:
    """A fresh context (own cookie jar) that records what it receives, logged in as ``name``."""
    context = browser.new_context()
    page = context.new_page()
    received = Received()
    # Playwright cannot wrap a builtin method as a handler, hence the lambda.
    page.on("response", lambda response: received.responses.append(response))  # noqa: PLW0108

    def on_socket(ws: Any) -> None:
        ws.on("framereceived", lambda payload: received.ws_frames.append(str(payload)))
        ws.on("framesent", lambda payload: received.ws_sent.append(str(payload)))

    page.on("websocket", on_socket)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.eventSourceMessageReceived", lambda e: received.sse.append(e["data"]))
    page.goto(proxy.url + "/")
    page.fill("#username", name)
    page.fill("#password", f"{name}-password")
    page.click("#login-button")
    page.wait_for_selector("#chat-panel:not([hidden])", timeout=WAIT_MS)
    assert page.text_content("#whoami") == name
    return User(name, page, context, received)


def ask(user: User, question: str, mode: str) -> Any:
    """Type a question, send it over ``mode`` ("sse" or "ws"), return the turn's element."""
    page = user.page
    page.check(f'input[name="transport"][value="{mode}"]')
    before = page.locator(".turn").count()
    page.fill("#question", question)
    page.click("#send")
    turn = page.locator(".turn").nth(before)
    turn.wait_for(timeout=WAIT_MS)
    assert turn.get_attribute("data-mode") == mode
    return turn


def wait_state(user: User, turn: Any, state: str) -> None:
    user.page.wait_for_function(
        "([el, state]) => el.dataset.state === state",
        arg=[turn.element_handle(), state],
        timeout=WAIT_MS,
    )


def chat_requests(proxy: Proxy, dify_user: str) -> list[Any]:
    return [
        r
        for r in proxy.emulator.requests
        if r.method == "POST" and r.path.endswith("/chat-messages") and r.user == dify_user
    ]


def stop_mid_answer(user: User, turn: Any) -> str:
    """Press Stop once the answer has started; return the partial answer shown."""
    user.page.wait_for_function(
        "el => el.querySelector('.answer').textContent.length > 0",
        arg=turn.element_handle(),
        timeout=WAIT_MS,
    )
    user.page.click("#stop")
    user.page.wait_for_function(
        "el => ['stopped', 'done', 'error'].includes(el.dataset.state)",
        arg=turn.element_handle(),
        timeout=WAIT_MS,
    )
    state = turn.get_attribute("data-state")
    assert state == "stopped", f"the answer ended ({state}) before Stop landed: machine too slow?"
    assert user.page.text_content("#status") == "Stopped."
    return turn.locator(".answer").text_content() or ""


def everything_received(user: User) -> list[str]:
    """Bodies and headers of every response, SSE messages, frames, cookies and the DOM."""
    texts: list[str] = []
    for response in user.received.responses:
        texts.append(response.url)
        texts.extend(f"{k}: {v}" for k, v in response.all_headers().items())
        if "text/event-stream" in (response.headers.get("content-type") or ""):
            continue  # its messages are in received.sse (a stream has no stored body)
        try:
            texts.append(response.body().decode("utf-8", "replace"))
        except sync_api.Error:
            texts.append("")  # a redirect or a 204 has no body
    texts.extend(user.received.sse)
    texts.extend(user.received.ws_frames)
    texts.extend(str(cookie) for cookie in user.context.cookies())
    texts.append(user.page.content())
    texts.append(str(user.page.evaluate("() => JSON.stringify(localStorage)")))
    return texts


def test_two_users_stream_stop_and_never_see_the_key(browser: Any, proxy: Proxy) -> None:
    emulator = proxy.emulator
    alice = open_user(browser, proxy, "alice")
    bob = open_user(browser, proxy, "bob")

    # alice, over SSE: a whole answer with its cited sources and usage.
    first = ask(alice, "Why is the sky blue?", "sse")
    wait_state(alice, first, "done")
    answer = first.locator(".answer").text_content() or ""
    assert "sky" in answer.lower()
    documents = first.locator(".sources .document").all_text_contents()
    assert "sky.txt" in documents
    assert "USD" in (first.locator(".usage").text_content() or "")
    conversation = alice.page.get_attribute("#conversation", "data-conversation-id")
    assert conversation

    # alice, over WebSocket: the same Dify conversation continues.
    second = ask(alice, "And what colour is it at sunset?", "ws")
    wait_state(alice, second, "done")
    assert alice.page.get_attribute("#conversation", "data-conversation-id") == conversation
    alice_turns = chat_requests(proxy, "web-alice")
    assert len(alice_turns) == 2
    assert alice_turns[0].body.get("conversation_id") in (None, "")
    assert alice_turns[1].body["conversation_id"] == conversation

    # bob, over WebSocket: Stop mid-answer stops bob's Dify task, once.
    stops_before = len(emulator.stop_calls)
    third = ask(bob, "Tell me about LlamaIndex and retrieval.", "ws")
    partial = stop_mid_answer(bob, third)
    assert len(emulator.stop_calls) == stops_before + 1
    task_id, stop_user, _app = emulator.stop_calls[-1]
    assert stop_user == "web-bob"
    assert task_id
    assert partial
    assert third.locator(".sources li").count() == 0

    # bob, over SSE: Stop again; again exactly one stop call, for bob.
    fourth = ask(bob, "How does Dify stream text?", "sse")
    stop_mid_answer(bob, fourth)
    assert len(emulator.stop_calls) == stops_before + 2
    assert emulator.stop_calls[-1][1] == "web-bob"
    assert emulator.stop_calls[-1][0] != task_id

    # Each browser user is its own Dify user; bob never saw alice's conversation.
    bob_turns = chat_requests(proxy, "web-bob")
    assert len(bob_turns) == 2
    assert all(t.body.get("conversation_id") != conversation for t in bob_turns)
    bob.page.wait_for_timeout(300)  # a late second stop call would show up here
    assert len(emulator.stop_calls) == stops_before + 2

    # The key: not in anything either browser received. The capture is not empty.
    for user in (alice, bob):
        assert any('"delta"' in m for m in user.received.sse), "SSE messages were captured"
        assert any('"delta"' in f for f in user.received.ws_frames), "WS frames were captured"
        received = everything_received(user)
        leaks = [text[:120] for text in received if proxy.key in text]
        assert leaks == [], f"the Dify key reached {user.name}'s browser"
        assert all("Authorization" not in sent for sent in user.received.ws_sent)
    alice.context.close()
    bob.context.close()


@pytest.mark.parametrize("mode", ["sse", "ws"])
def test_leaving_the_page_mid_answer_stops_the_task(browser: Any, proxy: Proxy, mode: str) -> None:
    user = open_user(browser, proxy, "bob")
    stops_before = len(proxy.emulator.stop_calls)
    turn = ask(user, "Tell me about LlamaIndex and retrieval.", mode)
    user.page.wait_for_function(
        "el => el.querySelector('.answer').textContent.length > 0",
        arg=turn.element_handle(),
        timeout=WAIT_MS,
    )
    user.page.goto("about:blank")  # the tab leaves: the connection closes mid-answer
    deadline = time.monotonic() + 10
    while len(proxy.emulator.stop_calls) == stops_before and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # a second stop call would arrive here
    assert [call[1] for call in proxy.emulator.stop_calls[stops_before:]] == ["web-bob"]
    user.context.close()


def test_a_wrong_password_and_a_stranger_are_refused(browser: Any, proxy: Proxy) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(proxy.url + "/")
    page.fill("#username", "alice")
    page.fill("#password", "not-her-password")
    page.click("#login-button")
    page.wait_for_function("() => document.querySelector('#login-error').textContent !== ''")
    assert "wrong password" in (page.text_content("#login-error") or "")
    assert page.is_hidden("#chat-panel")
    status = page.evaluate(
        "() => fetch('/api/chat', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({message: 'hi'})}).then(r => r.status)"
    )
    assert status == 401
    context.close()
