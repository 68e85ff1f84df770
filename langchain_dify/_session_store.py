"""Where a caller's session id is mapped to the Dify conversation it started.

``RunnableWithMessageHistory`` names sessions with the caller's own ids; Dify names
conversations with ids it invents on the first turn. The history remembers the
pairing so the second turn of a session continues the first one's conversation.

Accepted stores:

- LangChain key-value stores: any ``BaseStore[str, str]`` or ``ByteStore``
  (``InMemoryStore``, ``InMemoryByteStore``, and the Redis-, SQL- or file-backed
  stores of the ecosystem, which several worker processes can share). Keys are
  :func:`session_key` ``(end user, session id)``; values the conversation id (bytes
  for a ``ByteStore``, text otherwise).
- :class:`InMemorySessionStore` (the default) or any object with the
  :class:`SessionStore` methods, keyed by the session id alone when the factory serves
  one end user, by :func:`session_key` when each session names its user.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol, TypeAlias, get_args, runtime_checkable
from urllib.parse import quote

from langchain_core.stores import BaseStore

__all__ = [
    "InMemorySessionStore",
    "SessionMap",
    "SessionStore",
    "SessionStoreLike",
    "session_key",
]


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


SessionStoreLike: TypeAlias = "SessionStore | BaseStore[str, str] | BaseStore[str, bytes]"
"""What ``DifyChatMessageHistory`` accepts as ``session_store``."""


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


def session_key(user: str, session_id: str) -> str:
    """The store key of ``(end user, session id)``: ``"<user>/<session id>"``, each %-quoted."""
    return f"{quote(user, safe='')}/{quote(session_id, safe='')}"


def _holds_bytes(store: BaseStore[str, Any]) -> bool:
    """Whether ``store`` is declared a ``BaseStore[str, bytes]`` (a ``ByteStore``)."""
    for cls in type(store).__mro__:
        for base in getattr(cls, "__orig_bases__", ()):
            args = get_args(base)
            if args and args[-1] is bytes:
                return True
            if args and args[-1] in (str, Any):
                return False
    return False


class SessionMap:
    """``(end user, session id)`` -> conversation id, over any accepted store.

    Args:
        store: A :class:`SessionStore` or a LangChain ``BaseStore``.
        per_user: Key a :class:`SessionStore` by :func:`session_key` too (the
            factory sets it when each session names its end user). LangChain
            stores are always keyed by :func:`session_key`.
    """

    def __init__(self, store: SessionStoreLike, *, per_user: bool = False) -> None:
        candidate: object = store
        if not isinstance(candidate, (BaseStore, SessionStore)):
            msg = (
                "session_store must be a LangChain BaseStore[str, str] / ByteStore "
                "(InMemoryStore, a Redis or SQL store...) or an object with "
                f"get/set/delete(session_id); got {type(store).__name__}"
            )
            raise TypeError(msg)
        self.store = store
        self.per_user = per_user
        self._kv: BaseStore[str, Any] | None = None
        self._legacy: SessionStore | None = None
        if isinstance(store, BaseStore):
            self._kv = store
        else:
            self._legacy = store
        self._bytes = self._kv is not None and _holds_bytes(self._kv)

    def _key(self, user: str, session_id: str) -> str:
        if self._kv is not None or self.per_user:
            return session_key(user, session_id)
        return session_id

    def _value(self, conversation_id: str) -> str | bytes:
        return conversation_id.encode() if self._bytes else conversation_id

    @staticmethod
    def _decode(values: Sequence[object]) -> str | None:
        value = values[0] if values else None
        if isinstance(value, bytes):
            value = value.decode()
        return value if isinstance(value, str) and value else None

    def get(self, user: str, session_id: str) -> str | None:
        """The conversation id of the session, or None."""
        key = self._key(user, session_id)
        if self._kv is not None:
            return self._decode(self._kv.mget([key]))
        assert self._legacy is not None
        return self._legacy.get(key)

    def set(self, user: str, session_id: str, conversation_id: str) -> None:
        """Remember the session's conversation."""
        key = self._key(user, session_id)
        if self._kv is not None:
            self._kv.mset([(key, self._value(conversation_id))])
        else:
            assert self._legacy is not None
            self._legacy.set(key, conversation_id)

    def delete(self, user: str, session_id: str) -> None:
        """Forget the session."""
        key = self._key(user, session_id)
        if self._kv is not None:
            self._kv.mdelete([key])
        else:
            assert self._legacy is not None
            self._legacy.delete(key)

    async def aget(self, user: str, session_id: str) -> str | None:
        """Async :meth:`get` (a LangChain store's own async methods)."""
        if self._kv is not None:
            return self._decode(await self._kv.amget([self._key(user, session_id)]))
        return self.get(user, session_id)

    async def aset(self, user: str, session_id: str, conversation_id: str) -> None:
        """Async :meth:`set`."""
        if self._kv is not None:
            key = self._key(user, session_id)
            await self._kv.amset([(key, self._value(conversation_id))])
        else:
            self.set(user, session_id, conversation_id)

    async def adelete(self, user: str, session_id: str) -> None:
        """Async :meth:`delete`."""
        if self._kv is not None:
            await self._kv.amdelete([self._key(user, session_id)])
        else:
            self.delete(user, session_id)

    def __repr__(self) -> str:
        return f"SessionMap({self.store!r}, per_user={self.per_user})"
