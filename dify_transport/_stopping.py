"""Stopping a Dify task and closing an abandoned stream: bounded, best effort, in the background.

Used by ``_streaming.py``: the stop call is bounded to ``STOP_TIMEOUT``; an async close
that cannot be awaited runs as a task kept alive in ``_BACKGROUND``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import httpx

from dify_transport._base_client import AsyncStop, Stop
from dify_transport._constants import LOGGER_NAME, STOP_TIMEOUT
from dify_transport._drain import drain_async, release
from dify_transport._sse import SSEDecoder

__all__ = ["bounded_stop", "bounded_sync_stop", "close_later", "shielded", "spawn"]

_log = logging.getLogger(LOGGER_NAME)
_BACKGROUND: set[asyncio.Task[None]] = set()


def spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """Run ``coro`` as a task that is kept alive until it ends."""
    task = asyncio.ensure_future(coro)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return task


def bounded_sync_stop(stop: Stop, task_id: str) -> None:
    """Send the stop on a daemon thread and wait for it at most ``STOP_TIMEOUT``.

    httpx has no overall deadline (each phase has its own timeout); failures are
    logged at DEBUG, never raised: a failed stop must not mask anything.
    """

    def send() -> None:
        try:
            stop(task_id)
        except Exception:  # noqa: BLE001 - best effort
            _log.debug("dify stop call failed", exc_info=True)

    worker = threading.Thread(target=send, name="dify-stop", daemon=True)
    worker.start()
    worker.join(STOP_TIMEOUT)
    if worker.is_alive():
        _log.debug("dify stop call still running after %.1fs; not waiting", STOP_TIMEOUT)


async def bounded_stop(stop: AsyncStop, task_id: str) -> None:
    try:
        await asyncio.wait_for(stop(task_id), STOP_TIMEOUT)
    except Exception:  # noqa: BLE001 - best effort
        _log.debug("dify stop call failed", exc_info=True)


async def shielded(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` as a task and wait for it; cancelling the waiter leaves it running."""
    await asyncio.shield(spawn(coro))


async def close_later(
    response: httpx.Response,
    chunks: AsyncIterator[bytes] | None,
    stop: tuple[AsyncStop, str] | None,
    decoder: SSEDecoder | None = None,
) -> None:
    """Close an abandoned stream and stop its task (a workflow: stop, then drain apart)."""
    if decoder is not None and stop is not None:
        await bounded_stop(*stop)
        spawn(drain_async(chunks, decoder, response))
        return
    try:
        await release(response, chunks)
    except Exception:  # noqa: BLE001 - best effort
        _log.debug("closing an abandoned dify stream failed", exc_info=True)
    if stop is not None:
        await bounded_stop(*stop)
