r"""Assistant-like answers: find the question in a prompt, answer it from the best passage.

Prompts from LangChain / LlamaIndex RAG templates carry instructions, context and the
question in one query (``Context: ...\\nQuestion: ...\\nAnswer:``); :func:`question_of`
picks the question line, :func:`compose` quotes the most relevant sentence (BM25) from the
prompt's own context or the emulator's notes, and :func:`json_answer` answers with a JSON
instance when the prompt carries a JSON Schema (see ``dify_emulator/_schema.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from dify_emulator._corpus import bm25, sentences, terms
from dify_emulator._extras import quote
from dify_emulator._schema import find_schema, instance

__all__ = [
    "JSON_ASK",
    "Passage",
    "compose",
    "context_passages",
    "json_answer",
    "malformed",
    "question_of",
    "thinking",
    "thinking_words",
]

_LABELLED: Final = re.compile(
    r"^\s*(?:question|query|user question|user query|q|human|user|input)\s*:\s*(.*)$",
    re.IGNORECASE,
)
_BARE_LABEL: Final = re.compile(
    r"^\s*(?:[a-z ]{0,20}answer|a|ai|assistant|response|output|context|context information"
    r"|sources?|documents?)\s*:?\s*$",
    re.IGNORECASE,
)
_RULE: Final = re.compile(r"^[\s\-=_*#`~]*$")
_LEAD_LABEL: Final = re.compile(r"^\s*[A-Za-z][\w ]{0,24}:\s+(?=\S)")
TOPICS: Final = "Dify, LangChain, LlamaIndex, retrieval, server-sent events, the sky, Python or tea"


@dataclass(frozen=True, slots=True)
class Passage:
    """A candidate passage: its text and where it came from (None: the prompt itself)."""

    text: str
    source: str | None = None


def _lines(query: str) -> list[str]:
    return [" ".join(line.split()) for line in query.splitlines()]


def _question_index(lines: list[str]) -> tuple[int, str] | None:
    labelled: tuple[int, str] | None = None
    for i, line in enumerate(lines):
        m = _LABELLED.match(line)
        if m is None:
            continue
        rest = m.group(1).strip()
        if rest:
            labelled = (i, rest)
        else:
            nxt = next((j for j in range(i + 1, len(lines)) if lines[j]), None)
            if nxt is not None and not _BARE_LABEL.match(lines[nxt]):
                labelled = (nxt, lines[nxt])
    if labelled is not None:
        return labelled
    asked = [(i, line) for i, line in enumerate(lines) if line.endswith("?")]
    if asked:
        return asked[-1]
    rest = [(i, line) for i, line in enumerate(lines)
            if line and not _BARE_LABEL.match(line) and not _RULE.match(line)]  # fmt: skip
    return rest[-1] if rest else None


def question_of(query: str) -> str:
    """The question a prompt asks.

    The ``Question:``/``Query:`` line, else the last line ending in ``?``, else the last
    line that is not a bare label such as ``Answer:``.
    """
    found = _question_index(_lines(query))
    return found[1] if found else ""


def context_passages(query: str) -> list[Passage]:
    """The prompt's other lines (its context), as passages without a source."""
    lines = _lines(query)
    found = _question_index(lines)
    skip = found[0] if found else -1
    return [Passage(_LEAD_LABEL.sub("", line)) for i, line in enumerate(lines)
            if i != skip and line and not _BARE_LABEL.match(line) and not _RULE.match(line)
            and not _LABELLED.match(line)]  # fmt: skip


def _best(question: str, passages: list[Passage]) -> tuple[str, Passage] | None:
    """The best sentence by BM25 plus the one after it (the quote), and its passage."""
    cands = [(p, i, ss) for p in passages for ss in [sentences(p.text)] for i in range(len(ss))]
    if not cands:
        return None
    scores = bm25(terms(question), [terms(ss[i]) for _, i, ss in cands])
    best = max(range(len(cands)), key=lambda k: (scores[k], -k))
    if scores[best] <= 0:
        return None
    passage, i, ss = cands[best]
    return " ".join(ss[i : i + 2]), passage


def compose(question: str, passages: list[Passage]) -> str:
    """An answer that quotes the best passage for ``question`` (and names its source)."""
    found = _best(question, passages)
    if found is None:
        q = quote(question) or "that"
        return (
            f'I could not find anything about "{q}" in my notes. I am the Dify emulator, an '
            f"offline stand-in for a model, so I answer from the bundled notes about {TOPICS}."
        )
    text, passage = found
    if passage.source is None:
        return f"From the context you gave me: {text}"
    return f"{text} (Source: {passage.source})"


JSON_ASK: Final = "\n\n## Answer format\nReply with one JSON object and nothing else"
"""How dify-integrations' structured-output block starts (answered with JSON)."""


def json_answer(query: str, question: str, answer: str) -> str | None:
    """A JSON instance of the last JSON Schema in ``query``, or None if there is none.

    String fields named like an answer (``answer``, ``summary``, ...) get ``answer``;
    a field named like the question gets ``question``.
    """
    schema = find_schema(query)
    if schema is None:
        # JSON mode without a schema (dify-integrations' answer-format block): one object
        return json.dumps({"answer": answer}, ensure_ascii=False) if JSON_ASK in query else None
    value: Any = instance(schema, hints={"answer": answer, "question": question})
    return json.dumps(value, ensure_ascii=False)


def malformed(structured: str) -> str:
    """A JSON answer spoilt the way models spoil them: chatter, then the object cut short."""
    return f"Sure! Here is the JSON you asked for: {structured[: max(1, len(structured) // 2)]}"


def thinking(query: str) -> str:
    """The reasoning a "reasoning model" shows before answering ``query``."""
    q = quote(question_of(query)) or "something"
    return (
        f'The user asks "{q}". I should find the passage in my notes that is most relevant '
        "to the question, quote it, and name where it comes from."
    )


def thinking_words(query: str) -> list[str]:
    """:func:`thinking` cut into word deltas."""
    return re.findall(r"\S+\s*", thinking(query))
