"""What the sync and async connection pools share: the limit, its split, one TLS context.

Why a client holds several pools: docs/architecture.md, "Connection pools". The TLS
context is built once per process and per ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``.
"""

from __future__ import annotations

import os
import ssl
import threading
import urllib.request

import httpx

from dify_transport._constants import DEFAULT_MAX_CONNECTIONS, POOL_SHARD_SIZE
from dify_transport._errors import DifyConfigError

__all__ = [
    "checked_max_connections",
    "env_proxied",
    "pool_limits",
    "shard_sizes",
    "tls_context",
]

_KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle pooled connection is kept (httpx's default)."""
_tls_lock = threading.Lock()
_tls: dict[tuple[str | None, str | None], ssl.SSLContext] = {}


def checked_max_connections(value: int | None) -> int:
    """``max_connections`` as given (None: the default); anything below 1 is a config error."""
    if value is None:
        return DEFAULT_MAX_CONNECTIONS
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DifyConfigError(
            f"max_connections must be an int >= 1 (got {value!r}); it is how many "
            f"connections the client may open at once (default {DEFAULT_MAX_CONNECTIONS})"
        )
    return value


def shard_sizes(max_connections: int, shard_size: int = POOL_SHARD_SIZE) -> list[int]:
    """Split ``max_connections`` into near-equal pools of at most ``shard_size``."""
    count = -(-max_connections // shard_size)
    base, extra = divmod(max_connections, count)
    return [base + 1 if i < extra else base for i in range(count)]


def pool_limits(max_connections: int) -> httpx.Limits:
    """The limits of one httpx pool: every connection may stay alive while idle (5 s)."""
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=_KEEPALIVE_EXPIRY,
    )


def tls_context() -> ssl.SSLContext:
    """The verifying TLS context httpx would build (certifi, or ``$SSL_CERT_FILE``/``DIR``).

    Built once per process and per value of those variables, then shared.
    """
    key = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    with _tls_lock:
        ctx = _tls.get(key)
        if ctx is None:
            ctx = _tls[key] = httpx.create_ssl_context()
        return ctx


def env_proxied() -> bool:
    """Whether the environment names an HTTP proxy (httpx then mounts its own pools)."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))
