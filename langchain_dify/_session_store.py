"""Where a caller's session id is mapped to the Dify conversation it started.

``RunnableWithMessageHistory`` names sessions with the caller's own ids; Dify names
conversations with ids it invents on the first turn. A :class:`SessionStore`
remembers the pairing so the second turn of a session continues the first one's
conversation. :class:`InMemorySessionStore` is the default; anything with the same
three methods (a Redis hash, a database table) can replace it.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

__all__ = ["InMemorySessionStore", "SessionStore"]


@runtime_checkable
class SessionStore(Protocol):
    """Maps session ids to Dify conversation ids (implement these three methods)."""

    def get(self, session_id: str) -> str | None:
        """Return the conversation id of ``session_id``, or None if it has none yet."""
        ...

    def set(self, session_id: str, conversation_id: str) -> None:
        """Remember that ``session_id`` continues ``conversation_id``."""
        ...

    def delete(self, session_id: str) -> None:
        """Forget ``session_id`` (no error if it is unknown)."""
        ...


class InMemorySessionStore:
    """A thread-safe, process-local :class:`SessionStore` (lost when the process exits)."""

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        """Start empty, or from an existing ``{session_id: conversation_id}`` mapping."""
        self._mapping: dict[str, str] = dict(mapping or {})
        self._lock = threading.Lock()

    def get(self, session_id: str) -> str | None:
        """Return the conversation id of ``session_id``, or None."""
        with self._lock:
            return self._mapping.get(session_id)

    def set(self, session_id: str, conversation_id: str) -> None:
        """Remember that ``session_id`` continues ``conversation_id``."""
        with self._lock:
            self._mapping[session_id] = conversation_id

    def delete(self, session_id: str) -> None:
        """Forget ``session_id``."""
        with self._lock:
            self._mapping.pop(session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._mapping)

    def __repr__(self) -> str:
        return f"InMemorySessionStore(sessions={len(self)})"
