"""Lazily built, cached transport clients shared by every component.

Components hold a :class:`LazyClients`: an :data:`AppClients` (app key) or a
:data:`KnowledgeClients` (dataset key). Nothing is built, and no I/O happens, until
a client is first asked for; after that the same client (and its connection pool)
is reused. Injected clients and ``httpx`` clients are used as given and never
closed here: the caller owns them.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeAlias, TypedDict, TypeVar

from pydantic import BaseModel, PrivateAttr, SecretStr

from dify_transport import (
    DEFAULT_USER,
    AsyncDifyClient,
    AsyncDifyKnowledgeClient,
    AsyncHttpClient,
    DifyClient,
    DifyKnowledgeClient,
    HttpClient,
)
from dify_transport._closing import ClosingContext
from dify_transport._constants import ENV_USER

if TYPE_CHECKING:
    pass

__all__ = [
    "DEFAULT_USER",
    "AppClients",
    "AppClientsOwner",
    "AsyncFactory",
    "ClientFactory",
    "ClosingContext",
    "KnowledgeClients",
    "LazyClients",
    "LazyClientsOwner",
    "SyncFactory",
    "default_user",
    "secret_from_env",
    "secret_value",
]


def default_user() -> str:
    """Return ``$DIFY_USER`` or :data:`DEFAULT_USER`."""
    return os.environ.get(ENV_USER) or DEFAULT_USER


def secret_from_env(name: str) -> SecretStr | None:
    """Return ``$name`` as a secret, or None when unset or empty."""
    value = os.environ.get(name)
    return SecretStr(value) if value else None


def secret_value(value: SecretStr | str | None) -> str | None:
    """The plain key (``model_copy(update=...)`` stores a ``str`` as given)."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value or None


class _SyncClient(Protocol):
    def close(self) -> None: ...


class _AsyncClient(Protocol):
    async def aclose(self) -> None: ...


_S = TypeVar("_S", bound=_SyncClient)
_A = TypeVar("_A", bound=_AsyncClient)
_C_co = TypeVar("_C_co", covariant=True)
_H_contra = TypeVar("_H_contra", contravariant=True)


class ClientFactory(Protocol[_C_co, _H_contra]):
    """Builds a transport client from the settings and an optional ``httpx`` client."""

    def __call__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float | None,
        max_retries: int,
        http_client: _H_contra | None,
    ) -> _C_co: ...


SyncFactory: TypeAlias = ClientFactory[_S, HttpClient]
"""Builds a sync client (``DifyClient``, ``DifyKnowledgeClient``)."""

AsyncFactory: TypeAlias = ClientFactory[_A, AsyncHttpClient]
"""Builds an async client (``AsyncDifyClient``, ``AsyncDifyKnowledgeClient``)."""


class _Settings(TypedDict):
    """What both factories are built from (besides their own ``http_client``)."""

    api_key: str | None
    base_url: str | None
    timeout: float | None
    max_retries: int


@dataclass
class LazyClients(Generic[_S, _A]):
    """A sync and an async transport client, each built on first use and then reused.

    Only clients built here are closed here; injected ones (``client``,
    ``async_client``) stay open, as do the ``httpx`` clients.

    Attributes:
        sync_factory: Builds the sync client (e.g. ``DifyClient``).
        async_factory: Builds the async client (e.g. ``AsyncDifyClient``).
        api_key: App or dataset key; None lets the transport read its environment
            variable (``$DIFY_API_KEY`` or ``$DIFY_DATASET_API_KEY``).
        base_url: Service API root; None lets the transport read ``$DIFY_BASE_URL``.
        timeout: Seconds per request (None: the transport default, 60 s read).
        max_retries: Retries for retryable failures.
        http_client: Optional caller-owned ``httpx.Client`` for the sync client.
        async_http_client: Optional caller-owned ``httpx.AsyncClient``.
        client: A ready sync client (used as is).
        async_client: A ready async client (used as is).
    """

    sync_factory: SyncFactory[_S]
    async_factory: AsyncFactory[_A]
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout: float | None = None
    max_retries: int = 2
    http_client: HttpClient | None = None
    async_http_client: AsyncHttpClient | None = None
    client: _S | None = None
    async_client: _A | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _built: set[str] = field(default_factory=set, repr=False, compare=False)

    def _settings(self) -> _Settings:
        return {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the settings and injected clients; built clients and the lock stay.

        The unpickled copy builds its own clients on first use (a built client's
        connection pool cannot travel, and must not be shared).
        """
        state = dict(self.__dict__)
        del state["_lock"]
        if "sync" in self._built:
            state["client"] = None
        if "async" in self._built:
            state["async_client"] = None
        state["_built"] = set()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def sync(self) -> _S:
        """Return the sync client, building it on first use."""
        with self._lock:
            if self.client is None:
                self._built.add("sync")
                self.client = self.sync_factory(**self._settings(), http_client=self.http_client)
            return self.client

    def async_(self) -> _A:
        """Return the async client, building it on first use."""
        with self._lock:
            if self.async_client is None:
                self._built.add("async")
                self.async_client = self.async_factory(
                    **self._settings(), http_client=self.async_http_client
                )
            return self.async_client

    def close(self) -> None:
        """Close the sync client if it was built here (injected clients stay open)."""
        with self._lock:
            client, self.client = self.client, None
            if "sync" not in self._built:
                self.client = client
                return
            self._built.discard("sync")
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the async client if it was built here (injected clients stay open)."""
        with self._lock:
            client, self.async_client = self.async_client, None
            if "async" not in self._built:
                self.async_client = client
                return
            self._built.discard("async")
        if client is not None:
            await client.aclose()


AppClients: TypeAlias = LazyClients[DifyClient, AsyncDifyClient]
"""App-key clients: ``LazyClients(DifyClient, AsyncDifyClient, ...)``."""

KnowledgeClients: TypeAlias = LazyClients[DifyKnowledgeClient, AsyncDifyKnowledgeClient]
"""Dataset-key clients: ``LazyClients(DifyKnowledgeClient, AsyncDifyKnowledgeClient, ...)``."""


class LazyClientsOwner(ClosingContext):
    """``close`` / ``aclose`` (and ``with``) for a component that holds a :class:`LazyClients`."""

    def _lazy_clients(self) -> LazyClients[Any, Any]:
        """The component's clients (subclasses say where they live)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the sync client if this component built it (injected ones stay open)."""
        self._lazy_clients().close()

    async def aclose(self) -> None:
        """Close the async client if this component built it (injected ones stay open)."""
        await self._lazy_clients().aclose()


class AppClientsOwner(LazyClientsOwner, BaseModel):
    """Base for pydantic components that build an :data:`AppClients` from their fields.

    A copy (``copy.copy``, ``copy.deepcopy``, ``model_copy(update=...)``) starts with
    no clients, so it builds its own from its own settings on first use; it never
    shares, nor closes, the original's connection pool.
    """

    _clients: AppClients | None = PrivateAttr(default=None)

    if TYPE_CHECKING:  # the subclass declares these fields (with its own descriptions)
        api_key: SecretStr | None
        base_url: str
        timeout: float | None
        max_retries: int
        client: DifyClient | None
        async_client: AsyncDifyClient | None
        http_client: HttpClient | None
        async_http_client: AsyncHttpClient | None

    def _app_clients(self) -> AppClients:
        if self._clients is None:
            self._clients = LazyClients(
                DifyClient,
                AsyncDifyClient,
                api_key=secret_value(self.api_key),
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=self.max_retries,
                http_client=self.http_client,
                async_http_client=self.async_http_client,
                client=self.client,
                async_client=self.async_client,
            )
        return self._clients

    def _lazy_clients(self) -> AppClients:
        return self._app_clients()

    def __copy__(self) -> Self:
        copied = super().__copy__()
        copied._clients = None
        return copied

    def __getstate__(self) -> dict[Any, Any]:
        """Pickle without the clients: the unpickled copy builds its own."""
        state = super().__getstate__()
        private = state.get("__pydantic_private__")
        if private and "_clients" in private:
            state["__pydantic_private__"] = {**private, "_clients": None}
        return state

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        memo = {} if memo is None else memo
        if self._clients is not None:
            memo[id(self._clients)] = None  # deepcopy returns None for it
        return super().__deepcopy__(memo)
