"""The pure part of resuming a dropped workflow/chatflow stream: policy, budget, completion.

The behaviour is docs/architecture.md ("Streams", Reconnect); the requests are in
``_async/_resume.py`` (``_sync/_resume.py`` is generated from it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from dify_transport import _retry
from dify_transport._aggregate import StreamAccumulator, workflow_answer
from dify_transport._errors import (
    APIConnectionError,
    APIError,
    DifyConfigError,
    InternalServerError,
    RateLimitError,
    ReconnectError,
)
from dify_transport.types import Message, WorkflowRun

__all__ = ["ReconnectPolicy", "Resumption", "dropped", "find_message", "resolve_policy"]

_DONE = frozenset({"succeeded", "partial-succeeded"})


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """How hard a dropped workflow/chatflow stream tries to resume.

    Attributes:
        attempts: Reconnect requests per drop (a reconnection that delivers a new event
            gives the next drop a fresh budget).
        within: Seconds per drop, from the drop to the last attempt.
    """

    attempts: int = 3
    within: float = 30.0

    def __post_init__(self) -> None:
        if type(self.attempts) is not int or self.attempts < 1:
            raise DifyConfigError(
                f"ReconnectPolicy.attempts must be an int >= 1, not {self.attempts!r}"
            )
        if not isinstance(self.within, int | float) or not 0 < self.within < float("inf"):
            raise DifyConfigError(
                f"ReconnectPolicy.within must be seconds > 0, not {self.within!r}"
            )


def resolve_policy(
    value: bool | ReconnectPolicy | None, default: ReconnectPolicy | None
) -> ReconnectPolicy | None:
    """The policy a call uses: ``None`` = the client's, ``False`` = off, ``True`` = defaults."""
    if value is None:
        return default
    if isinstance(value, ReconnectPolicy):
        return value
    if value is True:
        return ReconnectPolicy()
    if value is False:
        return None
    raise DifyConfigError(f"reconnect must be a bool or a ReconnectPolicy, not {value!r}")


def _retryable(exc: BaseException) -> bool:
    """A failed reconnect that another attempt may fix (not a 4xx such as 404)."""
    return isinstance(exc, APIConnectionError | InternalServerError | RateLimitError)


class Resumption:
    """The reconnect state of one stream: budget per drop, reconnections so far."""

    def __init__(self, policy: ReconnectPolicy, *, user: str | None) -> None:
        self.policy = policy
        self.user = user
        self.resumes = 0
        """Successful reconnections."""
        self._attempts = 0
        self._deadline: float | None = None
        self.deadline: tuple[float | None, float | None] = (None, None)
        """The stream's total deadline (``_expires``), which a reconnection also obeys."""

    def begin(self) -> None:
        """A drop: start its budget (unless the last reconnection delivered nothing new)."""
        if self._deadline is None:
            self._deadline = time.monotonic() + self.policy.within
            self._attempts = 0

    def progressed(self) -> None:
        """A reconnected stream delivered a new event: the next drop gets a fresh budget."""
        self._deadline = None

    def backoff(self) -> float:
        """Seconds to wait before another attempt of this drop (0 before the first)."""
        return _retry.backoff_delay(self._attempts - 1) if self._attempts else 0.0

    def next_attempt(self, run_id: str, last: BaseException | None, pause: float = 0.0) -> None:
        """Count one reconnect request (sent after ``pause``); raise when the budget is spent."""
        late = time.monotonic() + pause > (self._deadline or 0)
        if self._attempts >= self.policy.attempts or late:
            raise self.failed(run_id, last, "the reconnect budget is spent")
        self._attempts += 1

    def delay_after(self, exc: APIError, run_id: str) -> float:
        """Seconds to wait after a failed attempt; a refusal (4xx) raises `ReconnectError`.

        The budget is judged once, by `next_attempt` (which gets this delay as ``pause``).
        """
        if not _retryable(exc):
            raise self.failed(run_id, exc, "the events endpoint refused")
        return _retry.backoff_delay(self._attempts - 1, getattr(exc, "retry_after", None))

    def failed(self, run_id: str, exc: BaseException | None, why: str) -> ReconnectError:
        """The error a stream raises when it cannot be resumed."""
        last = f"{type(exc).__name__}: {exc}" if exc is not None else "the stream ended early"
        err = ReconnectError(
            f"The stream of workflow run {run_id} dropped and resuming it from "
            f"GET /workflow/{run_id}/events failed after {self._attempts} attempt(s): {why} "
            f"({last}). The run may still be going on: follow it with "
            f"stream_workflow_events({run_id!r}, user=...) or read get_workflow_run({run_id!r})",
            workflow_run_id=run_id,
            attempts=self._attempts,
            request=getattr(exc, "request", None) if isinstance(exc, APIError) else None,
        )
        err.__cause__ = exc
        return err

    def reconnected(self) -> None:
        """A new connection is open (its events are checked for repeats from now on)."""
        self.resumes += 1

    @staticmethod
    def wants_completion(acc: StreamAccumulator) -> bool:
        """Whether the finished run's answer must be read back (it ended normally)."""
        return acc.status in _DONE or (acc.status is None and acc.terminal and not acc.stopped)

    @staticmethod
    def complete_workflow(acc: StreamAccumulator, run: WorkflowRun | None) -> None:
        """Outputs from the run detail (else from ``workflow_finished``); the answer from them."""
        if run is not None and isinstance(run.outputs, dict) and run.outputs:
            acc.outputs = dict(run.outputs)
        acc.replace_answer(workflow_answer(acc.outputs))

    @staticmethod
    def complete_chat(acc: StreamAccumulator, message: Message | None, run_id: str) -> None:
        """The answer from the stored message (else the run's ``outputs.answer``)."""
        if message is not None:
            acc.replace_answer(message.answer)
            if not acc.retriever_resources and message.retriever_resources:
                acc.retriever_resources = [r.model_dump() for r in message.retriever_resources]
        else:
            answer = (acc.outputs or {}).get("answer")
            if not isinstance(answer, str):
                raise ReconnectError(
                    f"The stream of chatflow run {run_id} was resumed but its final answer "
                    f"could not be read (message {acc.message_id} not found); read it with "
                    "get_messages(conversation_id, user=...)",
                    workflow_run_id=run_id,
                )
            acc.replace_answer(answer)


def find_message(messages: list[Message], message_id: str | None) -> Message | None:
    """The message with ``message_id`` in a page, if there."""
    return next((m for m in messages if m.id == message_id), None)


def dropped(exc: BaseException | None) -> bool:
    """Whether a read failure (None: EOF without a terminal event) may be a lost connection."""
    return exc is None or isinstance(exc, httpx.TransportError)
