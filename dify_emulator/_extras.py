"""Stream embellishments real Dify produces: moderation, trap T5 (docs/wire-traps.md), TTS."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from dify_emulator._generate import Gen

__all__ = [
    "MODERATED_ANSWER",
    "TtsStream",
    "delta_event",
    "fake_mp3",
    "moderated",
    "quote",
    "replace_event",
]

QUOTE_LIMIT: Final = 80
MODERATED_ANSWER: Final = "[emulator] This answer was replaced by output moderation."
_MODERATE: Final = re.compile(r"\bmoderate\b", re.IGNORECASE)
_SENTENCE_END: Final = (".", "?", "!", "…")
_TTS_MAX_WORDS: Final = 12


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """The last non-empty line of ``text``, whitespace collapsed, cut to ``limit`` with "…"."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    last = next((line for line in reversed(lines) if line), "")
    if len(last) <= limit:
        return last
    return last[: limit - 1].rstrip() + "…"


def moderated(g: Gen) -> bool:
    """Whether output moderation replaces this answer (word ``moderate`` or ``moderate=1``)."""
    if g.opts.moderate is not None:
        return g.opts.moderate > 0
    return bool(_MODERATE.search(g.query))


def replace_event(g: Gen, env: dict[str, Any]) -> dict[str, Any]:
    """``message_replace`` (1.x: ``reason`` "" or "output_moderation" in advanced-chat)."""
    ev: dict[str, Any] = {**env, "event": "message_replace", "task_id": g.task.task_id,
                          "answer": MODERATED_ANSWER}  # fmt: skip
    if not g.wire.v015:
        ev["reason"] = "output_moderation" if g.spec.mode == "advanced-chat" else ""
    return ev


def delta_event(g: Gen) -> str:
    """Name of chat/completion answer deltas: ``message``, or ``message_file`` (wire trap T5).

    T5 is on for 1.x requests that carry files; the ``t5`` option forces it on (1) or off (0).
    """
    if g.opts.t5 is not None:
        return "message_file" if g.opts.t5 > 0 else "message"
    return "message_file" if g.files and not g.wire.v015 else "message"


def fake_mp3(text: str) -> bytes:
    """Deterministic bytes that start like an MP3 file."""
    seed = hashlib.sha256(text.encode()).digest()
    frame = b"\xff\xfb\x90\x64" + seed * 13
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + frame * max(1, min(len(text) // 8, 64))


class TtsStream:
    """TTS auto-play: ``tts_message`` audio per sentence, ``tts_message_end`` last.

    Audio lags the text (as Dify's audio publisher does), so the last audio and
    ``tts_message_end`` come after ``message_end``.
    """

    def __init__(self, g: Gen, env: dict[str, Any]) -> None:
        self._env = {**env, "task_id": g.task.task_id}
        self._pending: list[str] = []
        self._ready: dict[str, Any] | None = None

    @staticmethod
    def enabled(g: Gen) -> bool:
        """TTS events only for an app with TTS enabled and the ``tts`` option set."""
        return g.spec.tts and bool(g.opts.tts)

    def _audio(self, text: str) -> dict[str, Any]:
        audio = base64.b64encode(fake_mp3(text)).decode("ascii")
        return {**self._env, "event": "tts_message", "audio": audio}

    def feed(self, word: str) -> Iterator[dict[str, Any]]:
        """Take one delta; yield audio when a sentence (or a long run of words) is complete."""
        self._pending.append(word)
        if word.rstrip().endswith(_SENTENCE_END) or len(self._pending) >= _TTS_MAX_WORDS:
            text, self._pending = "".join(self._pending), []
            # Audio lags one sentence behind the text, so some always follows message_end.
            if self._ready is not None:
                yield self._ready
            self._ready = self._audio(text)

    def finish(self) -> Iterator[dict[str, Any]]:
        """The lagging audio, audio for any rest, then ``tts_message_end`` (``audio: ""``)."""
        if self._ready is not None:
            yield self._ready
            self._ready = None
        if "".join(self._pending).strip():
            yield self._audio("".join(self._pending))
        self._pending = []
        yield {**self._env, "event": "tts_message_end", "audio": ""}
