"""`Stream` / `AsyncStream`: iterate Dify events, aggregate them, stop on abort.

A stream yields `StreamEvent`s as they arrive (pings dropped, unknown events kept)
while folding them into a running aggregate. Reading to EOF raises the typed error
of an in-stream ``error`` event, `WorkflowFailedError` for a failed workflow,
`IncompleteStreamError` when no terminal event came, and `APIConnectionError` when
the connection drops; each carries the partial answer and ids. Leaving early
(``break``, ``close()``, ``with``, task cancellation, KeyboardInterrupt) calls the
matching stop endpoint once, with the stream's ``user``, bounded to ``STOP_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import Any

import httpx

from dify_transport._aggregate import StreamAccumulator
from dify_transport._constants import LOGGER_NAME, STOP_TIMEOUT
from dify_transport._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    IncompleteStreamError,
    WorkflowFailedError,
    error_from_event,
)
from dify_transport._events import StreamEvent
from dify_transport._sse import SSEDecodeError, SSEDecoder
from dify_transport.types import Result

__all__ = ["AsyncStream", "Stream"]

_log = logging.getLogger(LOGGER_NAME)
_BACKGROUND: set[asyncio.Task[None]] = set()


class _StreamState:
    """What the sync and async streams share: aggregate, error building, flags."""

    def __init__(
        self, response: httpx.Response, *, user: str | None, secret: str | None = None
    ) -> None:
        self.response = response
        """The underlying HTTP response (status 200, ``text/event-stream``)."""
        self.user = user
        """The ``user`` the stream was opened with (also used for the stop call)."""
        self._acc = StreamAccumulator()
        self._decoder = SSEDecoder()
        self._secret = secret
        self._eof = False
        self._closed = False
        self._stop_attempted = False
        self._error: BaseException | None = None
        self._debug = _log.isEnabledFor(logging.DEBUG)

    @property
    def answer(self) -> str:
        """Answer text so far (``message_replace`` replaces it)."""
        return self._acc.answer

    @property
    def task_id(self) -> str | None:
        """Task id, once the first event arrived."""
        return self._acc.task_id

    @property
    def conversation_id(self) -> str | None:
        """Conversation id (chat-family apps)."""
        return self._acc.conversation_id

    @property
    def message_id(self) -> str | None:
        """Message id."""
        return self._acc.message_id

    @property
    def workflow_run_id(self) -> str | None:
        """Workflow run id (workflow and chatflow apps)."""
        return self._acc.workflow_run_id

    @property
    def accumulator(self) -> StreamAccumulator:
        """The running aggregate (usage, metadata, files, thoughts so far)."""
        return self._acc

    @property
    def done(self) -> bool:
        """True once a terminal event was seen and EOF was reached."""
        return self._eof and self._acc.terminal

    def result(self) -> Result:
        """The aggregate so far as a `Result` (does not read further)."""
        return self._acc.result()

    def _raw_ok(self) -> bool:
        """True when raw bytes may be read: not yet buffered, no content encoding to undo."""
        if self.response.is_stream_consumed:
            return False
        encoding = self.response.headers.get("content-encoding", "identity").strip().lower()
        return encoding in ("", "identity")

    def _attach(self, err: APIError) -> APIError:
        acc = self._acc
        err._attach(
            partial_answer=acc.answer,
            conversation_id=acc.conversation_id,
            message_id=acc.message_id,
            task_id=acc.task_id,
        )
        return err

    def _event_error(self, data: dict[str, Any]) -> APIError:
        self._eof = True
        err = error_from_event(data, response=self.response, user=self.user, secret=self._secret)
        return self._attach(err)

    def _transport_error(self, exc: Exception) -> APIError:
        acc = self._acc
        where = f"after {len(acc.answer)} characters of answer" if acc.answer else "before any text"
        if isinstance(exc, httpx.TimeoutException):
            err: APIError = APITimeoutError(
                f"Timed out reading the Dify stream {where} ({type(exc).__name__}); raise "
                "the read timeout (timeout=...) if the app is slow to answer",
                request=_request_of(self.response),
            )
        elif isinstance(exc, SSEDecodeError):
            err = APIResponseValidationError(
                f"Dify sent an SSE frame that is not JSON {where}: {exc.payload[:120]!r}",
                request=_request_of(self.response),
            )
        else:
            err = APIConnectionError(
                f"The connection dropped while streaming {where} ({type(exc).__name__}); "
                "the answer is incomplete",
                request=_request_of(self.response),
            )
        return self._attach(err)

    def _end_error(self) -> APIError | None:
        """Judge the stream at EOF: None when it completed normally."""
        self._eof = True
        acc = self._acc
        if acc.workflow_failed:
            err: APIError = WorkflowFailedError(
                f"Workflow run {acc.workflow_run_id} failed: "
                f"{acc.workflow_error or 'no error text'}",
                workflow_run_id=acc.workflow_run_id,
                outputs=acc.outputs,
                request=_request_of(self.response),
                in_stream=True,
            )
            return self._attach(err)
        if not acc.terminal:
            err = IncompleteStreamError(
                "The Dify stream ended without message_end/workflow_finished "
                f"(after {len(acc.answer)} characters); the answer may be truncated",
                request=_request_of(self.response),
            )
            return self._attach(err)
        return None

    def _should_stop(self) -> bool:
        if self._stop_attempted or self._eof or self._acc.terminal:
            return False
        return self._acc.task_id is not None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(task_id={self.task_id!r}, chars={len(self.answer)}, "
            f"done={self.done})"
        )


def _request_of(response: httpx.Response) -> httpx.Request | None:
    try:
        return response.request
    except RuntimeError:
        return None


class Stream(_StreamState):
    """A synchronous Dify event stream.

    Example:
        ```python
        with client.stream_chat("Hi", user="u1") as stream:
            for event in stream:
                if event.text:
                    print(event.text, end="")
        result = stream.final()
        ```
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        user: str | None,
        stop: Callable[[str], None] | None = None,
        secret: str | None = None,
    ) -> None:
        super().__init__(response, user=user, secret=secret)
        self._stop = stop
        self._iterator = self._events()

    def _events(self) -> Generator[StreamEvent, None, None]:
        add = self._acc.add
        feed = self._decoder.feed
        debug = self._debug
        response = self.response
        chunks = response.iter_raw() if self._raw_ok() else response.iter_bytes()
        try:
            try:
                for chunk in chunks:
                    for data in feed(chunk):
                        event = add(data)
                        if debug:
                            _log.debug("dify event %s", event.event)
                        if event.event == "error":
                            raise self._event_error(data)
                        yield event
                tail = self._decoder.flush()
            except (httpx.TransportError, SSEDecodeError) as exc:
                raise self._transport_error(exc) from exc
            for data in tail:
                event = add(data)
                if event.event == "error":
                    raise self._event_error(data)
                yield event
            end = self._end_error()
            if end is not None:
                raise end
        except BaseException as exc:
            self._error = exc if isinstance(exc, APIError) else None
            raise
        finally:
            self.close()

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
            The `Result` with answer, ids, usage, resources, thoughts and files.

        Raises:
            APIError: The typed error of an in-stream failure, a dropped connection or
                a missing terminal event (with ``partial_answer`` and ids).
        """
        for _ in self._iterator:
            pass
        if self._error is not None:
            raise self._error
        return self._acc.result()

    def close(self) -> None:
        """Stop reading. If the stream did not finish, call the stop endpoint once."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._should_stop() and self._stop is not None:
                self._stop_attempted = True
                task_id = self._acc.task_id
                if task_id is not None:
                    self._acc.stopped = True
                    try:
                        self._stop(task_id)
                    except Exception:  # noqa: BLE001 - best effort: a failed stop must not mask anything
                        _log.debug("dify stop call failed", exc_info=True)
        finally:
            with contextlib.suppress(ValueError):  # called from inside the generator
                self._iterator.close()
            self.response.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncStream(_StreamState):
    """An asynchronous Dify event stream.

    Example:
        ```python
        async with await client.stream_chat("Hi", user="u1") as stream:
            async for event in stream:
                if event.text:
                    print(event.text, end="")
        result = await stream.final()
        ```
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        user: str | None,
        stop: Callable[[str], Awaitable[None]] | None = None,
        secret: str | None = None,
    ) -> None:
        super().__init__(response, user=user, secret=secret)
        self._stop = stop
        self._iterator = self._events()

    async def _events(self) -> AsyncGenerator[StreamEvent, None]:
        add = self._acc.add
        feed = self._decoder.feed
        debug = self._debug
        response = self.response
        chunks = response.aiter_raw() if self._raw_ok() else response.aiter_bytes()
        try:
            try:
                async for chunk in chunks:
                    for data in feed(chunk):
                        event = add(data)
                        if debug:
                            _log.debug("dify event %s", event.event)
                        if event.event == "error":
                            raise self._event_error(data)
                        yield event
                tail = self._decoder.flush()
            except (httpx.TransportError, SSEDecodeError) as exc:
                raise self._transport_error(exc) from exc
            for data in tail:
                event = add(data)
                if event.event == "error":
                    raise self._event_error(data)
                yield event
            end = self._end_error()
            if end is not None:
                raise end
        except BaseException as exc:
            self._error = exc if isinstance(exc, APIError) else None
            raise
        finally:
            await self.aclose()

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._guarded()

    async def _guarded(self) -> AsyncIterator[StreamEvent]:
        try:
            async for event in self._iterator:
                yield event
        finally:
            await self.aclose()

    async def __anext__(self) -> StreamEvent:
        return await self._iterator.__anext__()

    async def final(self) -> Result:
        """Read to EOF and return the aggregate.

        Returns:
            The `Result` with answer, ids, usage, resources, thoughts and files.

        Raises:
            APIError: The typed error of an in-stream failure, a dropped connection or
                a missing terminal event (with ``partial_answer`` and ids).
        """
        async for _ in self._iterator:
            pass
        if self._error is not None:
            raise self._error
        return self._acc.result()

    async def aclose(self) -> None:
        """Stop reading. If the stream did not finish, call the stop endpoint once.

        The stop call is shielded from cancellation and bounded to ``STOP_TIMEOUT``.
        """
        if self._closed:
            return
        self._closed = True
        try:
            if self._should_stop() and self._stop is not None:
                self._stop_attempted = True
                task_id = self._acc.task_id
                if task_id is not None:
                    self._acc.stopped = True
                    await self._shielded_stop(self._stop, task_id)
        finally:
            with contextlib.suppress(ValueError, RuntimeError):  # called from inside
                await self._iterator.aclose()
            await self.response.aclose()

    @staticmethod
    async def _shielded_stop(stop: Callable[[str], Awaitable[None]], task_id: str) -> None:
        async def bounded() -> None:
            try:
                await asyncio.wait_for(stop(task_id), STOP_TIMEOUT)
            except Exception:  # noqa: BLE001 - best effort
                _log.debug("dify stop call failed", exc_info=True)

        task = asyncio.ensure_future(bounded())
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            # Cancelled again while stopping: let the stop finish in the background,
            # and keep the cancellation going.
            raise

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
