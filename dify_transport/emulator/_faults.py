"""Fault injection: how a healthy event stream is distorted for client tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, Final

from dify_transport.emulator._http import DROP, BodyItem, Sleep, StreamBody
from dify_transport.emulator._wire import ApiError, Wire

__all__ = ["DELTA_EVENTS", "PING", "EventItem", "Faults", "apply_faults", "status_error"]

PING: Final = b"event: ping\n\n"
DELTA_EVENTS: Final = frozenset({"message", "agent_message", "text_chunk"})

EventItem = dict[str, Any] | Sleep
"""What the generators yield: one event dict, or a pause."""

_INT_FIELDS: Final = ("chunk", "ping_every", "error_after", "drop_after", "status", "times")
_FLOAT_FIELDS: Final = ("first_byte_delay", "retry_after", "delay")


@dataclass(slots=True)
class Faults:
    """Faults for one app (``Emulator.set_faults``) or one request (``X-Emulator-Fault``).

    Attributes:
        chunk: split every SSE frame into chunks of this many bytes.
        ping_every: send ``event: ping`` first and after every this many frames.
        error_after: after this many text deltas, send an ``error`` event and end.
        drop_after: after this many text deltas, drop the connection.
        first_byte_delay: seconds to wait before sending the response headers.
        status: answer with this HTTP status (429, 500, 502, 503) instead.
        times: how many requests get ``status`` before it clears (None: every one).
        retry_after: ``Retry-After`` seconds sent with a 429.
        delay: seconds between text deltas.
    """

    chunk: int | None = None
    ping_every: int | None = None
    error_after: int | None = None
    drop_after: int | None = None
    first_byte_delay: float | None = None
    status: int | None = None
    times: int | None = None
    retry_after: float | None = None
    delay: float | None = None

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """Parse ``"chunk=1; ping_every=1; status=503; times=2"`` (unknown keys ignored)."""
        values: dict[str, Any] = {}
        for part in spec.replace(",", ";").split(";"):
            key, sep, raw = part.partition("=")
            key = key.strip().lower()
            if not sep:
                continue
            try:
                if key in _INT_FIELDS:
                    values[key] = int(float(raw.strip()))
                elif key in _FLOAT_FIELDS:
                    values[key] = float(raw.strip())
            except ValueError:
                continue
        return cls(**values)

    def merged(self, override: Faults) -> Faults:
        """A copy where every field set in ``override`` wins."""
        out = dataclasses.replace(self)
        for f in dataclasses.fields(self):
            value = getattr(override, f.name)
            if value is not None:
                setattr(out, f.name, value)
        return out

    @property
    def affects_stream(self) -> bool:
        """Whether any stream-shaping fault is set."""
        return any(
            v is not None
            for v in (self.chunk, self.ping_every, self.error_after, self.drop_after, self.delay)
        )


_STATUS_BODIES: Final = {
    429: ("too_many_requests", "Too many requests. Please try again later."),
    500: ("internal_server_error", "Internal Server Error, please contact support."),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("service_unavailable", "Service Unavailable"),
    504: ("gateway_timeout", "Gateway Timeout"),
}


def status_error(faults: Faults) -> ApiError:
    """The error a ``status`` fault answers with."""
    status = faults.status or 500
    code, message = _STATUS_BODIES.get(status, ("unknown", "Emulated failure."))
    headers: tuple[tuple[str, str], ...] = ()
    if status == 429 and faults.retry_after is not None:
        ra = faults.retry_after
        headers = (("Retry-After", str(int(ra)) if ra == int(ra) else str(ra)),)
    return ApiError(status, code, message, headers=headers)


def _envelope(event: dict[str, Any]) -> dict[str, Any]:
    if "message_id" in event:
        keys: tuple[str, ...] = ("conversation_id", "message_id", "created_at")
    else:
        keys = ("workflow_run_id",)
    return {k: event[k] for k in keys if k in event}


def _split(frame: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(frame), size):
        yield frame[i : i + size]


def apply_faults(
    events: Generator[EventItem, None, None], wire: Wire, faults: Faults | None
) -> StreamBody:
    """Encode events as SSE frames, distorted by ``faults``; closes ``events`` when done."""
    if faults is None or not faults.affects_stream:
        return _plain(events, wire)
    return _faulty(events, wire, faults)


def _plain(events: Generator[EventItem, None, None], wire: Wire) -> StreamBody:
    sse = wire.sse
    try:
        for item in events:
            yield item if isinstance(item, Sleep) else sse(item)
    finally:
        events.close()


def _faulty(events: Generator[EventItem, None, None], wire: Wire, faults: Faults) -> StreamBody:
    chunk = faults.chunk if faults.chunk and faults.chunk > 0 else None
    ping_every = faults.ping_every if faults.ping_every and faults.ping_every > 0 else None
    frames_sent = 0
    deltas = 0
    envelope: dict[str, Any] | None = None

    def emit(frame: bytes) -> Iterator[BodyItem]:
        nonlocal frames_sent
        if chunk is None:
            yield frame
        else:
            yield from _split(frame, chunk)
        frames_sent += 1
        if ping_every is not None and frames_sent % ping_every == 0 and frame is not PING:
            yield from (_split(PING, chunk) if chunk else (PING,))

    try:
        if ping_every is not None:
            yield from (_split(PING, chunk) if chunk else (PING,))
        for item in events:
            if isinstance(item, Sleep):
                yield item
                continue
            if envelope is None:
                envelope = _envelope(item)
            if faults.drop_after is not None and deltas >= faults.drop_after:
                yield DROP
                return
            if faults.error_after is not None and deltas >= faults.error_after:
                err = {
                    "event": "error",
                    **envelope,
                    "code": "completion_request_error",
                    "status": 400,
                    "message": f"[emulator] injected failure after {faults.error_after} deltas",
                }
                yield from emit(wire.sse(err))
                return
            if item.get("event") in DELTA_EVENTS:
                if faults.delay and deltas:
                    yield Sleep(faults.delay)
                deltas += 1
            yield from emit(wire.sse(item))
    finally:
        events.close()
