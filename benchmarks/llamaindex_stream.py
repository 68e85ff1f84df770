"""Section 4 (issue 4): ``DifyLLM.stream_chat`` vs ``OpenAILike.stream_chat``.

Both stream the same number of text tokens from the process-isolated local server
(``OpenAILike(api_base=<local>/v1, is_chat_model=True)`` hits ``/v1/chat/completions``;
``DifyLLM`` hits ``/v1/chat-messages``), with LlamaIndex's own instrumentation on
(the ``llm_chat_callback`` decorators both use). Tokens = responses with a non-empty
``delta``. Clients are built once and reused (keep-alive).

Note: LlamaIndex's ``ChatResponse`` carries the cumulative message on every delta,
so both sides build the growing text (O(N^2) bytes copied in total).
"""

from __future__ import annotations

import sys
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
OURS = "llama_index_dify.DifyLLM.stream_chat"
PEER = "OpenAILike.stream_chat"


def make_difyllm(server: _server.ServerHandle) -> Any:
    (dify_llm,) = c.require("llama_index_dify", "DifyLLM")
    return dify_llm(api_key=c.API_KEY, base_url=server.base_url, user=c.USER)


def make_openai_like(server: _server.ServerHandle) -> Any:
    (openai_like,) = c.require("llama_index.llms.openai_like", "OpenAILike")
    return openai_like(
        model="bench-model",
        api_base=server.base_url,
        api_key=c.OPENAI_KEY,
        is_chat_model=True,
        context_window=128_000,
        max_retries=0,
    )


def streamer(llm: Any, n: int, *, check: bool = False) -> Callable[[], int]:
    from llama_index.core.llms import ChatMessage

    expected = _payloads.expected_answer(n) if check else None

    def run() -> int:
        messages = [ChatMessage(role="user", content=f"n={n}")]
        tokens = 0
        last = None
        for response in llm.stream_chat(messages):
            if response.delta:
                tokens += 1
            last = response
        if expected is not None:
            assert last is not None
            assert last.message.content == expected, "streamed text differs from what was served"
        return tokens

    return run


def run(server: _server.ServerHandle, tokens: int = TOKENS, reps: int = REPS) -> None:
    c.title(
        f"4. LlamaIndex: DifyLLM.stream_chat vs OpenAILike.stream_chat, {tokens:,} tokens each "
        f"(best/median of {reps}, alternating)"
    )
    stats_before = server.stats()
    runs: dict[str, Callable[[], int]] = {}
    unavailable: dict[str, str] = {}
    for name, make in ((OURS, make_difyllm), (PEER, make_openai_like)):
        try:
            llm = make(server)
            streamer(llm, 50, check=True)()  # correctness check on a short stream
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


if __name__ == "__main__":
    with _server.serve() as srv:
        run(srv)
