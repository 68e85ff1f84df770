"""The retry policy: which failure may be retried for which request, and how long to wait.

The table is docs/architecture.md, "Retries": a request that may have created paid work
is never sent twice, a stream never retried after its first byte, a pool timeout raised.
``sleep`` and ``async_sleep`` are module attributes so tests can replace them.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime

import httpx

from dify_transport._constants import INITIAL_RETRY_DELAY, MAX_RETRY_AFTER, MAX_RETRY_DELAY

__all__ = [
    "NEVER_CONNECTED",
    "QUOTA_EXCEEDED",
    "async_sleep",
    "backoff_delay",
    "parse_retry_after",
    "retryable_exception",
    "retryable_status",
    "sleep",
]

sleep: Callable[[float], None] = time.sleep
"""Blocking sleep used between retries (replace in tests)."""

async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
"""Async sleep used between retries (replace in tests)."""

NEVER_CONNECTED: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
"""Failures that prove the request never reached the server."""

_RETRY_STATUSES = frozenset({408, 429})
QUOTA_EXCEEDED = "rate_limit_error"
"""The 429 code of a used-up Dify Cloud quota (``too_many_requests`` is concurrency)."""


def retryable_status(status_code: int, *, idempotent: bool, code: str | None = None) -> bool:
    """Decide whether an error status may be retried.

    Args:
        status_code: The HTTP status.
        idempotent: Whether the request may safely be repeated.
        code: Dify's error code, if any.

    Returns:
        True for 429 (a concurrency limit), except ``rate_limit_error`` (a used-up quota
        that waiting does not clear); for idempotent requests also 408 and 5xx.
    """
    if status_code == 429:
        return code != QUOTA_EXCEEDED
    if not idempotent:
        return False
    return status_code in _RETRY_STATUSES or status_code >= 500


def retryable_exception(exc: BaseException, *, idempotent: bool) -> bool:
    """Decide whether a transport failure (before a response) may be retried.

    Args:
        exc: The ``httpx`` exception.
        idempotent: Whether the request may safely be repeated.

    Returns:
        True when retrying cannot duplicate work.
    """
    if isinstance(exc, httpx.PoolTimeout):
        return False  # every connection stayed busy for the whole wait: say so at once
    if isinstance(exc, NEVER_CONNECTED):
        return True
    return idempotent and isinstance(exc, httpx.TransportError)


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """The one reader of ``retry-after-ms`` and ``Retry-After`` (seconds or an HTTP date).

    Args:
        headers: Response headers.

    Returns:
        Seconds to wait, at least 0 and capped at ``MAX_RETRY_AFTER``; None when the
        headers are absent or hold nothing usable (unparsable, NaN, infinite), so the
        normal backoff applies.
    """
    seconds = _seconds(headers.get("retry-after-ms"), scale=1000.0)
    if seconds is None:
        seconds = _seconds(headers.get("retry-after"), scale=1.0)
    if seconds is None:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _seconds(raw: str | None, *, scale: float) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw) / scale
    except ValueError:
        if scale != 1.0:
            return None
        try:
            value = parsedate_to_datetime(raw).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return value if math.isfinite(value) else None


def backoff_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based).

    Args:
        attempt: How many retries were made already.
        retry_after: The server's ``Retry-After``, which wins when given.

    Returns:
        ``retry_after`` (capped) or 0.5 s x 2^attempt capped at 8 s, with up to 25 %
        jitter taken off.
    """
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER)
    delay = min(INITIAL_RETRY_DELAY * (2.0**attempt), MAX_RETRY_DELAY)
    return delay * (1.0 - 0.25 * random.random())  # noqa: S311 - jitter, not crypto
