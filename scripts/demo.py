"""``make demo``: the main job of dify-integrations in one terminal screen.

A LangChain chain streams an answer from a Dify chat app token by token, shows the
passages it cited (``retriever_resources``) and the usage (tokens, price, latency),
then asks a follow-up in the same Dify conversation. A LlamaIndex chat engine does
the same.

Target: the Dify at ``$DIFY_BASE_URL`` with the app key ``$DIFY_API_KEY`` when both
are set (``$DIFY_USER`` is the optional end-user id); otherwise the offline emulator
(``dify_emulator``) on 127.0.0.1, so no Dify account is needed.

Environment knobs for the demo itself: ``DEMO_TOKEN_DELAY`` (seconds between the
emulator's tokens, default 0.03, so streaming is visible; 0 for tests) and
``NO_COLOR``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

from dify_emulator import Faults, start_emulator
from dify_transport import DifyError
from langchain_dify import ChatDify
from llama_index_dify import DifyChatEngine

QUESTION = "What is Dify?"
FOLLOW_UP = "How does LangChain fit in?"
LI_QUESTION = "What is LlamaIndex?"
LI_FOLLOW_UP = "And where are conversations kept?"
DEFAULT_USER = "demo-user"


# --------------------------------------------------------------------------- output


def _color(code: str) -> str:
    if os.environ.get("NO_COLOR") or not sys.stdout.isatty():
        return ""
    return code


BOLD, DIM, CYAN, GREEN, RESET = (
    _color("\033[1m"),
    _color("\033[2m"),
    _color("\033[36m"),
    _color("\033[32m"),
    _color("\033[0m"),
)


def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"{BOLD}== {text} {'=' * max(3, 74 - len(text))}{RESET}")


def emit(token: str) -> None:
    """Write one streamed token now (no buffering: the stream is the point)."""
    sys.stdout.write(token)
    sys.stdout.flush()


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> None:
    """Print a small left-aligned table (numbers right-aligned)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        out = []
        for cell, width, header in zip(cells, widths, headers, strict=True):
            numeric = header in {"#", "score"}
            out.append(cell.rjust(width) if numeric else cell.ljust(width))
        return indent + "  ".join(out).rstrip()

    say(f"{DIM}{line(headers)}{RESET}")
    for row in rows:
        say(line(row))


def show_sources(resources: Sequence[Mapping[str, Any]]) -> None:
    say(f"{BOLD}Sources{RESET} (retriever_resources)")
    if not resources:
        say("  (none: turn on citations for this app to get retriever_resources)")
        return
    rows = []
    for index, res in enumerate(resources, 1):
        score = res.get("score")
        rows.append(
            [
                str(res.get("position") or index),
                f"{float(score):.3f}" if score is not None else "-",
                str(res.get("document_name") or "-"),
                shorten(str(res.get("content") or ""), 58),
            ]
        )
    table(["#", "score", "document", "passage"], rows)


def show_usage(usage: Mapping[str, Any] | None, wall: float, first_token: float | None) -> None:
    parts = []
    if usage:
        parts.append(
            f"{usage.get('total_tokens', '?')} tokens "
            f"({usage.get('prompt_tokens', '?')} prompt + "
            f"{usage.get('completion_tokens', '?')} completion)"
        )
        if usage.get("total_price") is not None:
            parts.append(f"{usage['total_price']} {usage.get('currency') or ''}".rstrip())
        if usage.get("latency") is not None:
            parts.append(f"latency {float(usage['latency']):.2f} s")
    else:
        parts.append("(Dify sent no usage)")
    say(f"{BOLD}Usage{RESET}         " + ", ".join(parts))
    first = f"first token {first_token:.2f} s, " if first_token is not None else ""
    say(f"{BOLD}Client{RESET}        {first}whole answer {wall:.2f} s")


def show_conversation(conversation_id: str | None, first: str | None = None) -> None:
    if first is None:
        say(f"{BOLD}Conversation{RESET}  {conversation_id}")
    elif conversation_id == first:
        say(f"{BOLD}Conversation{RESET}  {conversation_id} {GREEN}(same conversation){RESET}")
    else:
        say(f"{BOLD}Conversation{RESET}  {conversation_id} (NEW conversation: expected {first})")


class Timer:
    """Wall time of one streamed answer and its time to first token."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None

    def token(self) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.start

    @property
    def wall(self) -> float:
        return time.perf_counter() - self.start


# --------------------------------------------------------------------------- target


@dataclass(frozen=True)
class Target:
    base_url: str
    api_key: str
    user: str
    emulated: bool


def _masked(key: str) -> str:
    return key if key.startswith("app-emulator") else f"{key[:6]}...{key[-2:]}"


@contextmanager
def target() -> Iterator[Target]:
    """Your Dify when DIFY_BASE_URL and DIFY_API_KEY are set, else the emulator."""
    base_url, api_key = os.environ.get("DIFY_BASE_URL"), os.environ.get("DIFY_API_KEY")
    user = os.environ.get("DIFY_USER") or DEFAULT_USER
    if base_url and api_key:
        yield Target(base_url, api_key, user, emulated=False)
        return
    with start_emulator() as emu:
        delay = float(os.environ.get("DEMO_TOKEN_DELAY", "0.03"))
        if delay > 0:  # pace the emulator like a model, so the streaming is visible
            emu.set_faults("chat", Faults(delay=delay))
        yield Target(emu.base_url, emu.keys.chat, user, emulated=True)


# --------------------------------------------------------------------------- LangChain


def langchain_demo(t: Target) -> None:
    heading("1. LangChain: prompt | ChatDify, streamed")
    llm = ChatDify(api_key=t.api_key, base_url=t.base_url, user=t.user)
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{question}")]
    )
    chain = prompt | llm

    history: list[BaseMessage] = []
    first_conversation: str | None = None
    for turn, question in enumerate((QUESTION, FOLLOW_UP)):
        if turn:
            say()
            say(f"{DIM}Follow-up: the answer above is in the history; it carries its")
            say("conversation_id, so ChatDify sends only the new question and Dify")
            say(f"answers from the conversation it keeps.{RESET}")
        say(f"{CYAN}You:{RESET}  {question}")
        emit(f"{CYAN}Dify:{RESET} ")
        timer = Timer()
        answer = None
        for chunk in chain.stream({"history": history, "question": question}):
            if chunk.content:
                timer.token()
                emit(str(chunk.content))
            answer = chunk if answer is None else answer + chunk
        say()
        assert answer is not None
        meta = answer.response_metadata
        say()
        show_sources(meta.get("retriever_resources") or [])
        show_usage(meta.get("usage"), timer.wall, timer.first)
        show_conversation(meta.get("conversation_id"), first_conversation)
        first_conversation = first_conversation or meta.get("conversation_id")
        history += [HumanMessage(question), answer]


# --------------------------------------------------------------------------- LlamaIndex


def llamaindex_demo(t: Target) -> None:
    heading("2. LlamaIndex: DifyChatEngine, streamed")
    engine = DifyChatEngine.from_defaults(api_key=t.api_key, base_url=t.base_url, user=t.user)
    first_conversation: str | None = None
    try:
        for turn, question in enumerate((LI_QUESTION, LI_FOLLOW_UP)):
            if turn:
                say()
                say(f"{DIM}Follow-up: the engine remembers the conversation_id; Dify keeps")
                say(f"the conversation itself.{RESET}")
            say(f"{CYAN}You:{RESET}  {question}")
            emit(f"{CYAN}Dify:{RESET} ")
            timer = Timer()
            response = engine.stream_chat(question)
            for delta in response.response_gen:
                timer.token()
                emit(delta)
            say()
            say()
            show_sources(response.metadata.get("retriever_resources") or [])
            show_usage(response.metadata.get("usage"), timer.wall, timer.first)
            show_conversation(engine.conversation_id, first_conversation)
            first_conversation = first_conversation or engine.conversation_id
        count = len(engine.chat_history)
        say(f"{DIM}(engine.chat_history reads {count} messages back from Dify){RESET}")
    finally:
        engine.close()


# --------------------------------------------------------------------------- main


def main() -> int:
    with target() as t:
        say(f"{BOLD}dify-integrations demo{RESET}")
        if t.emulated:
            say(f"Dify:  the offline emulator at {t.base_url} (no account needed)")
            say("       set DIFY_BASE_URL and DIFY_API_KEY to run this against your own Dify")
        else:
            say(f"Dify:  {t.base_url}")
        say(f"App:   {_masked(t.api_key)}   user: {t.user}")
        try:
            langchain_demo(t)
            llamaindex_demo(t)
        except DifyError as exc:
            say()
            say(f"Dify call failed: {type(exc).__name__}: {exc}")
            if not t.emulated:
                say("Check DIFY_BASE_URL (it ends in /v1) and DIFY_API_KEY (a chat app's key).")
            return 1
    say()
    say(f"{GREEN}Done.{RESET} Next: notebooks/ for more, README.md for the details, make test.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
