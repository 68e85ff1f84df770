r"""Incremental Server-Sent Events decoder: bytes in, decoded JSON events out.

Pure (no I/O), so the sync and async streams share it. Dify frames are
``data: <json>\n\n`` plus ``event: ping\n\n`` keep-alives; the decoder takes the
fast path for a frame that is one ``data:`` line (slice the bytes and ``json.loads``
them) and falls back to a WHATWG line parse otherwise (``event:``/``id:``/``retry:``
fields, comments, multi-line ``data:``, CRLF or CR line ends). Frames may be split
anywhere, including inside a multi-byte UTF-8 character, because bytes are only
decoded once a frame is complete.

The buffer is linear: bytes are appended to one ``bytearray`` and only the new bytes
are searched for the blank line that ends a frame, so a 64 MB ``data:`` line costs
about twice what a 32 MB one does. An unfinished frame larger than ``max_event_size``
raises `SSEEventTooLargeError` (the stream turns it into ``APIResponseValidationError``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = [
    "DEFAULT_MAX_EVENT_SIZE",
    "SSEDecodeError",
    "SSEDecoder",
    "SSEEventTooLargeError",
    "loads_strict",
]

_BOM = b"\xef\xbb\xbf"
DEFAULT_MAX_EVENT_SIZE = 8 * 1024 * 1024
"""Largest SSE frame (bytes) the decoder buffers: 8 MiB, far above any Dify event."""


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} in JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads_strict(text: str | bytes) -> Any:
    """``json.loads`` that rejects NaN / Infinity (Python-only JSON) with ValueError."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    return _DECODER.decode(text)


# The (C) scanner behind json.loads, called directly to skip its Python wrappers.
_scan: Callable[[str, int], tuple[object, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _fast_json(payload: bytes) -> object:
    """Decode one JSON document from UTF-8 bytes; raise ValueError if it is not exactly one."""
    text = payload.decode()
    try:
        obj, end = _scan(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    if end != len(text):
        raise ValueError("extra data")
    return obj


class SSEDecodeError(ValueError):
    """A ``data:`` payload was not JSON."""

    def __init__(self, payload: bytes) -> None:
        super().__init__(f"SSE data is not JSON: {payload[:200]!r}")
        self.payload = payload


class SSEEventTooLargeError(SSEDecodeError):
    """One SSE frame grew past the decoder's ``max_event_size``."""

    def __init__(self, size: int, limit: int) -> None:
        ValueError.__init__(
            self, f"SSE frame of at least {size} bytes exceeds max_event_size={limit}"
        )
        self.payload = b""
        self.size = size
        self.limit = limit


class SSEDecoder:
    r"""Turn an HTTP body, fed in arbitrary chunks, into Dify event dicts.

    Pings (``event: ping`` with no data) are counted in ``pings`` and dropped.
    A data payload that is not a JSON object is wrapped as
    ``{"event": <sse event name>, "data": <value>}``; a JSON object without an
    ``"event"`` key gets the SSE event name (``"message"`` by default). A literal
    ``[DONE]`` payload is ignored (Dify never sends one; proxies sometimes do).

    Example:
        ```python
        dec = SSEDecoder()
        events = dec.feed(b'data: {"event": "mess')
        events += dec.feed(b'age", "answer": "hi"}\n\n')
        events += dec.flush()
        ```
    """

    __slots__ = (
        "_buf",
        "_cr",
        "_deferred",
        "_idle",
        "_scan_from",
        "_started",
        "last_event_id",
        "max_event_size",
        "pings",
        "retry",
        "truncated",
    )

    def __init__(self, max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE) -> None:
        self.max_event_size = max_event_size
        """Largest frame in bytes (None: unbounded); a larger one raises `SSEEventTooLargeError`."""
        self.truncated = False
        """Whether ``flush`` dropped a last frame cut off mid-JSON."""
        self._buf = bytearray()
        self._scan_from = 0  # where to resume the search for a blank line in _buf
        self._deferred: SSEDecodeError | None = None
        self._cr = False
        self._started = False
        self._idle = False  # True when nothing is buffered: a whole-frame chunk can go fast
        self.pings = 0
        """Number of keep-alive frames seen."""
        self.last_event_id: str | None = None
        """Last ``id:`` field seen (Dify sends none)."""
        self.retry: int | None = None
        """Last ``retry:`` field seen (Dify sends none)."""

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """Add bytes and return the events completed by them (possibly none).

        Args:
            chunk: The next bytes of the body, split anywhere.

        Returns:
            The decoded events, in order.

        Raises:
            SSEDecodeError: A complete frame's data was not valid JSON.
        """
        # Fast path: the chunk is exactly one ``data: <json>\n\n`` frame (Dify sends
        # one HTTP chunk per frame), nothing is buffered, and the JSON decodes cleanly.
        if (
            self._idle
            and (self.max_event_size is None or len(chunk) <= self.max_event_size)
            and chunk[-2:] == b"\n\n"
            and chunk[:6] == b"data: "
            and chunk.find(b"\n", 6) == len(chunk) - 2
        ):
            try:
                obj = _fast_json(chunk[6:-2])
            except (ValueError, RecursionError):
                pass
            else:
                if type(obj) is dict and "event" in obj:
                    return [obj]
        out = self._feed(chunk)
        self._idle = not self._buf and not self._cr and self._deferred is None
        return out

    def _feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """The general path: buffer, normalize line ends, split frames, parse each.

        When a bad frame follows good ones in the same chunk, the good events are
        returned first and the error is raised by the next ``feed`` or ``flush``.
        """
        self._raise_deferred()
        if not self._started:
            # A UTF-8 BOM may arrive split across the first chunks: hold the bytes back
            # until three are seen (or they cannot be a BOM) before deciding.
            head = bytes(self._buf) + chunk
            if len(head) < len(_BOM) and _BOM.startswith(head):
                self._buf = bytearray(head)
                return []
            self._started = True
            self._buf = bytearray()
            chunk = head[len(_BOM) :] if head.startswith(_BOM) else head
        if self._cr or b"\r" in chunk:
            chunk = self._normalize(chunk)
        buf = self._buf
        buf += chunk
        end = buf.rfind(b"\n\n", self._scan_from)
        if end < 0:
            # No frame ended: next time, search from the last byte already seen (a
            # blank line may straddle two chunks).
            self._scan_from = max(len(buf) - 1, 0)
            self._check_size(len(buf))
            return []
        complete = bytes(memoryview(buf)[:end])  # one copy (a bytearray slice is another)
        del buf[: end + 2]
        self._scan_from = 0
        out: list[dict[str, Any]] = []
        try:
            self._frames(complete, out)
            self._check_size(len(buf))
        except SSEDecodeError as exc:
            if not out:
                raise
            self._deferred = exc
        return out

    def _frames(self, complete: bytes, out: list[dict[str, Any]]) -> None:
        """Parse complete frames (blank-line separated) into ``out``."""
        for frame in complete.split(b"\n\n"):
            self._check_size(len(frame))
            if frame[:6] == b"data: " and b"\n" not in frame:
                payload = frame[6:]
                try:
                    obj = _fast_json(payload)
                except (ValueError, RecursionError):
                    self._dispatch_raw(payload, "message", out)
                    continue
                self._emit(obj, "message", out)
            elif frame:
                self._parse_frame(frame, out)

    def _check_size(self, size: int) -> None:
        limit = self.max_event_size
        if limit is not None and size > limit:
            self._buf = bytearray()
            self._scan_from = 0
            raise SSEEventTooLargeError(size, limit)

    def flush(self) -> list[dict[str, Any]]:
        """Finish the body: dispatch a last frame that lacked its blank line.

        Returns:
            The final events (usually none). A last frame cut off mid-JSON (the
            connection ended inside it) is dropped: the stream is incomplete, which the
            stream reports (``IncompleteStreamError``), not a decoding error.
        """
        self._raise_deferred()
        rest = bytes(self._buf)
        # A CR held back at the very end was a line end: it may complete the frame.
        complete = self._cr and rest.endswith(b"\n")
        if self._cr:
            self._cr = False
            rest += b"\n"
        self._buf = bytearray()
        self._scan_from = 0
        self._idle = False
        out: list[dict[str, Any]] = []
        rest = rest.strip(b"\n")
        if rest and complete:
            self._parse_frame(rest, out)  # a complete frame: bad JSON is an error
        elif rest:
            try:
                self._parse_frame(rest, out)
            except SSEDecodeError:
                self.truncated = True
        return out

    def _raise_deferred(self) -> None:
        """Raise the error of a bad frame that followed events returned earlier."""
        err = self._deferred
        if err is not None:
            self._deferred = None
            raise err

    @property
    def pending(self) -> bool:
        """True when bytes of an unfinished frame are buffered."""
        return bool(self._buf.strip(b"\n")) or self._cr

    def _normalize(self, chunk: bytes) -> bytes:
        """Map CRLF and lone CR to LF, holding back a trailing CR until the next chunk."""
        if self._cr:
            chunk = b"\r" + chunk
            self._cr = False
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
            self._cr = True
        return chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

    def _parse_frame(self, frame: bytes, out: list[dict[str, Any]]) -> None:
        """WHATWG field parse of one frame (lines without the blank terminator)."""
        event = ""
        data: list[bytes] = []
        for line in frame.split(b"\n"):
            if not line or line[:1] == b":":
                continue
            name, sep, value = line.partition(b":")
            if sep and value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                data.append(value)
            elif name == b"event":
                event = value.decode("utf-8", "replace")
            elif name == b"id":
                if b"\x00" not in value:
                    self.last_event_id = value.decode("utf-8", "replace")
            elif name == b"retry" and value.isdigit():
                self.retry = int(value)
        if not data:
            if event == "ping":
                self.pings += 1
                return
            if not event:
                return
            # An event line with no data: per spec nothing is dispatched. Keep it
            # visible anyway, since Dify never sends such a frame except ping.
            out.append({"event": event})
            return
        payload = b"\n".join(data)
        self._dispatch_raw(payload, event or "message", out)

    def _dispatch_raw(self, payload: bytes, event: str, out: list[dict[str, Any]]) -> None:
        if payload.strip() == b"[DONE]":
            return
        if not payload.strip():
            if event == "ping":
                self.pings += 1
            return
        try:
            obj = loads_strict(payload)
        except (ValueError, RecursionError):
            raise SSEDecodeError(payload) from None
        self._emit(obj, event, out)

    @staticmethod
    def _emit(obj: object, event: str, out: list[dict[str, Any]]) -> None:
        """Add a decoded payload as an event dict (named ``event`` unless it names one)."""
        if type(obj) is dict:
            obj.setdefault("event", event)
            out.append(obj)
        else:
            out.append({"event": event, "data": obj})
