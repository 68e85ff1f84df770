"""The text of a knowledge-base passage, the same in every framework (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dify_transport.types import Segment

__all__ = ["segment_text"]


def segment_text(segment: Segment) -> str:
    """The passage text of a retrieved segment.

    A Q&A segment (one with an ``answer``) reads ``question: ...`` / ``answer: ...``,
    as Dify cites it; any other segment is its ``content``.
    """
    if segment.answer:
        return f"question: {segment.content}\nanswer: {segment.answer}"
    return segment.content
