"""One chat turn run for a browser: `ChatDify` streamed into a queue, stoppable.

A `Turn` runs in its own asyncio task and puts plain JSON-able events on a queue,
which the SSE route and the WebSocket route both read:

- ``{"type": "start", "turn_id"}``
- ``{"type": "delta", "text"}`` for each piece of the answer
- ``{"type": "end", "conversation_id", "message_id", "sources", "usage"}``
- ``{"type": "stopped", "answer"}`` when the turn was stopped (button, or the page left)
- ``{"type": "error", "message"}``

Stopping cancels the task: `ChatDify`'s stream is closed mid-answer, and the transport
calls Dify's stop endpoint for that task with the same Dify ``user``, once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from dify_transport import DifyError
from dify_transport.display import source_rows
from langchain_dify import ChatDify

__all__ = ["TERMINAL", "ChatSession", "Event", "Turn"]

log = logging.getLogger("examples.proxy")

Event = dict[str, Any]
TERMINAL = frozenset({"end", "stopped", "error"})
"""Event types after which a turn sends nothing more."""

_USAGE_KEYS = ("total_tokens", "total_price", "currency", "latency")


@dataclass
class ChatSession:
    """What the server keeps for one logged-in browser (never sent as a whole)."""

    username: str
    dify_user: str
    """The Dify end-user id this browser user maps to."""
    conversation_id: str | None = None
    """The Dify conversation the next turn continues (None: a new one)."""
    turn: Turn | None = None
    """The turn running or waiting to be streamed, if any."""

    @property
    def busy(self) -> bool:
        """True while a turn runs (one not yet streamed is replaced by the next question)."""
        return self.turn is not None and self.turn.claimed and not self.turn.finished


class Turn:
    """One question to the Dify app, answered as events (see the module docstring)."""

    def __init__(
        self,
        llm: ChatDify,
        session: ChatSession,
        message: str,
        *,
        redact: Callable[[str], str] = str,
    ) -> None:
        self.id = secrets.token_urlsafe(12)
        self.message = message
        self.finished = False
        self._llm = llm
        self._session = session
        self._redact = redact
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._streamed = False

    @property
    def claimed(self) -> bool:
        """True once a reader started the turn."""
        return self._streamed

    def claim(self) -> bool:
        """Start the turn for its one reader; False if it was already claimed."""
        if self._streamed or self.finished:
            return False
        self._streamed = True
        self._task = asyncio.create_task(self._run(), name=f"turn-{self.id}")
        return True

    async def events(self, keepalive: float | None = None) -> AsyncIterator[Event | None]:
        """Yield the turn's events up to a terminal one; None after ``keepalive`` idle seconds."""
        while True:
            try:
                event = await asyncio.wait_for(self._queue.get(), keepalive)
            except TimeoutError:
                yield None
                continue
            yield event
            if event["type"] in TERMINAL:
                return

    async def stop(self) -> None:
        """Stop the turn and wait until it has stopped (Dify's stop call included)."""
        task = self._task
        if task is None:
            self._finish({"type": "stopped", "answer": ""})
            return
        task.cancel()
        await asyncio.wait({task})  # never raises the task's CancelledError

    def _finish(self, event: Event) -> None:
        if not self.finished:
            self.finished = True
            self._queue.put_nowait(event)

    async def _run(self) -> None:
        session = self._session
        parts: list[str] = []
        meta: dict[str, Any] = {}
        self._queue.put_nowait({"type": "start", "turn_id": self.id})
        try:
            stream = self._llm.astream(
                self.message, user=session.dify_user, conversation_id=session.conversation_id
            )
            async for chunk in stream:
                meta.update({k: v for k, v in chunk.response_metadata.items() if v})
                if isinstance(chunk.content, str) and chunk.content:
                    parts.append(chunk.content)
                    self._queue.put_nowait({"type": "delta", "text": chunk.content})
        except asyncio.CancelledError:
            # ChatDify's stream was closed mid-answer: the transport has stopped the Dify task.
            self._keep_conversation(meta)
            self._finish({"type": "stopped", "answer": "".join(parts)})
            raise
        except DifyError as exc:
            self._keep_conversation(meta)
            self._finish({"type": "error", "message": self._redact(str(exc))})
            return
        except Exception:
            log.exception("turn %s failed", self.id)
            self._finish({"type": "error", "message": "The proxy failed; see its log."})
            return
        self._keep_conversation(meta)
        self._finish(
            {
                "type": "end",
                "conversation_id": meta.get("conversation_id"),
                "message_id": meta.get("message_id"),
                "sources": _sources(meta.get("retriever_resources")),
                "usage": _usage(meta.get("usage")),
            }
        )

    def _keep_conversation(self, meta: Mapping[str, Any]) -> None:
        conversation = meta.get("conversation_id")
        if isinstance(conversation, str) and conversation:
            self._session.conversation_id = conversation


def _sources(resources: object) -> list[dict[str, Any]]:
    """The cited passages as the page shows them: document, dataset, score, snippet."""
    items = [r for r in resources if isinstance(r, Mapping)] if isinstance(resources, list) else []
    return [asdict(row) for row in source_rows(items)]


def _usage(usage: object) -> dict[str, Any]:
    if not isinstance(usage, Mapping):
        return {}
    return {
        key: value if isinstance(value, int | float | str) else str(value)
        for key in _USAGE_KEYS
        if (value := usage.get(key)) is not None
    }
