"""Reasoning kept apart from the answer: a *leading* ``<think>...</think>`` block (pure).

Models whose reasoning Dify leaves inline start the answer with ``<think>``; only that
leading block is reasoning (text that mentions ``<think>`` later is answer). Deltas may
split either tag anywhere, so `ThinkSplitter` holds back just enough text to decide.
"""

from __future__ import annotations

__all__ = ["ThinkSplitter", "split_think"]

_OPEN = "<think>"
_CLOSE = "</think>"


class ThinkSplitter:
    """Split streamed answer deltas into ``(answer, reasoning)`` deltas."""

    __slots__ = ("_held", "_state")

    def __init__(self) -> None:
        # "start": undecided; "in": inside the block; "after": the block closed, blank
        # lines before the answer are dropped; "done": answer only
        self._state = "start"
        self._held = ""

    @property
    def done(self) -> bool:
        """No block (any more): every further delta is answer."""
        return self._state == "done"

    def feed(self, text: str) -> tuple[str, str]:
        """The answer and reasoning parts of one delta (either may be ``""``)."""
        buf = self._held + text
        self._held = ""
        if self._state == "start":
            head = buf.lstrip()
            if head.startswith(_OPEN):
                self._state = "in"
                buf = head[len(_OPEN) :]
            elif _OPEN.startswith(head):
                self._held = buf  # "", "<", "<th", ...: cannot tell yet
                return "", ""
            else:
                self._state = "done"
                return buf, ""
        if self._state == "in":
            end = buf.find(_CLOSE)
            if end < 0:
                keep = _partial_suffix(buf, _CLOSE)
                self._held = buf[len(buf) - keep :]
                return "", buf[: len(buf) - keep]
            self._state = "after"
            return self._after(buf[end + len(_CLOSE) :]), buf[:end]
        if self._state == "after":
            return self._after(buf), ""
        return buf, ""

    def _after(self, text: str) -> str:
        answer = text.lstrip()
        if answer:
            self._state = "done"
        return answer

    def pending(self) -> tuple[str, str]:
        """What is held back, as it counts at the end (an unclosed block is reasoning)."""
        return ("", self._held) if self._state == "in" else (self._held, "")


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


def split_think(text: str) -> tuple[str, str]:
    """``(answer, reasoning)`` of a whole answer (blocking calls)."""
    splitter = ThinkSplitter()
    answer, reasoning = splitter.feed(text)
    rest_answer, rest_reasoning = splitter.pending()
    return answer + rest_answer, reasoning + rest_reasoning
