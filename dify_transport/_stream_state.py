"""`StreamState`: what `Stream` and `AsyncStream` share (aggregate, error building, flags)."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import httpx

from dify_transport._aggregate import StreamAccumulator
from dify_transport._base_client import BAD_PAYLOAD, payload_problem
from dify_transport._constants import LOGGER_NAME
from dify_transport._deadline import deadline_error
from dify_transport._error_mapping import error_from_event
from dify_transport._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    DifyError,
    IncompleteStreamError,
    WorkflowFailedError,
    request_of,
)
from dify_transport._events import StreamEvent
from dify_transport._reconnect import Resumption, dropped
from dify_transport._sse import (
    DEFAULT_MAX_EVENT_SIZE,
    SSEDecodeError,
    SSEDecoder,
    SSEEventTooLargeError,
)
from dify_transport.types import Result

__all__ = ["StreamState", "is_workflow_end", "shutdown_socket"]

_log = logging.getLogger(LOGGER_NAME)
_S = TypeVar("_S")
"""The stop a stream calls when abandoned (``Stop``, or ``AsyncStop``)."""
_R = TypeVar("_R", bound=Resumption)
"""The stream's resumer (``Resumer``, or ``AsyncResumer``)."""


def shutdown_socket(response: httpx.Response) -> None:
    """Shut a response's socket down, so a read blocked in another thread returns at once.

    Needs a real socket (httpx's ``network_stream`` extension); in-process test
    transports (``httpx.MockTransport``, ASGI/WSGI) have none and are left alone.
    """
    stream = response.extensions.get("network_stream")
    get = getattr(stream, "get_extra_info", None)
    try:
        sock = get("socket") if callable(get) else None
    except Exception:  # noqa: BLE001 - a transport without that info
        sock = None
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            _log.debug("dify stream socket already shut down", exc_info=True)


def is_workflow_end(events: list[dict[str, Any]]) -> bool:
    """Whether decoded events hold ``workflow_finished`` (what a stopped run's drain waits for)."""
    return any(e.get("event") == "workflow_finished" for e in events)


class StreamState(Generic[_S, _R]):
    """What the sync and async streams share: everything but reading and closing (I/O)."""

    _reading = False
    """Whether a read is in progress (async: then a stopped stream is not drained)."""

    def __init__(
        self,
        response: httpx.Response,
        *,
        user: str | None,
        stop: _S | None = None,
        secret: str | None = None,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        deadline: tuple[float | None, float | None] = (None, None),
        resume: _R | None = None,
    ) -> None:
        self.response = response
        """The underlying HTTP response (status 200, ``text/event-stream``)."""
        self.user = user
        """The ``user`` the stream was opened with (also used for the stop call)."""
        self._acc = StreamAccumulator(user)
        self._max_event_size = max_event_size
        self._decoder = SSEDecoder(max_event_size)
        self._deadline, self._expires = deadline
        self._secret = secret
        self._eof = False
        self._closed = False
        self._error: BaseException | None = None
        self._debug = _log.isEnabledFor(logging.DEBUG)
        self._stop = stop
        self._resume = resume
        self._start()

    def _start(self) -> None:
        """Set up the reading side's own state (the last step of ``__init__``)."""

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

    @property
    def resumed(self) -> bool:
        """True once the stream dropped and was resumed from the run's events endpoint."""
        return self._acc.resumed

    @property
    def closed(self) -> bool:
        """True once the stream is closed (read to the end, failed, or left early)."""
        return self._closed

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

    def _add(self, data: dict[str, Any]) -> StreamEvent:
        """Fold one event into the aggregate.

        A malformed event (``"event": [...]``, a wrong field type) raises
        ``APIResponseValidationError`` naming the problem.
        """
        try:
            return self._acc.add(data)
        except DifyError:
            raise
        except BAD_PAYLOAD as exc:
            err = APIResponseValidationError(
                f"Dify sent a stream event we could not read ({payload_problem(exc)}): "
                f"{str(data)[:200]}",
                request=request_of(self.response),
            )
            raise self._attach(err) from exc

    def _event(self, data: dict[str, Any]) -> StreamEvent:
        """Fold one event and wrap it; an ``error`` event raises its typed error."""
        event = self._add(data)
        if self._debug:
            _log.debug("dify event %s", event.event)
        if event.event == "error":
            raise self._event_error(data)
        return event

    def _event_error(self, data: dict[str, Any]) -> APIError:
        self._eof = True
        err = error_from_event(data, response=self.response, user=self.user, secret=self._secret)
        return self._attach(err)

    def _where(self) -> str:
        n = len(self._acc.answer)
        return f"after {n} characters of answer" if n else "before any text"

    def _expired(self) -> bool:
        """Whether the stream's total deadline (if any) has passed."""
        expires = self._expires
        return expires is not None and time.monotonic() >= expires

    def _check_deadline(self) -> None:
        """Raise `_deadline_error` when the deadline passed before the terminal event."""
        if self._expired() and not self._acc.terminal:
            raise self._deadline_error()

    def _deadline_error(self) -> APIError:
        """``APITimeoutError`` for a passed deadline, with the partial answer attached."""
        where = f"while streaming {self._where()} (the Dify task is stopped)"
        return self._attach(deadline_error(self._deadline or 0, where, request_of(self.response)))

    def _transport_error(self, exc: Exception) -> APIError:
        where = self._where()
        if isinstance(exc, SSEEventTooLargeError):
            err: APIError = APIResponseValidationError(
                f"Dify sent an SSE event larger than max_event_size={exc.limit} bytes "
                f"{where}; raise max_event_size=... on the client if such events are expected",
                request=request_of(self.response),
            )
        elif self._expired():
            return self._deadline_error()
        elif isinstance(exc, httpx.TimeoutException):
            err = APITimeoutError(
                f"Timed out reading the Dify stream {where} ({type(exc).__name__}); raise "
                "the read timeout (timeout=...) if the app is slow to answer",
                request=request_of(self.response),
            )
        elif isinstance(exc, SSEDecodeError):
            err = APIResponseValidationError(
                f"Dify sent an SSE frame that is not JSON {where}: {exc.payload[:120]!r}",
                request=request_of(self.response),
            )
        else:
            err = APIConnectionError(
                f"The connection dropped while streaming {where} ({type(exc).__name__}); "
                "the answer is incomplete",
                request=request_of(self.response),
            )
        return self._attach(err)

    def _resumes_after(self, exc: Exception) -> bool:
        """Judge a failed read: True to resume, False when the answer is complete; else raise.

        A read timeout after the terminal event (a server stalling after ``message_end`` /
        ``workflow_finished``) ends the stream normally, not with a timeout error.
        """
        if isinstance(exc, httpx.TimeoutException) and self._acc.terminal:
            return False
        if self._resumable(exc):
            return True
        raise self._transport_error(exc) from exc

    @contextlib.contextmanager
    def _attaching(self) -> Iterator[None]:
        """Attach the partial answer and ids to an `APIError` raised inside (by a resumer)."""
        try:
            yield
        except APIError as err:
            raise self._attach(err) from err.__cause__

    def _outcome(self) -> Result:
        """What `final()` gives once the stream was read: its `Result`, or its error raised."""
        if self._error is not None:
            raise self._error
        return self._acc.result()

    def _judge_end(self) -> None:
        """Judge the stream at EOF: raise unless it completed normally."""
        end = self._end_error()
        if end is not None:
            raise end

    def _end_error(self) -> APIError | None:
        self._eof = True
        acc = self._acc
        if acc.workflow_failed:
            err: APIError = WorkflowFailedError(
                f"Workflow run {acc.workflow_run_id} failed: "
                f"{acc.workflow_error or 'no error text'}",
                workflow_run_id=acc.workflow_run_id,
                outputs=acc.outputs,
                request=request_of(self.response),
                in_stream=True,
            )
            return self._attach(err)
        if not acc.terminal:
            cut = " (its last frame was cut off)" if self._decoder.truncated else ""
            err = IncompleteStreamError(
                "The Dify stream ended without message_end/workflow_finished "
                f"(after {len(acc.answer)} characters){cut}; the answer may be truncated",
                request=request_of(self.response),
            )
            return self._attach(err)
        return None

    def _resumable(self, exc: BaseException | None) -> bool:
        """Whether to resume after a read failure (None: EOF without a terminal event).

        Only a workflow/chatflow stream whose run id is known and whose run did not end
        (no ``workflow_finished`` / ``workflow_paused`` / ``error``) is resumed, and never
        one we closed.
        """
        acc = self._acc
        if self._resume is None or self._closed or acc.stopped or acc.workflow_run_id is None:
            return False
        if self._expired():
            return False  # the total deadline passed: no reconnection after it
        if not dropped(exc) or acc.status is not None or acc.error_event is not None:
            return False
        return exc is not None or not acc.terminal

    def _fresh(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A reconnected stream's events minus what it repeats; new ones renew the budget."""
        if not self._acc.resumed:
            return batch
        replayed = self._acc.replayed
        fresh = [data for data in batch if not replayed(data)]
        if fresh and self._resume is not None:
            self._resume.progressed()
        return fresh

    def _resumed_on(self, response: httpx.Response) -> None:
        """Read on from a reconnected ``response`` (a fresh decoder; repeats are skipped)."""
        self.response = response
        self._decoder = SSEDecoder(self._max_event_size)
        self._acc.resumed = True

    def _begin_close(self) -> tuple[_S, str] | None:
        """Mark the stream closed by us (once); return ``(stop, task_id)`` when a stop is due.

        A stream left before EOF and before a terminal event is "stopped": its
        `result()` (and `final()`) report ``finish_reason="stopped"`` from now on, and
        its task is stopped once a ``task_id`` was seen.
        """
        acc = self._acc
        self._closed = True
        if self._eof or acc.terminal:
            return None
        acc.stopped = True
        if self._stop is None or acc.task_id is None:
            return None
        return self._stop, acc.task_id

    def _drains(self, stop: tuple[_S, str] | None) -> bool:
        """Whether a stop is followed by reading on (a workflow run, no read in progress)."""
        return stop is not None and not self._reading and self._acc.workflow_run_id is not None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(task_id={self.task_id!r}, chars={len(self.answer)}, "
            f"done={self.done})"
        )
