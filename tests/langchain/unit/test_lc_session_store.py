"""Issue 14: session stores keyed by (end user, session id), LangChain key-value stores too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from langchain_core.stores import BaseStore, InMemoryByteStore, InMemoryStore

from langchain_dify import InMemorySessionStore
from langchain_dify._session_store import SessionMap, session_key


class StrStore(BaseStore[str, str]):
    """A strict ``BaseStore[str, str]`` (like an SQL text store): rejects bytes."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def mget(self, keys: Sequence[str]) -> list[str | None]:
        return [self.data.get(k) for k in keys]

    def mset(self, key_value_pairs: Sequence[tuple[str, str]]) -> None:
        for key, value in key_value_pairs:
            assert isinstance(value, str)
            self.data[key] = value

    def mdelete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.data.pop(key, None)

    def yield_keys(self, *, prefix: str | None = None) -> Iterator[str]:
        yield from (k for k in self.data if k.startswith(prefix or ""))


def test_keys_quote_user_and_session() -> None:
    assert session_key("ada", "s1") == "ada/s1"
    assert session_key("a/b", "c d") == "a%2Fb/c%20d"


def test_byte_and_str_stores_get_the_right_value_type() -> None:
    for store, expected in ((InMemoryByteStore(), b"c1"), (StrStore(), "c1"),
                            (InMemoryStore(), "c1")):  # fmt: skip
        sessions = SessionMap(store)
        sessions.set("ada", "s1", "c1")
        assert store.mget(["ada/s1"]) == [expected]
        assert sessions.get("ada", "s1") == "c1"
        assert sessions.get("bob", "s1") is None  # another user's session of that name
        sessions.delete("ada", "s1")
        assert sessions.get("ada", "s1") is None


async def test_async_uses_the_stores_async_methods() -> None:
    store = InMemoryByteStore()
    sessions = SessionMap(store)
    await sessions.aset("ada", "s1", "c1")
    assert await sessions.aget("ada", "s1") == "c1"
    await sessions.adelete("ada", "s1")
    assert await store.amget(["ada/s1"]) == [None]


def test_a_session_store_is_keyed_by_session_unless_sessions_name_users() -> None:
    store = InMemorySessionStore()
    SessionMap(store).set("ada", "s1", "c1")
    SessionMap(store, per_user=True).set("bob", "s1", "c2")
    assert store.get("s1") == "c1"
    assert store.get("bob/s1") == "c2"
