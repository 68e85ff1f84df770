"""`Stream` / `AsyncStream`: iterate Dify events, aggregate them, stop on abort.

The contract (errors at EOF, stop on abort, the drain of a stopped workflow, the
deadline) is docs/architecture.md, "Streams". Only reading and closing are written
here, once per I/O model; everything else is `StreamState` (``_stream_state.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import warnings
import weakref
from collections.abc import AsyncIterator, Coroutine, Generator, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from dify_transport._base_client import AsyncStop, Stop
from dify_transport._closing import AsyncClosing, Closing
from dify_transport._constants import LOGGER_NAME
from dify_transport._deadline import async_deadline
from dify_transport._drain import drain_async, drain_in_thread, release
from dify_transport._errors import APIError
from dify_transport._events import StreamEvent
from dify_transport._sse import SSEDecodeError
from dify_transport._stopping import bounded_stop, bounded_sync_stop, close_later, shielded, spawn
from dify_transport._stream_state import StreamState, shutdown_socket
from dify_transport.types import Result

if TYPE_CHECKING:  # named as strings in the base classes (they import this module)
    from dify_transport._async._resume import AsyncResumer  # noqa: F401
    from dify_transport._sync._resume import Resumer  # noqa: F401

__all__ = ["AsyncStream", "Stream"]

_log = logging.getLogger(LOGGER_NAME)


class Stream(StreamState[Stop, "Resumer"], Closing):
    """A synchronous Dify event stream.

    Leaving a ``for`` loop early (``break``, an exception, KeyboardInterrupt), ``close()``
    or the end of a ``with`` block stops the Dify task (see `close`); `final()` then
    returns the partial answer with ``finish_reason="stopped"``.

    Example:
        ```python
        with client.stream_chat("Hi", user="u1") as stream:
            for event in stream:
                if event.text:
                    print(event.text, end="")
        result = stream.final()
        ```
    """

    def _start(self) -> None:
        self._chunks: Iterator[bytes] | None = None
        self._reader: int | None = None
        self._timer: threading.Timer | None = None
        if self._expires is not None:
            # A stall (no bytes at all) is cut at the deadline by shutting the socket down.
            wait = max(self._expires - time.monotonic(), 0.0)
            self._timer = threading.Timer(wait, _expire, args=(weakref.ref(self),))
            self._timer.daemon = True
            self._timer.start()
        self._iterator = self._events()

    def _events(self) -> Generator[StreamEvent, None, None]:
        take = self._event
        expires = self._expires
        self._reader = threading.get_ident()
        try:
            while True:  # once per connection (a dropped run stream is resumed)
                response = self.response
                feed = self._decoder.feed
                chunks = response.iter_raw() if self._raw_ok() else response.iter_bytes()
                self._chunks = chunks
                try:
                    for chunk in chunks:
                        for data in self._fresh(feed(chunk)):
                            yield take(data)
                        if expires is not None:
                            self._check_deadline()
                    if self._closed:
                        return  # closed from another thread: the socket was shut down
                    self._check_deadline()
                    tail = self._decoder.flush()
                except (httpx.TransportError, SSEDecodeError) as exc:
                    if self._closed:
                        return  # closed from another thread while a read was waiting
                    if self._resumes_after(exc):
                        self._reconnect(exc)
                        continue
                    tail = []
                for data in self._fresh(tail):
                    yield take(data)
                if not self._resumable(None):
                    break
                self._reconnect(None)
            if self.resumed and self._resume is not None:
                with self._attaching():
                    self._resume.complete(self._acc)
            self._judge_end()
        except BaseException as exc:
            self._error = exc if isinstance(exc, APIError) else None
            raise
        finally:
            self.close()

    def _reconnect(self, exc: BaseException | None) -> None:
        """Resume from the run's events endpoint (`ReconnectError` when it cannot)."""
        assert self._resume is not None  # _resumable checked it
        with contextlib.suppress(Exception):
            self.response.close()
        with self._attaching():
            response = self._resume.reopen(self._acc.workflow_run_id or "", exc)
        self._resumed_on(response)

    def __iter__(self) -> Iterator[StreamEvent]:
        return self._guarded()

    def _guarded(self) -> Iterator[StreamEvent]:
        try:
            yield from self._iterator
        finally:
            self.close()

    def __next__(self) -> StreamEvent:
        return next(self._iterator)

    def final(self) -> Result:
        """Read to EOF and return the aggregate.

        Returns:
            The `Result` with answer, ids, usage, resources, thoughts and files. After
            the stream was closed early, the partial result (``finish_reason="stopped"``).

        Raises:
            APIError: The typed error of an in-stream failure, a dropped connection or
                a missing terminal event (with ``partial_answer`` and ids).
        """
        for _ in self._iterator:
            pass
        return self._outcome()

    def close(self) -> None:
        """Stop reading. If the stream did not finish, call the stop endpoint once.

        The response is closed first (so a small connection pool cannot stall the stop
        call); the stop call is best effort and bounded to ``STOP_TIMEOUT`` in total.
        A workflow (or chatflow) stream is the exception: it stays open during the stop
        call and a daemon thread reads it on until ``workflow_finished`` (at most
        ``STOP_DRAIN_TIMEOUT``), so Dify records the run as stopped; this call returns
        once the stop was sent.

        ``close()`` may come from another thread (a "Stop generating" button): over a
        real socket the connection is shut down, so a read blocked in the reading thread
        returns at once and its loop ends quietly (no drain then). In-process transports
        (``httpx.MockTransport``) have no socket; there the reader wakes at its next
        chunk or timeout.
        """
        if self._closed:
            return
        stop = self._begin_close()
        if self._timer is not None:
            self._timer.cancel()
        draining = self._drains(stop)
        try:
            try:
                self._iterator.close()
            except ValueError:  # the generator is running: its own cleanup, or another thread
                if self._reader is not None and self._reader != threading.get_ident():
                    draining = False
                    shutdown_socket(self.response)
            if not draining:
                self.response.close()
        finally:
            if stop is not None:
                bounded_sync_stop(*stop)
            if draining:
                drain_in_thread(self._chunks, self._decoder, self.response)

    def __del__(self) -> None:
        """A stream dropped unclosed releases its pooled connection (``ResourceWarning``).

        Only the response is closed here (no stop call from a finalizer): without this
        every dropped stream would hold a pool slot until ``PoolTimeout``.
        """
        if self._closed or self.response.is_closed:
            return
        warnings.warn(
            f"{self!r} was dropped unclosed; its connection is released now. Use "
            "`with client.stream_chat(...) as stream:` or call stream.close()",
            ResourceWarning,
            stacklevel=2,
        )
        with contextlib.suppress(Exception):
            self.response.close()
        if self._timer is not None:
            self._timer.cancel()

    def _on_deadline(self) -> None:
        """The deadline timer: unblock a reader stalled on a silent socket."""
        if not self._closed and not self.response.is_closed:
            shutdown_socket(self.response)


class AsyncStream(StreamState[AsyncStop, "AsyncResumer"], AsyncClosing):
    """An asynchronous Dify event stream.

    ``async for`` reads events as they arrive; ``aclose()``, the end of an ``async with``
    block, task cancellation and read errors stop the Dify task (see `aclose`); `final()`
    and further reads then return the partial answer with ``finish_reason="stopped"``.

    Leaving ``async for`` early: Python runs no async cleanup on a bare ``break``, so
    use ``async with`` or ``await stream.aclose()`` after it. The stream still helps:
    the iterator ``async for`` uses is a plain object (no async generator), and when it
    is dropped mid-stream (CPython does this at the ``break``), reading stops at once
    and the close and stop are scheduled on the running loop; the next ``aclose()``,
    ``final()`` or ``async with`` exit waits for them. A stream that is dropped without
    being closed has its stop scheduled the same way when it is garbage-collected
    (only while its event loop still runs).

    Example:
        ```python
        async with await client.stream_chat("Hi", user="u1") as stream:
            async for event in stream:
                if event.text:
                    print(event.text, end="")
                if done_enough():
                    break  # the ``async with`` exit awaits the stop call
        result = await stream.final()  # partial, finish_reason="stopped" after a break
        ```
    """

    def _start(self) -> None:
        self._chunks: AsyncIterator[bytes] | None = None
        self._pending: list[dict[str, Any]] = []
        self._pos = 0
        self._flushed = False
        self._closing: asyncio.Task[None] | None = None
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    # -- reading ------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return _AsyncEvents(self)

    async def __anext__(self) -> StreamEvent:
        """The next event (``StopAsyncIteration`` at EOF or once closed)."""
        if self._closed:
            raise StopAsyncIteration
        try:
            pending = self._pending
            pos = self._pos
            if pos < len(pending):
                data = pending[pos]
                self._pos = pos + 1
            else:
                data = await self._next_data()
            return self._event(data)
        except StopAsyncIteration:
            await self.aclose()
            raise
        except BaseException as exc:
            if self.closed and isinstance(exc, APIError):
                # Closed by us (``aclose()`` from another task) while a read was waiting.
                raise StopAsyncIteration from None
            self._error = exc if isinstance(exc, APIError) else None
            await self.aclose()
            raise

    async def _next_data(self) -> dict[str, Any]:
        """Read until the decoder yields an event; judge the stream at EOF."""
        while True:
            data = await self._read_data()
            if data is not None:
                return data
            if not self._resumable(None):
                break
            await self._reconnect(None)
        if self.resumed and self._resume is not None:
            with self._attaching():
                await self._resume.complete(self._acc)
        self._judge_end()
        raise StopAsyncIteration

    async def _read_data(self) -> dict[str, Any] | None:
        """The next event of the current connection (None at its EOF); resumes on a drop."""
        chunks = self._chunks
        if chunks is None:
            response = self.response
            chunks = response.aiter_raw() if self._raw_ok() else response.aiter_bytes()
            self._chunks = chunks
        feed = self._decoder.feed
        while not self._flushed:
            try:
                try:
                    self._reading = True
                    if self._expires is None:
                        chunk = await chunks.__anext__()
                    else:
                        chunk = await self._read_by_deadline(chunks)
                except StopAsyncIteration:
                    self._pending = self._decoder.flush()
                    self._flushed = True
                else:
                    self._pending = feed(chunk)
                finally:
                    self._reading = False
            except (httpx.TransportError, SSEDecodeError) as exc:
                if self._resumes_after(exc):
                    await self._reconnect(exc)
                    return await self._read_data()
                self._pending = []
                self._flushed = True
            self._pending = self._fresh(self._pending)
            self._pos = 0
            if self._pending:
                self._pos = 1
                return self._pending[0]
        return None

    async def _reconnect(self, exc: BaseException | None) -> None:
        """Resume from the run's events endpoint (`ReconnectError` when it cannot)."""
        assert self._resume is not None  # _resumable checked it
        await self._release()
        with self._attaching():
            response = await self._resume.reopen(self._acc.workflow_run_id or "", exc)
        self._resumed_on(response)
        self._chunks = None
        self._flushed = False
        self._pending = []
        self._pos = 0

    async def _read_by_deadline(self, chunks: AsyncIterator[bytes]) -> bytes:
        """The next chunk, or ``APITimeoutError`` (partial answer attached) at the deadline."""
        self._check_deadline()
        try:
            async with async_deadline(None if self._acc.terminal else self._expires):
                return await chunks.__anext__()
        except TimeoutError:
            raise self._deadline_error() from None

    async def final(self) -> Result:
        """Read to EOF and return the aggregate (as `Stream.final` does)."""
        while True:
            try:
                await self.__anext__()
            except StopAsyncIteration:
                break
        await self._settle()
        return self._outcome()

    # -- closing ------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop reading. If the stream did not finish, call the stop endpoint once.

        As `Stream.close` (a workflow stream is drained by a background task), with the
        stop call shielded from cancellation. If a dropped iterator already scheduled
        the close, this waits for it.
        """
        if self._closed:
            await self._settle()
            return
        stop = self._begin_close()
        draining = self._drains(stop)
        try:
            if not draining:
                await self._release()
        finally:
            if stop is not None:
                await shielded(bounded_stop(*stop))
            if draining:
                spawn(drain_async(self._chunks, self._decoder, self.response))

    async def _release(self) -> None:
        await release(self.response, self._chunks)

    async def _settle(self) -> None:
        """Wait for a close scheduled by a dropped iterator (shielded)."""
        task = self._closing
        if task is not None and not task.done():
            await asyncio.shield(task)

    def _abandon(self) -> None:
        """Close without awaiting: schedule the response close and the stop on the loop."""
        if self._closed:
            return
        stop = self._begin_close()
        if self.response.is_closed and stop is None:
            return
        decoder = self._decoder if self._drains(stop) else None
        coro = close_later(self.response, self._chunks, stop, decoder)
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        loop = self._loop or running
        try:
            if loop is None or loop.is_closed():
                raise RuntimeError("no event loop to stop the stream on")
            if loop is running:
                self._closing = spawn(coro)
            else:
                loop.call_soon_threadsafe(spawn, coro)
        except RuntimeError:
            coro.close()
            _log.debug("dify stream dropped with no running loop; stop not sent")

    def __del__(self) -> None:
        # Last resort for a stream that is dropped unclosed: schedule the stop.
        if getattr(self, "_closed", True):
            return
        with contextlib.suppress(Exception):
            self._abandon()


class _AsyncEvents:
    """What ``async for`` iterates: forwards to the stream, closes it when dropped early."""

    __slots__ = ("_stream",)

    def __init__(self, stream: AsyncStream) -> None:
        self._stream = stream

    def __aiter__(self) -> _AsyncEvents:
        return self

    def __anext__(self) -> Coroutine[Any, Any, StreamEvent]:
        return self._stream.__anext__()

    def __del__(self) -> None:
        stream = self._stream
        if not stream._closed:
            with contextlib.suppress(Exception):
                stream._abandon()


def _expire(ref: weakref.ref[Stream]) -> None:
    stream = ref()
    if stream is not None:
        stream._on_deadline()
