"""Transport clients a LangChain component builds on first use, keyed on its settings.

``ChatDify`` and the retrievers are pydantic models: ``model_copy(update=...)`` and
attribute assignment can change ``api_key``, ``base_url`` and the other client
settings after a client was built. :class:`ClientCache` therefore remembers the
settings each client was built from and builds a new one when they differ, and
:class:`ClientOwner` gives every copy of a model its own cache (a copy never
shares, nor closes, the original's connection pool). A pickled component
unpickles with an empty cache.

Only clients built here are cached: an injected ``httpx`` client is passed through
to the transport, which never closes a client it was given. ``close()`` /
``aclose()`` and ``with`` / ``async with`` close what was built.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar, cast

from pydantic import BaseModel, PrivateAttr, SecretStr

from dify_transport._closing import ClosingContext

if TYPE_CHECKING:
    from dify_transport import AsyncHttpClient, HttpClient, TimeoutTypes

__all__ = ["ClientCache", "ClientOwner", "ClosingContext", "secret_value"]


class _Closable(Protocol):
    def close(self) -> None: ...


class _AsyncClosable(Protocol):
    async def aclose(self) -> None: ...


S = TypeVar("S", bound=_Closable)
A = TypeVar("A", bound=_AsyncClosable)


def secret_value(value: SecretStr | str | None) -> str | None:
    """The plain key (``model_copy(update=...)`` stores a ``str`` as given)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value or None


class ClientCache:
    """One sync and one async client, built on first use and rebuilt when the settings change.

    A client replaced because the settings changed is kept until :meth:`close` /
    :meth:`aclose` (a call may still be using it).
    """

    __slots__ = ("_async", "_lock", "_old_async", "_old_sync", "_sync")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sync: tuple[object, _Closable] | None = None
        self._async: tuple[object, _AsyncClosable] | None = None
        self._old_sync: list[_Closable] = []
        self._old_async: list[_AsyncClosable] = []

    def sync(self, key: object, build: Callable[[], S]) -> S:
        """The sync client for the settings ``key`` (compared with ``==``)."""
        with self._lock:
            if self._sync is None or self._sync[0] != key:
                if self._sync is not None:
                    self._old_sync.append(self._sync[1])
                self._sync = (key, build())
            return cast("S", self._sync[1])

    def async_(self, key: object, build: Callable[[], A]) -> A:
        """The async client for the settings ``key`` (compared with ``==``)."""
        with self._lock:
            if self._async is None or self._async[0] != key:
                if self._async is not None:
                    self._old_async.append(self._async[1])
                self._async = (key, build())
            return cast("A", self._async[1])

    def close(self) -> None:
        """Close the sync clients built here; the next call builds a new one."""
        with self._lock:
            clients = [*self._old_sync, *([self._sync[1]] if self._sync else [])]
            self._sync, self._old_sync = None, []
        for client in clients:
            client.close()

    async def aclose(self) -> None:
        """Close every client built here, async and sync."""
        with self._lock:
            clients = [*self._old_async, *([self._async[1]] if self._async else [])]
            self._async, self._old_async = None, []
        for client in clients:
            await client.aclose()
        self.close()

    def __copy__(self) -> ClientCache:
        return ClientCache()  # a copy owns nothing yet

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientCache:
        return ClientCache()

    def __reduce__(self) -> tuple[type[ClientCache], tuple[()]]:
        # Pickling (and unpickling) a component gives it a fresh cache: connection
        # pools and the lock do not travel; the copy builds its own on first use.
        return (ClientCache, ())

    def __repr__(self) -> str:
        return f"ClientCache(sync={self._sync is not None}, async={self._async is not None})"


class ClientOwner(ClosingContext, BaseModel):
    """Base for components that hold transport clients built from their own fields."""

    _dify_clients: ClientCache = PrivateAttr(default_factory=ClientCache)

    if TYPE_CHECKING:
        api_key: SecretStr | None
        base_url: str
        timeout: TimeoutTypes
        max_retries: int
        http_client: HttpClient | None
        http_async_client: AsyncHttpClient | None

    def _client_settings(self) -> dict[str, Any]:
        return {
            "api_key": secret_value(self.api_key),
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }

    def _sync_client(self, factory: Callable[..., S]) -> S:
        """The sync client ``factory(**settings, http_client=...)``, cached per settings."""
        settings = self._client_settings()
        http = self.http_client
        return self._dify_clients.sync(
            (factory, settings, http), lambda: factory(**settings, http_client=http)
        )

    def _async_client_of(self, factory: Callable[..., A]) -> A:
        """The async client ``factory(**settings, http_client=...)``, cached per settings."""
        settings = self._client_settings()
        http = self.http_async_client
        return self._dify_clients.async_(
            (factory, settings, http), lambda: factory(**settings, http_client=http)
        )

    def __copy__(self) -> Self:
        copied = super().__copy__()
        copied._dify_clients = ClientCache()  # never share (or close) the original's pool
        return copied

    # ------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the sync transport client this component built.

        Injected ``httpx`` clients are never closed (you own them). Async clients
        need :meth:`aclose`. The component stays usable: the next call builds a new
        client.
        """
        self._dify_clients.close()

    async def aclose(self) -> None:
        """Close every transport client this component built, async and sync.

        Injected ``httpx`` clients are never closed (you own them).
        """
        await self._dify_clients.aclose()
