"""The bundled knowledge corpus, its tokenizer and a hand-written BM25 ranker."""

from __future__ import annotations

import math
import re
from typing import Final

__all__ = [
    "CORPUS",
    "bm25",
    "first_sentence",
    "sentences",
    "split_segments",
    "terms",
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


def _fold(word: str) -> str:
    """Crude stemming: plural ``s`` and the ``ing``/``ed`` verb endings."""
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def terms(text: str) -> tuple[str, ...]:
    """Lower-case content words of ``text`` in order (stop words removed, folded)."""
    return tuple(_fold(w) for w in _WORD.findall(text.lower()) if w not in _STOP)


def tokens(text: str) -> frozenset[str]:
    """The set of :func:`terms` of ``text``."""
    return frozenset(terms(text))


BM25_K1: Final = 1.2
BM25_B: Final = 0.75


def bm25(query: tuple[str, ...], docs: list[tuple[str, ...]]) -> list[float]:
    """Okapi BM25 of every document in ``docs`` (the collection) for ``query``.

    IDF is ``ln(1 + (N - df + 0.5) / (df + 0.5))`` (never negative); each distinct query
    term counts once.
    """
    n = len(docs)
    if not n or not query:
        return [0.0] * n
    avg = sum(len(d) for d in docs) / n or 1.0
    wanted = set(query)
    df = dict.fromkeys(wanted, 0)
    tfs: list[dict[str, int]] = []
    for doc in docs:
        tf: dict[str, int] = {}
        for t in doc:
            if t in wanted:
                tf[t] = tf.get(t, 0) + 1
        for t in tf:
            df[t] += 1
        tfs.append(tf)
    idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in wanted}
    out = []
    for doc, tf in zip(docs, tfs, strict=True):
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(doc) / avg)
        out.append(sum(idf[t] * f * (BM25_K1 + 1) / (f + norm) for t, f in tf.items()))
    return out


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


def sentences(text: str) -> list[str]:
    """The sentences of a passage (split after ``.``, ``!`` or ``?``)."""
    return [p for p in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if p]


def first_sentence(text: str) -> str:
    """The first sentence of a passage, without its final punctuation."""
    head = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
    return head.rstrip(".!?")
