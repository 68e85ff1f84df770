"""Transport clients of the LangChain pydantic components.

:class:`ClientOwner` hands its current fields (changed by ``model_copy(update=...)`` or
assignment) to a :class:`~dify_transport._lifecycle.LazyClients` on every use (the
lifecycle: docs/architecture.md, "Client lifecycle").
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from langchain_core.utils import from_env, secret_from_env
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from dify_transport import (
    DEFAULT_BASE_URL,
    DEFAULT_USER,
    AsyncDifyClient,
    AsyncHttpClient,
    DifyClient,
    HttpClient,
    TimeoutTypes,
)
from dify_transport._closing import ClosingContext
from dify_transport._lifecycle import ClientSettings, LazyClients, LazyClientsOwner, secret_value

__all__ = [
    "AppClientOwner",
    "ClientOwner",
    "ClientSettings",
    "ClosingContext",
    "LazyClients",
    "TransportClients",
    "secret_value",
]

S = TypeVar("S")
A = TypeVar("A")

_FIRST_CALL_MODULES = (
    "langchain_core.env",
    "langchain_core.messages.block_translators.langchain_v0",
    "langchain_core.tracers.context",
    "langchain_core.tracers.langchain",
    "langchain_core.tracers.run_collector",
    "langchain_core.tracers.stdout",
    "langsmith.run_helpers",
)
"""What langchain-core imports lazily on a model's first call (tens of ms): imported by
the first constructor instead, so the first ``stream`` is as quick as the next."""


def _import_first_call_modules() -> None:
    for name in _FIRST_CALL_MODULES:
        if name not in sys.modules:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)


class TransportClients(LazyClientsOwner, Generic[S, A]):
    """``client`` / ``async_client`` (``S`` sync, ``A`` async) and ``close`` / ``aclose``."""

    @property
    def client(self) -> S:
        """The sync transport client, for every other Dify endpoint (built on first use)."""
        client: S = self._lazy_clients().sync()
        return client

    @property
    def async_client(self) -> A:
        """The async transport client (built on first use, rebuilt when settings change)."""
        client: A = self._lazy_clients().async_()
        return client

    _client = client
    _async_client = async_client


class ClientOwner(BaseModel, TransportClients[S, A]):
    """Base for components holding transport clients (``S`` sync, ``A`` async).

    They are built from the connection fields every component shares, declared here
    (base URL, timeout, retries, deadline, injected httpx clients, connection limit),
    plus the component's key.
    """

    _client_factories: ClassVar[tuple[Callable[..., Any], Callable[..., Any]]] = (
        DifyClient,
        AsyncDifyClient,
    )
    _dify_clients: LazyClients[Any, Any] | None = PrivateAttr(default=None)

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    if TYPE_CHECKING:  # each component declares its key (app or dataset)
        api_key: SecretStr | None

    base_url: str = Field(default_factory=from_env("DIFY_BASE_URL", default=DEFAULT_BASE_URL))
    """Service API root ending in ``/v1``; ``$DIFY_BASE_URL``, else Dify Cloud."""

    timeout: TimeoutTypes = None
    """Read timeout in seconds (or an ``httpx.Timeout``); None keeps the SSE-friendly default
    (60 s between reads, 5 s to connect)."""

    max_retries: int = 2
    """Retries for failures that are safe to retry (a turn or run is never sent twice)."""

    deadline: float | None = None
    """Total seconds for each call to Dify, retries and the whole stream included; when it
    passes mid-answer the call raises (``APITimeoutError`` / a langchain ``Model*Error``
    carrying the partial answer) and the Dify task is stopped. None: only ``timeout``
    (the gap between reads) bounds a call."""

    http_client: HttpClient | None = Field(default=None, exclude=True)
    """An ``httpx.Client`` to send requests with (you own and close it)."""

    http_async_client: AsyncHttpClient | None = Field(default=None, exclude=True)
    """An ``httpx.AsyncClient`` for the async methods (you own and close it)."""

    max_connections: int | None = Field(default=None, ge=1)
    """Connections (so concurrent streams) each client built here may open; None: the
    transport default, 1,000. A call that finds them all busy for the timeout's ``pool``
    phase raises ``PoolTimeoutError`` (nothing is sent). An injected ``http_client``
    keeps its own limits."""

    def _lazy_clients(self) -> LazyClients[Any, Any]:
        """The clients, told the current settings (a changed field builds new ones)."""
        factories = self._client_factories
        return self._owned_clients(
            "_dify_clients", factories, async_http_client=self.http_async_client
        )

    @model_validator(mode="after")
    def _build_clients_now(self) -> Self:
        """Build the clients at construction (no I/O): the first call pays no setup."""
        self._lazy_clients().prebuild()
        _import_first_call_modules()
        return self

    def __copy__(self) -> Self:
        copied = super().__copy__()
        copied._dify_clients = None  # never share (or close) the original's pool
        return copied


class AppClientOwner(ClientOwner[DifyClient, AsyncDifyClient]):
    """Base for the components of one Dify app: its key and the end user it acts for."""

    api_key: SecretStr | None = Field(
        default_factory=secret_from_env("DIFY_API_KEY", default=None), repr=False
    )
    """The app's API key (``app-...``); read from ``$DIFY_API_KEY`` if not given.

    A missing key is reported at the first request, not at construction."""

    user: str = Field(default_factory=from_env("DIFY_USER", default=DEFAULT_USER))
    """End-user id that scopes conversations, runs, files and stops on the server.

    ``$DIFY_USER``, else ``"dify-integrations"`` (the same default as the LlamaIndex
    classes, so either framework sees the other's conversations). Reading a
    conversation back (history, ``DifyChatMessageHistory``) needs the same user that
    created it."""
