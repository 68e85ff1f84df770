"""Deadlines: a call's total time limit (``deadline=``), and the loop an async pool is bound to.

How a deadline bounds calls and streams: docs/architecture.md, "Streams".
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Iterator

import httpx

from dify_transport._errors import APITimeoutError, DifyConfigError

__all__ = [
    "async_deadline",
    "cap_timeout",
    "checked_deadline",
    "current_async_loop",
    "deadline_error",
    "no_loop",
    "remaining",
    "sync_deadline",
]


def current_async_loop() -> object | None:
    """The running event loop (an async client's pool is bound to it); None outside one."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def no_loop() -> object | None:
    """The sync twin of ``current_async_loop``: a sync pool is bound to no loop."""
    return None


def remaining(expires: float | None) -> float | None:
    """Seconds left before ``expires`` (a ``time.monotonic()`` instant); None: no deadline."""
    return None if expires is None else expires - time.monotonic()


@contextlib.asynccontextmanager
async def async_deadline(expires: float | None) -> AsyncIterator[None]:
    """Cancel the awaited work at ``expires`` (``TimeoutError``); no-op without a deadline."""
    if expires is None:
        yield
    else:
        async with asyncio.timeout(max(expires - time.monotonic(), 0.0)):
            yield


@contextlib.contextmanager
def sync_deadline(expires: float | None) -> Iterator[None]:  # noqa: ARG001 - twin's signature
    """The sync twin of ``async_deadline``: a no-op.

    A sync call is bounded by its per-phase timeouts, which ``cap_timeout`` shortens
    to the time left (a sync stream also has a timer that shuts its socket down).
    """
    yield


def cap_timeout(request: httpx.Request, expires: float | None) -> None:
    """Shorten every phase timeout of ``request`` to the time left before ``expires``."""
    left = remaining(expires)
    if left is None:
        return
    left = max(left, 0.001)
    phases = request.extensions.get("timeout") or {}
    request.extensions["timeout"] = {
        phase: left if value is None else min(value, left)
        for phase, value in {
            "connect": None,
            "read": None,
            "write": None,
            "pool": None,
            **phases,
        }.items()
    }


def deadline_error(deadline: float, where: str, request: httpx.Request | None) -> APITimeoutError:
    """The ``APITimeoutError`` of a call whose total ``deadline`` (seconds) passed."""
    return APITimeoutError(
        f"The deadline of {deadline:g} s passed {where}; pass a larger deadline=... "
        "(or none) to allow more time",
        request=request,
    )


def checked_deadline(value: float | None, name: str = "deadline") -> float | None:
    """A deadline in seconds (positive and finite) or None; anything else is a config error."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise DifyConfigError(f"{name} must be a positive number of seconds or None, got {value!r}")
    return seconds
