"""One client lifecycle for every component: lazy, keyed by settings, owned.

The rules (what is built when, what is closed, copies) are docs/architecture.md,
"Client lifecycle".
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

from dify_transport._closing import ClosingContext
from dify_transport._constants import ENV_DATASET_ID
from dify_transport._errors import DifyConfigError

if TYPE_CHECKING:
    from dify_transport._base_client import AsyncHttpClient, HttpClient, TimeoutTypes

__all__ = ["ClientSettings", "LazyClients", "LazyClientsOwner", "dataset_id_or_env", "secret_value"]


def secret_value(value: object) -> str | None:
    """The plain key of a ``str`` or a secret wrapper (anything with ``get_secret_value``).

    Components store keys as pydantic ``SecretStr`` (``model_copy(update=...)``
    stores a ``str`` as given); an empty key counts as none.
    """
    getter = getattr(value, "get_secret_value", None)
    plain = getter() if callable(getter) else value
    return plain if isinstance(plain, str) and plain else None


def dataset_id_or_env(dataset_id: str | None) -> str:
    """``dataset_id``, else ``$DIFY_DATASET_ID``: a knowledge component's checked id.

    Raises:
        DifyConfigError: Neither is set (raised at construction, in both frameworks).
    """
    resolved = dataset_id or os.environ.get(ENV_DATASET_ID)
    if not resolved:
        msg = f"No knowledge base id: pass dataset_id= or set ${ENV_DATASET_ID}."
        raise DifyConfigError(msg)
    return resolved


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """What the clients are built from; equal settings reuse the built clients.

    Attributes:
        api_key: App or dataset key (None: the transport reads its environment).
        base_url: Service API root (None: ``$DIFY_BASE_URL``, else Dify Cloud).
        timeout: Request timeout (None: the transport default).
        max_retries: Retries for retryable failures.
        http_client: A caller-owned ``httpx.Client`` for the sync client.
        async_http_client: A caller-owned ``httpx.AsyncClient`` for the async client.
        client: A ready sync transport client, used as is (never built, never closed).
        async_client: A ready async transport client, used as is.
        deadline: Total seconds for each call, retries and whole stream included
            (None: only the per-read ``timeout`` bounds a call).
        max_connections: Connection limit of each HTTP client built here (None: the
            transport default, ``DEFAULT_MAX_CONNECTIONS``); an injected ``httpx``
            client keeps its own.
    """

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout: TimeoutTypes = None
    max_retries: int = 2
    http_client: HttpClient | None = None
    async_http_client: AsyncHttpClient | None = None
    client: Any = None
    async_client: Any = None
    deadline: float | None = None
    max_connections: int | None = None

    def factory_kwargs(self, http_client: object) -> dict[str, Any]:
        """The keyword arguments of a client constructor (``deadline`` only when set)."""
        kwargs: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "http_client": http_client,
            # An injected httpx client keeps its own limits.
            "max_connections": self.max_connections if http_client is None else None,
        }
        if self.deadline is not None:
            kwargs["deadline"] = self.deadline
        return kwargs


class _Closable(Protocol):
    def close(self) -> None: ...


class _AsyncClosable(Protocol):
    async def aclose(self) -> None: ...


S = TypeVar("S", bound=_Closable)
A = TypeVar("A", bound=_AsyncClosable)


class LazyClients(Generic[S, A]):
    """A sync and an async client, built on first use and rebuilt when ``settings`` change.

    Args:
        sync_factory: Builds the sync client from ``api_key``, ``base_url``,
            ``timeout``, ``max_retries`` and ``http_client`` keywords.
        async_factory: Builds the async client from the same keywords.
        settings: What to build from; a component may assign a new value at any time.
    """

    __slots__ = ("_async_factory", "_built", "_lock", "_retired", "_sync_factory", "settings")

    def __init__(
        self,
        sync_factory: Callable[..., S],
        async_factory: Callable[..., A],
        settings: ClientSettings | None = None,
    ) -> None:
        self._sync_factory = sync_factory
        self._async_factory = async_factory
        self.settings = settings if settings is not None else ClientSettings()
        self._lock = threading.Lock()
        self._built: dict[str, tuple[ClientSettings, Any]] = {}
        self._retired: dict[str, list[Any]] = {"sync": [], "async": []}

    def _get(self, kind: str, factory: Callable[..., Any], http_client: object) -> Any:
        with self._lock:
            settings = self.settings
            built = self._built.get(kind)
            if built is None or built[0] != settings:
                if built is not None:
                    self._retired[kind].append(built[1])
                built = self._built[kind] = (
                    settings,
                    factory(**settings.factory_kwargs(http_client)),
                )
            return built[1]

    def sync(self) -> S:
        """The sync client: the injected one, else the one built from the settings."""
        injected: S | None = self.settings.client
        if injected is not None:
            return injected
        client: S = self._get("sync", self._sync_factory, self.settings.http_client)
        return client

    def async_(self) -> A:
        """The async client: the injected one, else the one built from the settings."""
        injected: A | None = self.settings.async_client
        if injected is not None:
            return injected
        client: A = self._get("async", self._async_factory, self.settings.async_http_client)
        return client

    def prebuild(self) -> None:
        """Build both clients now (no network I/O), so the first call pays no setup.

        A component calls this from its constructor. Settings a client refuses (no
        key yet) are left for the first call to report, as before.
        """
        try:
            self.sync()
            self.async_()
        except DifyConfigError:
            pass

    @property
    def client(self) -> S | None:
        """The sync client in use (injected or built), or None before the first build."""
        built = self._built.get("sync")
        injected: S | None = self.settings.client
        return injected if injected is not None else (built[1] if built else None)

    @property
    def async_client(self) -> A | None:
        """The async client in use (injected or built), or None before the first build."""
        built = self._built.get("async")
        injected: A | None = self.settings.async_client
        return injected if injected is not None else (built[1] if built else None)

    def _take(self, kind: str) -> list[Any]:
        with self._lock:
            built = self._built.pop(kind, None)
            clients, self._retired[kind] = self._retired[kind], []
        return [*clients, *([built[1]] if built else [])]

    def close(self) -> None:
        """Close the sync clients built here; the next call builds a new one."""
        for client in self._take("sync"):
            client.close()

    async def aclose(self) -> None:
        """Close every client built here, async and sync."""
        for client in self._take("async"):
            await client.aclose()
        self.close()

    def __copy__(self) -> Self:
        return type(self)(self._sync_factory, self._async_factory, self.settings)

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self.__copy__()

    def __reduce__(self) -> tuple[type[Self], tuple[Any, ...]]:
        # The unpickled copy builds its own clients: pools and the lock do not travel.
        return (type(self), (self._sync_factory, self._async_factory, self.settings))

    def __repr__(self) -> str:
        name = getattr(self._sync_factory, "__name__", "client")
        return f"LazyClients({name}, base_url={self.settings.base_url!r})"


class LazyClientsOwner(ClosingContext):
    """``close`` / ``aclose`` (and ``with`` / ``async with``) for a component's clients."""

    def _lazy_clients(self) -> LazyClients[Any, Any]:
        """The component's clients (subclasses say where they live)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the sync transport client this component built.

        Injected clients and ``httpx`` clients are never closed (you own them). Async
        clients need :meth:`aclose`. The component stays usable: the next call builds
        a new client.
        """
        self._lazy_clients().close()

    async def aclose(self) -> None:
        """Close every transport client this component built, async and sync.

        Injected clients and ``httpx`` clients are never closed (you own them).
        """
        await self._lazy_clients().aclose()

    def _owned_clients(
        self, attr: str, factories: tuple[Callable[..., S], Callable[..., A]], **named: Any
    ) -> LazyClients[S, A]:
        """A pydantic component's clients (in its ``attr``), told its current fields.

        ``named``: the settings its fields name otherwise than :class:`ClientSettings`.
        """
        clients: LazyClients[S, A] | None = getattr(self, attr)
        if clients is None:
            clients = LazyClients(*factories)
            setattr(self, attr, clients)
        same = ("base_url", "timeout", "max_retries", "deadline", "http_client", "max_connections")
        fields = {name: getattr(self, name) for name in ("api_key", *same)}
        fields["api_key"] = secret_value(fields["api_key"])
        clients.settings = ClientSettings(**fields, **named)
        return clients
