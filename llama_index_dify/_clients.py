"""Transport clients of the LlamaIndex components (the lifecycle itself is the transport's).

Components hold a :class:`~dify_transport._lifecycle.LazyClients`: the pydantic ones
build their clients in their constructor (no I/O; a missing key waits for the first
call), the others when a client is first asked for; after that the same client (and its
connection pools) is reused. Injected clients and ``httpx`` clients are
used as given and never closed here: the caller owns them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Self, TypedDict, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from dify_transport import (
    DEFAULT_BASE_URL,
    DEFAULT_USER,
    AsyncDifyClient,
    AsyncDifyKnowledgeClient,
    AsyncHttpClient,
    DifyClient,
    DifyKnowledgeClient,
    HttpClient,
)
from dify_transport._constants import ENV_API_KEY, ENV_BASE_URL, ENV_USER
from dify_transport._lifecycle import ClientSettings, LazyClients, LazyClientsOwner

__all__ = [
    "DEFAULT_USER",
    "AppClientsOwner",
    "ClientSettings",
    "ClientsOwner",
    "Connection",
    "LazyClients",
    "LazyClientsOwner",
    "connect",
    "default_user",
    "secret_from_env",
]


def default_user() -> str:
    """Return ``$DIFY_USER`` or :data:`DEFAULT_USER`."""
    return os.environ.get(ENV_USER) or DEFAULT_USER


def secret_from_env(name: str) -> SecretStr | None:
    """Return ``$name`` as a secret, or None when unset or empty."""
    value = os.environ.get(name)
    return SecretStr(value) if value else None


S = TypeVar("S", bound=DifyClient | DifyKnowledgeClient)
A = TypeVar("A", bound=AsyncDifyClient | AsyncDifyKnowledgeClient)


class Connection(TypedDict, Generic[S, A], total=False):
    """The connection keywords of the components that are not pydantic models.

    Each means what the :class:`AppClientsOwner` field of that name means
    (``client`` / ``async_client``: its ``injected_*`` fields), with the same default.
    """

    timeout: float | None
    max_retries: int
    deadline: float | None
    client: S | None
    async_client: A | None
    http_client: HttpClient | None
    async_http_client: AsyncHttpClient | None
    max_connections: int | None


def connect(
    factories: tuple[Callable[..., S], Callable[..., A]], options: Mapping[str, Any], where: str
) -> LazyClients[S, A]:
    """The lazy clients of ``api_key``, ``base_url`` and the :class:`Connection` keywords.

    Raises:
        TypeError: ``options`` holds a keyword ``where`` (the callable's name) does not take.
    """
    allowed = Connection.__optional_keys__ | {"api_key", "base_url"}
    unknown = [key for key in options if key not in allowed]  # reported in call order
    if unknown:
        msg = f"{where}() got an unexpected keyword argument {unknown[0]!r}"
        raise TypeError(msg)
    return LazyClients(*factories, ClientSettings(**options))


class ClientsOwner(LazyClientsOwner, Generic[S, A]):
    """``client`` / ``async_client`` (and ``close`` / ``with``) over a component's clients."""

    if TYPE_CHECKING:
        _clients: Any  # built by the constructor

    def _lazy_clients(self) -> LazyClients[S, A]:
        clients: LazyClients[S, A] = self._clients
        return clients

    @property
    def client(self) -> S:
        """The sync transport client (the injected one, else built on first use).

        For every Dify endpoint the component does not wrap (``client=`` at
        construction injects one).
        """
        return self._lazy_clients().sync()

    @property
    def async_client(self) -> A:
        """The async transport client (the injected one, else built on first use)."""
        return self._lazy_clients().async_()


class AppClientsOwner(BaseModel, ClientsOwner[DifyClient, AsyncDifyClient]):
    """Base for pydantic components whose app-key clients are built from their fields.

    It declares, once, the fields every app component shares: the key, the service
    root, the end user and the connection settings. A changed field builds new clients
    on the next call. A copy (``copy.copy``, ``copy.deepcopy``,
    ``model_copy(update=...)``, pickle) starts with no clients, so it builds its own
    from its own settings on first use; it never shares, nor closes, the original's
    connection pool.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    _clients: LazyClients[DifyClient, AsyncDifyClient] | None = PrivateAttr(default=None)

    api_key: SecretStr | None = Field(
        default_factory=lambda: secret_from_env(ENV_API_KEY),
        exclude=True,
        description="App key (`app-...`). Default: $DIFY_API_KEY. Never serialized.",
    )
    base_url: str = Field(
        default_factory=lambda: os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
        description="Service API root, ending in /v1. Default: $DIFY_BASE_URL, else Dify Cloud.",
    )
    user: str = Field(
        default_factory=default_user,
        description=(
            "End-user id Dify scopes conversations, history, files and stops by. "
            "Default: $DIFY_USER, else 'dify-integrations'."
        ),
    )
    timeout: float | None = Field(
        default=None,
        description="Seconds per request (read timeout; None: the transport's 60 s).",
    )
    max_retries: int = Field(
        default=2,
        ge=0,
        description="Retries for failures that cannot have reached the app twice.",
    )
    deadline: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Total seconds per call, retries and the whole stream included: when it passes, "
            "the call raises APITimeoutError with the partial answer and the Dify task is "
            "stopped (None: only `timeout`, the gap between reads, bounds a call)."
        ),
    )
    injected_client: DifyClient | None = Field(
        default=None,
        alias="client",
        exclude=True,
        description="`client=`: a ready transport client to use as is (`.client` reads it).",
    )
    injected_async_client: AsyncDifyClient | None = Field(
        default=None,
        alias="async_client",
        exclude=True,
        description="`async_client=`: a ready async transport client to use as is.",
    )
    http_client: HttpClient | None = Field(
        default=None,
        exclude=True,
        description="A caller-owned `httpx.Client` (or one with a custom transport).",
    )
    async_http_client: AsyncHttpClient | None = Field(
        default=None, exclude=True, description="A caller-owned `httpx.AsyncClient`."
    )
    max_connections: int | None = Field(
        default=None,
        ge=1,
        description="Connections (so concurrent streams) each client built here may open "
        "(None: 1,000); all busy for the pool timeout raises PoolTimeoutError. An "
        "injected http_client keeps its own limits.",
    )

    def _app_clients(self) -> LazyClients[DifyClient, AsyncDifyClient]:
        return self._owned_clients(
            "_clients",
            (DifyClient, AsyncDifyClient),
            async_http_client=self.async_http_client,
            client=self.injected_client,
            async_client=self.injected_async_client,
        )

    _lazy_clients = _app_clients

    @model_validator(mode="after")
    def _build_clients_now(self) -> Self:
        """Build the clients at construction (no I/O): the first call pays no setup."""
        self._app_clients().prebuild()
        return self

    def __copy__(self) -> Self:
        copied = super().__copy__()
        copied._clients = None
        return copied
