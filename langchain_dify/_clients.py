"""Transport clients of the LangChain pydantic components (the lifecycle is the transport's).

``ChatDify`` and the retrievers are pydantic models: ``model_copy(update=...)`` and
attribute assignment can change ``api_key``, ``base_url`` and the other client
settings after a client was built. :class:`ClientOwner` hands its current fields to
a :class:`~dify_transport._lifecycle.LazyClients` on every use, which builds a new
client when they differ, and gives every copy of a model its own clients (a copy
never shares, nor closes, the original's connection pool). A pickled component
unpickles with no clients built.

Only clients built here are closed: an injected ``httpx`` client is passed through
to the transport, which never closes a client it was given. ``close()`` /
``aclose()`` and ``with`` / ``async with`` close what was built.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from dify_transport import AsyncDifyClient, AsyncHttpClient, DifyClient, HttpClient, TimeoutTypes
from dify_transport._closing import ClosingContext
from dify_transport._lifecycle import ClientSettings, LazyClients, LazyClientsOwner, secret_value

__all__ = ["ClientOwner", "ClientSettings", "ClosingContext", "LazyClients", "secret_value"]

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


class ClientOwner(LazyClientsOwner, BaseModel):
    """Base for components that hold transport clients built from their own fields.

    It declares the connection fields every component shares (timeout, retries,
    deadline, injected httpx clients, connection limit).
    """

    _client_factories: ClassVar[tuple[Callable[..., Any], Callable[..., Any]]] = (
        DifyClient,
        AsyncDifyClient,
    )
    _dify_clients: LazyClients[Any, Any] | None = PrivateAttr(default=None)

    model_config = ConfigDict(arbitrary_types_allowed=True)

    if TYPE_CHECKING:  # each component declares its key (app or dataset) and base_url
        api_key: SecretStr | None
        base_url: str

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
