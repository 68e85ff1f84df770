"""Fault injection and SSE encoding: how a healthy event stream is framed and distorted.

Every stream gets Dify's time-based keep-alive: ``event: ping`` each time another
``ping_interval`` seconds (default 10) of elapsed time since the request started passes,
at any position (between frames and in the middle of pauses).
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, Final

from dify_emulator._http import DROP, BodyItem, Drop, Sleep, StreamBody
from dify_emulator._wire import ApiError, Wire

__all__ = [
    "DELTA_EVENTS",
    "PING",
    "PING_INTERVAL",
    "EventItem",
    "FaultSpecError",
    "Faults",
    "apply_faults",
    "chaos_pick",
    "is_delta",
    "status_error",
]

PING: Final = b"event: ping\n\n"
PING_INTERVAL: Final = 10.0
DELTA_EVENTS: Final = frozenset({"message", "agent_message", "text_chunk"})

EventItem = dict[str, Any] | Sleep | Drop
"""What the generators yield: one event dict, a pause, or a dropped connection."""

_INT_FIELDS: Final = ("chunk", "ping_every", "error_after", "drop_after", "status", "times",
                      "moderate", "t5", "tts", "detach_after", "quota", "replay",
                      "progress", "same_second")  # fmt: skip
_FLOAT_FIELDS: Final = ("first_byte_delay", "retry_after", "delay", "ping_interval", "form_ttl",
                        "chaos")  # fmt: skip


class FaultSpecError(ValueError):
    """An ``X-Emulator-Fault`` header that cannot be parsed (answered with a 400)."""


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
        ping_interval: seconds between time-based pings (default 10; 0 disables them).
        moderate: 1 replaces the answer by output moderation (``message_replace``), 0 never
            (default: when the query contains the word ``moderate``).
        t5: 1 sends chat/completion answer deltas as ``message_file`` events (wire trap T5),
            0 never (default: on the 1.x wire when the request carries files).
        tts: 1 streams ``tts_message`` audio and a final ``tts_message_end`` (TTS apps only).
        detach_after: (1.x workflow/chatflow streams) drop the connection after this many
            events while the run goes on server-side (reconnect with the events endpoint).
        quota: 1 makes a 429 ``status`` the Cloud quota error ``rate_limit_error`` instead of
            the concurrency limit ``too_many_requests``.
        form_ttl: seconds until a human-input form of this run expires (default 3 days).
        replay: 1 makes ``GET /workflow/{id}/events`` on a running run first repeat the
            ``workflow_started`` and node events already sent (as Dify's state snapshot
            may), so a reconnecting client must drop the repeats.
        progress: 1 makes the 1.x workflow app also run an iteration (with a retried inner
            node), a loop and an Agent node (``agent_log``) between Start and LLM.
        chaos: chaos mode: with this probability (0-1) a request gets one random fault of
            a dropped stream, a 500/502/503, a 429 (``Retry-After: 0``) or a slow first
            byte (see :func:`chaos_pick`).
        same_second: 1 makes ``GET /messages`` page like Dify's one-second clock: messages
            of one second tie, come back in the reverse of their order, and the
            ``first_id`` cursor skips the rest of its second.
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
    ping_interval: float | None = None
    moderate: int | None = None
    t5: int | None = None
    tts: int | None = None
    detach_after: int | None = None
    quota: int | None = None
    form_ttl: float | None = None
    replay: int | None = None
    progress: int | None = None
    chaos: float | None = None
    same_second: int | None = None

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """Parse ``"chunk=1; ping_every=1; status=503; times=2"``.

        Unknown keys are ignored (e.g. ``nonce=...`` to make a header unique); a known key
        with a value that is not a number, or a part without ``=``, raises
        :class:`FaultSpecError`.
        """
        values: dict[str, Any] = {}
        for part in spec.replace(",", ";").split(";"):
            if not part.strip():
                continue
            key, sep, raw = part.partition("=")
            key, raw = key.strip().lower(), raw.strip()
            if not sep or not key:
                msg = f"fault {part.strip()!r} is not of the form name=value"
                raise FaultSpecError(msg)
            if key not in _INT_FIELDS and key not in _FLOAT_FIELDS:
                continue
            try:
                number = float(raw)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                msg = f"fault {key!r} needs a number, not {raw!r}"
                raise FaultSpecError(msg)
            values[key] = int(number) if key in _INT_FIELDS else number
        return cls(**values)

    def merged(self, override: Faults) -> Faults:
        """A copy where every field set in ``override`` wins."""
        out = dataclasses.replace(self)
        for f in dataclasses.fields(self):
            value = getattr(override, f.name)
            if value is not None:
                setattr(out, f.name, value)
        return out


_STATUS_BODIES: Final = {
    429: (
        "too_many_requests",
        "Too many requests. Please try again later. The current maximum "
        "concurrent requests allowed for the emulator app is 5.",
    ),
    500: ("internal_server_error", "Internal Server Error, please contact support."),
    502: ("bad_gateway", "Bad Gateway"),
    503: ("service_unavailable", "Service Unavailable"),
    504: ("gateway_timeout", "Gateway Timeout"),
}


def status_error(faults: Faults) -> ApiError:
    """The error a ``status`` fault answers with."""
    status = faults.status or 500
    code, message = _STATUS_BODIES.get(status, ("unknown", "Emulated failure."))
    if status == 429 and faults.quota:
        code, message = "rate_limit_error", "Workflow execution quota limit reached for tenant."
    headers: tuple[tuple[str, str], ...] = ()
    if status == 429 and faults.retry_after is not None:
        ra = faults.retry_after
        headers = (("Retry-After", str(int(ra)) if ra == int(ra) else str(ra)),)
    return ApiError(status, code, message, headers=headers)


def chaos_pick(faults: Faults, rng: random.Random) -> Faults:
    """Chaos mode: with probability ``faults.chaos``, one random fault for this request.

    A stream dropped after 0-5 deltas, a 500/502/503, a 429 with ``Retry-After: 0``, or a
    first byte delayed by 0.05-0.5 s, equally likely; otherwise ``faults`` as given.
    """
    if not faults.chaos or rng.random() >= faults.chaos:
        return faults
    out = dataclasses.replace(faults, chaos=None, times=None)
    kind = rng.randrange(4)
    if kind == 0:
        out.drop_after = rng.randrange(6)
    elif kind == 1:
        out.status = rng.choice((500, 502, 503))
    elif kind == 2:
        out.status, out.retry_after, out.quota = 429, 0.0, None
    else:
        out.first_byte_delay = rng.uniform(0.05, 0.5)
    return out


def _envelope(event: dict[str, Any]) -> dict[str, Any]:
    if "message_id" in event:
        keys: tuple[str, ...] = ("conversation_id", "message_id", "created_at")
    else:
        keys = ("workflow_run_id",)
    return {k: event[k] for k in keys if k in event}


def is_delta(item: dict[str, Any]) -> bool:
    """Whether an event carries answer text (T5's ``message_file`` deltas included)."""
    name = item.get("event")
    return name in DELTA_EVENTS or (name == "message_file" and "answer" in item)


def _has_text(item: dict[str, Any]) -> bool:
    if item.get("event") == "text_chunk":
        return bool((item.get("data") or {}).get("text"))
    return bool(item.get("answer"))


class _PingClock:
    """Dify's keep-alive: one ping whenever ``floor(elapsed / interval)`` increases."""

    def __init__(self, interval: float | None) -> None:
        self.interval = interval if interval is not None and interval > 0 else None
        self.t0 = time.monotonic()
        self.ticks = 0

    def due(self) -> bool:
        if self.interval is None:
            return False
        ticks = int((time.monotonic() - self.t0) // self.interval)
        if ticks > self.ticks:
            self.ticks = ticks
            return True
        return False

    def pause(self, seconds: float) -> Iterator[Sleep | None]:
        """Split a pause at tick boundaries; None marks where a ping is due."""
        if self.interval is None:
            yield Sleep(seconds)
            return
        end = time.monotonic() + seconds
        while (now := time.monotonic()) < end:
            tick = self.t0 + (self.ticks + 1) * self.interval
            yield Sleep(min(end, tick) - now)
            if self.due():
                yield None


def apply_faults(
    events: Generator[EventItem, None, None],
    wire: Wire,
    faults: Faults | None,
    *,
    own_errors: bool = False,
) -> StreamBody:
    """Encode events as SSE frames with time-based pings, distorted by ``faults``.

    ``own_errors``: the generator injects ``error_after`` itself (workflow-engine apps,
    whose failures are not a bare ``error`` event). Closes ``events`` when done.
    """
    f = faults or Faults()
    interval = PING_INTERVAL if f.ping_interval is None else f.ping_interval
    return _encode(events, wire, f, _PingClock(interval), own_errors=own_errors)


def _split(frame: bytes, size: int | None) -> Iterator[bytes]:
    if size is None:
        yield frame
        return
    for i in range(0, len(frame), size):
        yield frame[i : i + size]


def _encode(
    events: Generator[EventItem, None, None],
    wire: Wire,
    faults: Faults,
    clock: _PingClock,
    *,
    own_errors: bool,
) -> StreamBody:
    chunk = faults.chunk if faults.chunk and faults.chunk > 0 else None
    ping_every = faults.ping_every if faults.ping_every and faults.ping_every > 0 else None
    error_after = None if own_errors else faults.error_after
    frames_sent = 0
    deltas = 0
    envelope: dict[str, Any] | None = None

    def emit(frame: bytes) -> Iterator[BodyItem]:
        nonlocal frames_sent
        if clock.due():
            yield from _split(PING, chunk)
        yield from _split(frame, chunk)
        frames_sent += 1
        if ping_every is not None and frames_sent % ping_every == 0:
            yield from _split(PING, chunk)

    def pause(seconds: float) -> Iterator[BodyItem]:
        for step in clock.pause(seconds):
            yield from (_split(PING, chunk) if step is None else (step,))

    try:
        if ping_every is not None:
            yield from _split(PING, chunk)
        for item in events:
            if isinstance(item, Sleep):
                yield from pause(item.seconds)
                continue
            if isinstance(item, Drop):
                yield DROP
                return
            if envelope is None:
                envelope = _envelope(item)
            if faults.drop_after is not None and deltas >= faults.drop_after:
                yield DROP
                return
            if error_after is not None and deltas >= error_after:
                err = {
                    "event": "error",
                    **envelope,
                    "code": "completion_request_error",
                    "status": 400,
                    "message": f"[emulator] injected failure after {error_after} deltas",
                }
                yield from emit(wire.sse(err))
                return
            if is_delta(item) and _has_text(item):
                if faults.delay and deltas:
                    yield from pause(faults.delay)
                deltas += 1
            yield from emit(wire.sse(item))
    finally:
        events.close()
