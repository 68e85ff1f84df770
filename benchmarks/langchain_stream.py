"""Section 3 (issue 3): ``ChatDify.stream`` vs ``langchain_openai.ChatOpenAI.stream``.

Both stream the same number of text tokens from the process-isolated local server
(Dify SSE on ``/v1/chat-messages``; OpenAI ``chat.completion.chunk`` SSE on
``/v1/chat/completions``, one HTTP chunk per frame, ``[DONE]`` at the end), with the
same ``BaseCallbackHandler`` counting ``on_llm_new_token``. Both use their default
HTTP clients, built once and reused (keep-alive), as an application would.

Memory: tracemalloc around one ``ChatDify.stream`` of N tokens (chunks consumed and
dropped), for N = 2,000 and 20,000: bytes retained after the stream ended / N
(should be ~0: nothing kept per token) and peak growth during the stream / N
(what is held per token while streaming; includes langchain-core's own list of
chunks, which ``BaseChatModel.stream`` keeps for ``on_llm_end``).
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as c
import _payloads
import _server

TOKENS = 5_000
REPS = 5
TARGET = 2.0
MEMORY_SIZES = (2_000, 20_000)
OURS = "langchain_dify.ChatDify.stream"
PEER = "langchain_openai.ChatOpenAI.stream"


def make_counter() -> Any:
    from langchain_core.callbacks import BaseCallbackHandler

    class TokenCounter(BaseCallbackHandler):
        """Counts ``on_llm_new_token`` calls (the token callback both models fire)."""

        def __init__(self) -> None:
            self.tokens = 0

        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            self.tokens += 1

    return TokenCounter()


def make_chatdify(server: _server.ServerHandle) -> Any:
    (chat_dify,) = c.require("langchain_dify", "ChatDify")
    return chat_dify(api_key=c.API_KEY, base_url=server.base_url, user=c.USER)


def make_chatopenai(server: _server.ServerHandle) -> Any:
    (chat_openai,) = c.require("langchain_openai", "ChatOpenAI")
    return chat_openai(
        model="bench-model", api_key=c.OPENAI_KEY, base_url=server.base_url, max_retries=0
    )


def streamer(llm: Any, n: int, *, check: bool = False) -> Callable[[], int]:
    """A callable that streams n tokens through ``llm.stream`` with a token callback."""
    expected = _payloads.expected_answer(n) if check else None

    def run() -> int:
        counter = make_counter()
        config = {"callbacks": [counter]}
        stream = llm.stream(f"n={n}", config=config)
        if expected is None:
            for _chunk in stream:
                pass
        else:
            text = "".join(chunk.content for chunk in stream)
            assert text == expected, "streamed text differs from what was served"
        return counter.tokens

    return run


def memory_per_token(llm: Any, n: int) -> tuple[float, float]:
    """(retained bytes after the stream / n, peak growth during the stream / n)."""
    gc.collect()
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        count = 0
        for _chunk in llm.stream(f"n={n}", config={"callbacks": [make_counter()]}):
            count += 1
        peak = tracemalloc.get_traced_memory()[1]
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert count >= n
    return (after - before) / n, (peak - before) / n


def run(server: _server.ServerHandle, tokens: int = TOKENS, reps: int = REPS) -> None:
    c.title(
        f"3. LangChain: ChatDify.stream vs ChatOpenAI.stream, {tokens:,} tokens each, "
        f"token callback on (best/median of {reps}, alternating)"
    )
    stats_before = server.stats()
    runs: dict[str, Callable[[], int]] = {}
    unavailable: dict[str, str] = {}
    llms: dict[str, Any] = {}
    for name, make in ((OURS, make_chatdify), (PEER, make_chatopenai)):
        try:
            llm = make(server)
            streamer(llm, 50, check=True)()  # correctness check on a short stream
            llms[name] = llm
            runs[name] = streamer(llm, tokens)
        except c.NotAvailableError as exc:
            unavailable[name] = str(exc)
        except Exception as exc:
            unavailable[name] = f"{type(exc).__name__}: {exc}"
    c.compare_tokens(
        runs,
        tokens=tokens,
        reps=reps,
        target=TARGET,
        ours=OURS,
        peer=PEER,
        unavailable=unavailable,
    )
    stats = server.stats()
    served = {k: stats.get(k, 0) - stats_before.get(k, 0) for k in stats}
    print(
        f"  served by the local server: chat-messages={served.get('chat-messages', 0)}, "
        f"chat/completions={served.get('chat/completions', 0)}"
    )
    if OURS in llms:
        rows = []
        for n in MEMORY_SIZES:
            retained, peak = memory_per_token(llms[OURS], n)
            rows.append([f"ChatDify.stream, N={n:,}", f"{retained:.2f}", f"{peak:,.0f}"])
        if PEER in llms:  # reference: the same langchain-core path, OpenAI wire
            n = MEMORY_SIZES[0]
            retained, peak = memory_per_token(llms[PEER], n)
            rows.append([f"(ChatOpenAI.stream, N={n:,})", f"{retained:.2f}", f"{peak:,.0f}"])
        print("  memory per streamed token (tracemalloc; chunks consumed and dropped):")
        c.table(["stream", "retained after B/token", "peak during B/token"], rows)
        print(
            "  retained ~0 and flat in N = nothing kept per token after the stream; the peak "
            "is\n  mostly langchain-core's own chunk list (BaseChatModel.stream keeps every "
            "chunk\n  for on_llm_end), which ChatOpenAI pays too."
        )


if __name__ == "__main__":
    with _server.serve() as srv:
        run(srv)
