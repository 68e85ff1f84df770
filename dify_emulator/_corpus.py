"""The bundled knowledge corpus and the word-overlap scorer."""

from __future__ import annotations

import math
import re
from typing import Final

__all__ = [
    "CORPUS",
    "first_sentence",
    "score",
    "split_segments",
    "tokens",
]

# (dataset name, document name, text); blank lines separate segments.
CORPUS: Final[tuple[tuple[str, str, str], ...]] = (
    (
        "emulator-kb",
        "dify.txt",
        "Dify is an open-source platform for building LLM applications. It offers chat apps, "
        "agents, chatflows, workflows and knowledge bases behind one Service API.\n\n"
        "Every Dify app is called with its own app key, and knowledge bases are queried with "
        "a dataset key. Conversations are kept on the server per user.",
    ),
    (
        "emulator-kb",
        "langchain.txt",
        "LangChain is a framework for composing language model applications from runnables. "
        "Chat models, retrievers and message histories share one interface, so a Dify app can "
        "be used wherever a chat model is expected.",
    ),
    (
        "emulator-kb",
        "llamaindex.txt",
        "LlamaIndex is a data framework for connecting language models to private data. It "
        "provides LLMs, chat engines, retrievers and chat stores that can be backed by a Dify "
        "app or knowledge base.",
    ),
    (
        "emulator-kb",
        "rag.txt",
        "Retrieval-augmented generation answers a question with passages retrieved from a "
        "knowledge base. The passages are cited as retriever resources with a score and a "
        "position.\n\n"
        "Good retrieval needs small segments, a relevance score and a top k limit on how many "
        "passages are returned.",
    ),
    (
        "emulator-kb",
        "sse.txt",
        "Server-sent events stream text over one HTTP response as data frames separated by "
        "blank lines. Dify sends every event as a data line of JSON and keeps the connection "
        "alive with ping events.",
    ),
    (
        "emulator-kb",
        "sky.txt",
        "The sky is blue on a clear day because air molecules scatter blue sunlight more than "
        "red sunlight. At sunset the sky turns orange and red.",
    ),
    (
        "emulator-notes",
        "python.txt",
        "Python is a programming language known for readable code. Its asyncio library runs "
        "many network connections in one thread with an event loop.",
    ),
    (
        "emulator-notes",
        "tea.txt",
        "Green tea is brewed with water below boiling, around 80 degrees Celsius. Black tea "
        "takes boiling water and steeps for three to five minutes.",
    ),
)

_STOP: Final = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "with",
        "you",
        "your",
    ]
)
_WORD: Final = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> frozenset[str]:
    """Lower-case content words of ``text`` (stop words removed, crude plural folding)."""
    out = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            out.add(word[:-1])
        else:
            out.add(word)
    return frozenset(out)


def score(query: frozenset[str], segment: frozenset[str], method: str = "semantic_search") -> float:
    """Word-overlap relevance in [0, 1]: cosine of word sets, or coverage for keyword search."""
    if not query or not segment:
        return 0.0
    common = len(query & segment)
    if method in ("keyword_search", "full_text_search"):
        return common / len(query)
    return common / math.sqrt(len(query) * len(segment))


def split_segments(text: str, max_chars: int = 500) -> list[str]:
    """Split a document into segments: paragraphs, long ones cut at sentence ends."""
    segments: list[str] = []
    for raw in re.split(r"\n\s*\n", text.strip()):
        para = " ".join(raw.split())
        if not para:
            continue
        current = ""
        for sentence in re.split(r"(?<=[.!?])\s+", para):
            if current and len(current) + 1 + len(sentence) > max_chars:
                segments.append(current)
                current = sentence
            else:
                current = f"{current} {sentence}".strip()
        if current:
            segments.append(current)
    return segments


def first_sentence(text: str) -> str:
    """The first sentence of a passage, without its final punctuation."""
    head = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
    return head.rstrip(".!?")
