"""A Dify answer as LlamaIndex content blocks: reasoning, the text, then its citations.

``ThinkingBlock`` (the model's reasoning: Dify's ``reasoning_chunk`` events or a leading
``<think>`` block) comes first, then the answer's ``TextBlock``, then one
``CitationBlock`` per ``retriever_resources`` entry: ``title`` is the document name,
``source`` the document id, ``cited_content`` the passage and
``additional_location_info`` its ``position`` (and ``segment_position`` when known).
``ChatMessage.content`` reads text blocks only, so it stays the answer; scores and the
rest of each resource stay in ``additional_kwargs["retriever_resources"]``.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import CitationBlock, TextBlock, ThinkingBlock

from dify_transport.types import Result

__all__ = ["answer_blocks", "citation_blocks"]


def citation_blocks(resources: list[dict[str, Any]]) -> list[CitationBlock]:
    """One ``CitationBlock`` per Dify retriever resource (JSON form), in citation order."""
    blocks: list[CitationBlock] = []
    for item in resources:
        location = {
            key: item[key]
            for key in ("position", "segment_position")
            if isinstance(item.get(key), int)
        }
        name = str(item.get("document_name") or "")
        blocks.append(
            CitationBlock(
                cited_content=TextBlock(text=str(item.get("content") or "")),
                source=str(item.get("document_id") or name),
                title=name,
                additional_location_info=location,
            )
        )
    return blocks


def answer_blocks(result: Result, resources: list[dict[str, Any]]) -> list[Any]:
    """The blocks of a final answer message (see the module docstring)."""
    thinking = [ThinkingBlock(content=result.reasoning)] if result.reasoning else []
    return [*thinking, TextBlock(text=result.answer), *citation_blocks(resources)]
