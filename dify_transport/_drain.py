"""Reading a stopped workflow stream on until ``workflow_finished``, then closing it.

Why (Dify records a stopped run only while its stream is read): docs/architecture.md,
"Streams". Sync streams drain on a daemon thread, async ones in a background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx

from dify_transport._constants import LOGGER_NAME, STOP_DRAIN_TIMEOUT
from dify_transport._sse import SSEDecoder
from dify_transport._stream_state import is_workflow_end, shutdown_socket

__all__ = ["drain_async", "drain_in_thread", "release"]

_log = logging.getLogger(LOGGER_NAME)


def drain_in_thread(
    chunks: Iterator[bytes] | None, decoder: SSEDecoder, response: httpx.Response
) -> None:
    """Read a stopped workflow stream on a daemon thread until ``workflow_finished``."""

    def read() -> None:
        cut = threading.Timer(STOP_DRAIN_TIMEOUT, shutdown_socket, args=(response,))
        cut.daemon = True
        cut.start()
        end = time.monotonic() + STOP_DRAIN_TIMEOUT
        try:
            for chunk in chunks or ():
                if is_workflow_end(decoder.feed(chunk)) or time.monotonic() >= end:
                    break
        except Exception:  # noqa: BLE001 - best effort
            _log.debug("reading a stopped dify workflow stream failed", exc_info=True)
        finally:
            cut.cancel()
            with contextlib.suppress(Exception):
                response.close()

    threading.Thread(target=read, name="dify-stop-drain", daemon=True).start()


async def release(response: httpx.Response, chunks: AsyncIterator[bytes] | None) -> None:
    """Close a stream's chunk iterator, then its response."""
    closer = getattr(chunks, "aclose", None)
    if closer is not None:
        with contextlib.suppress(Exception):  # e.g. "already running" in another task
            await closer()
    await response.aclose()


async def drain_async(
    chunks: AsyncIterator[bytes] | None, decoder: SSEDecoder, response: httpx.Response
) -> None:
    """Read a stopped workflow stream until ``workflow_finished`` (a background task)."""
    try:
        async with asyncio.timeout(STOP_DRAIN_TIMEOUT):
            while chunks is not None:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                if is_workflow_end(decoder.feed(chunk)):
                    break
    except Exception:  # noqa: BLE001 - best effort (TimeoutError included)
        _log.debug("reading a stopped dify workflow stream failed", exc_info=True)
    finally:
        with contextlib.suppress(Exception):
            await release(response, chunks)
