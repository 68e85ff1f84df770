"""LangChain's content-block translator for ``model_provider="dify"`` (registered on import).

``AIMessage.content_blocks`` (and ``output_version="v1"``) of a Dify answer gives:

- a ``reasoning`` block with the model's reasoning (``additional_kwargs
  ["reasoning_content"]``: Dify's ``reasoning_chunk`` events or a leading ``<think>``
  block), first;
- a ``text`` block with the answer, its ``annotations`` one ``citation`` per
  ``retriever_resources`` entry: ``title`` (the document name), ``cited_text`` (the
  passage), and ``extras`` with ``score``, ``position``, ``document_id``,
  ``dataset_name``, ``segment_id``.

``response_metadata`` keeps everything it had. Content that already is a list of blocks
is passed through (text items as text blocks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages import content as types
from langchain_core.messages.block_translators import register_translator

__all__ = ["REASONING_KEY", "citations", "translate_content", "translate_content_chunk"]

PROVIDER = "dify"
REASONING_KEY = "reasoning_content"
"""Where a Dify answer's reasoning is kept in ``additional_kwargs`` (the common key)."""

_EXTRAS = ("score", "position", "document_id", "dataset_id", "dataset_name", "segment_id")


def citations(resources: object) -> list[types.Citation]:
    """One ``citation`` annotation per Dify retriever resource (in citation order)."""
    out: list[types.Citation] = []
    for item in resources if isinstance(resources, list) else []:
        if not isinstance(item, Mapping):
            continue
        citation: types.Citation = {"type": "citation"}
        if isinstance(name := item.get("document_name"), str) and name:
            citation["title"] = name
        if isinstance(text := item.get("content"), str) and text:
            citation["cited_text"] = text
        extras = {k: item[k] for k in _EXTRAS if item.get(k) is not None}
        if extras:
            citation["extras"] = extras
        out.append(citation)
    return out


def _blocks(message: AIMessage, *, chunk: bool) -> list[types.ContentBlock]:
    blocks: list[types.ContentBlock] = []
    reasoning = message.additional_kwargs.get(REASONING_KEY)
    if isinstance(reasoning, str) and reasoning:
        blocks.append({"type": "reasoning", "reasoning": reasoning})
    content = message.content
    if isinstance(content, str):
        texts: list[types.ContentBlock] = [{"type": "text", "text": content}] if content else []
    else:
        texts = [
            {"type": "text", "text": item} if isinstance(item, str) else cast("Any", item)
            for item in content
        ]
    notes = citations(message.response_metadata.get("retriever_resources"))
    if notes:
        text_blocks = [b for b in texts if b.get("type") == "text"]
        if not text_blocks:  # a stream's last chunk: the annotations join the text block
            text_blocks = [{"type": "text", "text": ""}]
            texts.extend(text_blocks)
        target = cast("types.TextContentBlock", text_blocks[-1])
        target["annotations"] = [*target.get("annotations", []), *notes]
    elif chunk and not texts and not blocks:
        return []
    return [*blocks, *texts]


def translate_content(message: AIMessage) -> list[types.ContentBlock]:
    """Content blocks of a whole Dify answer."""
    return _blocks(message, chunk=False)


def translate_content_chunk(message: AIMessageChunk) -> list[types.ContentBlock]:
    """Content blocks of one streamed chunk (reasoning or text delta; citations come last)."""
    return _blocks(message, chunk=True)


register_translator(PROVIDER, translate_content, translate_content_chunk)
