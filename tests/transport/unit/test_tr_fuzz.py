"""Fuzzing the SSE decoder and error-envelope parsing (issue 9, acceptance 2).

Three properties over hostile inputs (deep nesting, NaN/Infinity, lone surrogates,
huge lines, CR/CRLF/LF line ends, BOMs, comments, ``id``/``retry`` fields):

* only package errors escape (``SSEDecodeError`` from the decoder, a ``DifyError``
  from a stream or an error body);
* split invariance: any chunking of the bytes gives the same events;
* agreement with ``reference_events``, a spec-literal WHATWG EventSource parser kept
  here, plus the decoder's documented Dify mapping (JSON payloads, pings, ``[DONE]``).

``make test`` runs a short pass; ``HYPOTHESIS_PROFILE=long`` (``make bench``) a long one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from typing import Any

import httpx
import pytest
from _tr_support import USER, client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dify_transport import DifyError, SSEDecoder
from dify_transport._error_mapping import error_from_event, make_status_error
from dify_transport._sse import SSEDecodeError

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
FUZZ = settings(
    max_examples=3000 if LONG else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- the reference: WHATWG HTML, "Interpreting an event stream", literally ---------------


def reference_events(body: bytes) -> list[tuple[str, str | None]]:
    """Parse an event stream as the EventSource spec says.

    Returns one ``(event type, data)`` per dispatched event; frames that end with an
    empty data buffer dispatch nothing per spec and are recorded as ``(type, None)``
    so the caller can apply the decoder's documented handling of such frames.
    """
    text = body.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]  # one leading BOM is ignored
    lines: list[str] = []
    line = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\r":
            lines.append(line)
            line = ""
            if i + 1 < len(text) and text[i + 1] == "\n":
                i += 1
        elif ch == "\n":
            lines.append(line)
            line = ""
        else:
            line += ch
        i += 1
    # ``line`` (no end-of-line yet) is incomplete: discarded at EOF.
    out: list[tuple[str, str | None]] = []
    event_type = ""
    data = ""
    for line in lines:
        if line == "":
            if data == "":
                out.append((event_type, None))
            else:
                out.append((event_type or "message", data.removesuffix("\n")))
            event_type, data = "", ""
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            field, value = line.split(":", 1)
            value = value.removeprefix(" ")
        else:
            field, value = line, ""
        if field == "event":
            event_type = value
        elif field == "data":
            data += value + "\n"
        # "id" and "retry" change no dispatched event; other fields are ignored.
    return out


def _strict_json(text: str) -> Any:
    def no_constants(name: str) -> Any:
        raise ValueError(name)

    return json.loads(text, parse_constant=no_constants)


def expected_events(body: bytes) -> tuple[list[dict[str, Any]], int, bool]:
    """The decoder's output per the reference and the documented Dify mapping.

    Returns (events, pings, rejected): ``rejected`` when a dispatched payload is not
    one strict JSON document (the decoder raises there; the events before it count).
    """
    events: list[dict[str, Any]] = []
    pings = 0
    for event_type, data in reference_events(body):
        if data is None:  # no data: a ping, or (a documented extension) {"event": type}
            if event_type == "ping":
                pings += 1
            elif event_type:
                events.append({"event": event_type})
            continue
        raw = data.encode("utf-8", "surrogatepass")
        if raw.strip() == b"[DONE]":
            continue
        if not raw.strip():
            pings += event_type == "ping"
            continue
        try:
            obj = _strict_json(data)
        except (ValueError, RecursionError):
            return events, pings, True
        if type(obj) is dict and "event" in obj:
            events.append(obj)
        elif type(obj) is dict:
            events.append({**obj, "event": event_type})
        else:
            events.append({"event": event_type, "data": obj})
    return events, pings, False


# -- generators ---------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)  # lone surrogates included (JSON escapes them)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
EVENT_NAMES = st.sampled_from(["", "message", "ping", "message_end", "error", "x y", "é"])


@st.composite
def json_payloads(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return "[" * draw(st.integers(1000, 30000))  # deep nesting (never closed)
    if kind == 1:
        # Deep but valid. CPython's json gives up near the recursion limit (1,000), at a
        # depth that depends on the caller's stack: the band around it is left out so both
        # parsers, called from different depths, judge the same payload alike.
        depth = draw(st.integers(100, 600) | st.integers(2000, 3000))
        return "[" * depth + "]" * depth
    if kind == 2:
        return draw(st.sampled_from(["NaN", '{"a": Infinity}', '{"u": -Infinity}', "[DONE]"]))
    if kind == 3:
        return json.dumps({"event": "message", "answer": "x" * draw(st.integers(0, 70000))})
    if kind == 4:
        return draw(st.text(max_size=30).filter(lambda t: "\r" not in t and "\n" not in t))
    value = draw(JSON_VALUES)
    if kind == 5:
        value = {"event": draw(EVENT_NAMES | st.lists(st.text(max_size=3))), "v": value}
    return json.dumps(value, ensure_ascii=draw(st.booleans()) or _has_surrogate(value))


def _has_surrogate(value: Any) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in json.dumps(value, ensure_ascii=False))


@st.composite
def frames(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 7))
        if kind <= 2:
            payload = draw(json_payloads())
            space = draw(st.sampled_from(["data: ", "data:", "data:  "]))
            if kind == 2 and "\n" not in payload:  # one JSON document over two data lines
                cut = draw(st.integers(0, len(payload)))
                lines += [space + payload[:cut], "data:" + payload[cut:]]
            else:
                lines.append(space + payload)
        elif kind == 3:
            lines.append("event:" + draw(st.sampled_from(["", " "])) + draw(EVENT_NAMES))
        elif kind == 4:
            lines.append(
                ":" + draw(st.text(max_size=10).filter(lambda t: not set(t) & {"\r", "\n"}))
            )
        elif kind == 5:
            lines.append(
                draw(st.sampled_from(["id: 7", "id", "retry: 1000", "retry: x", "foo: b"]))
            )
        elif kind == 6:
            lines.append("data")  # a field with no colon: an empty data line
        else:
            lines.append("event: ping")
    return "".join(line + "\n" for line in lines)


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    text = "".join(f + "\n" for f in draw(st.lists(frames(), max_size=6)))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    if eol != "\n":
        text = text.replace("\n", eol)
    body = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        body = b"\xef\xbb\xbf" + body
    return body


def decode(chunks: list[bytes]) -> tuple[list[dict[str, Any]], int, bool]:
    dec = SSEDecoder(max_event_size=None)
    out: list[dict[str, Any]] = []
    try:
        for chunk in chunks:
            out += dec.feed(chunk)
        out += dec.flush()
    except SSEDecodeError:
        return out, dec.pings, True
    return out, dec.pings, False


def cut(body: bytes, points: list[int]) -> list[bytes]:
    marks = sorted({p for p in points if 0 < p < len(body)})
    return [body[a:b] for a, b in zip([0, *marks], [*marks, len(body)], strict=True)]


def _same(a: Any, b: Any) -> bool:
    """Equality that treats NaN as equal to itself (JSON floats never are NaN here)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


# -- properties ---------------------------------------------------------------------------


@FUZZ
@given(body=streams(), data=st.data())
def test_decoder_agrees_with_the_spec_and_any_split(body: bytes, data: st.DataObject) -> None:
    whole = decode([body])
    want_events, want_pings, rejected = expected_events(body)
    got_events, got_pings, got_rejected = whole
    assert got_rejected == rejected
    assert _same(got_events, want_events)
    if not rejected:
        assert got_pings == want_pings
    points = data.draw(st.lists(st.integers(0, len(body)), max_size=30))
    assert decode(cut(body, points)) == whole
    assert decode([body[i : i + 1] for i in range(min(len(body), 3000))] + [body[3000:]]) == whole


@FUZZ
@given(body=st.binary(max_size=4000), points=st.lists(st.integers(0, 4000), max_size=20))
def test_arbitrary_bytes_only_raise_decode_errors(body: bytes, points: list[int]) -> None:
    whole = decode([body])
    assert decode(cut(body, points)) == whole


@FUZZ
@given(body=streams() | st.binary(max_size=2000))
def test_a_stream_of_anything_fails_only_with_a_dify_error(body: bytes) -> None:
    def server(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/stop"):
            return httpx.Response(200, json={"result": "success"})
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    stream = client(server, max_retries=0).stream_chat("hi", user=USER)
    with contextlib.suppress(DifyError):
        stream.final()


ENVELOPES = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda v: json.dumps(v).encode(), JSON_VALUES),
    st.builds(
        lambda code, msg, status: json.dumps(
            {"code": code, "message": msg, "status": status}, allow_nan=True
        ).encode(),
        st.one_of(st.none(), st.text(max_size=10), st.integers(), st.lists(st.integers())),
        st.one_of(st.none(), st.text(max_size=40), st.integers(), JSON_VALUES),
        st.one_of(st.integers(), st.floats(), st.text(max_size=5), st.none()),
    ),
    st.sampled_from([b"[" * 50000, b'{"status": Infinity}', b'{"code": NaN}', b"<html>x</html>"]),
)


@FUZZ
@given(status=st.integers(100, 599), body=ENVELOPES)
def test_error_envelopes_always_become_a_dify_error(status: int, body: bytes) -> None:
    err = make_status_error(status, body, secret="app-secret")
    assert isinstance(err, DifyError)
    assert "app-secret" not in str(err)
    str(err.body)


@FUZZ
@given(
    data=st.dictionaries(
        st.sampled_from(["event", "status", "code", "message", "task_id", "message_id"]),
        JSON_VALUES | st.sampled_from([math.inf, -math.inf, math.nan, 10**400]),
        max_size=6,
    )
)
def test_in_stream_error_events_always_become_a_dify_error(data: dict[str, Any]) -> None:
    assert isinstance(error_from_event({"event": "error", **data}), DifyError)


def test_reference_parser_follows_the_spec_examples() -> None:
    # The spec's own examples (WHATWG HTML 9.2.6).
    assert reference_events(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [("message", "YHOO\n+2\n10")]
    assert reference_events(b": test stream\n\ndata: first event\nid: 1\n\ndata:second\n\n") == [
        ("", None),
        ("message", "first event"),
        ("message", "second"),
    ]
    assert reference_events(b"data\n\ndata\ndata\n\ndata:") == [("message", ""), ("message", "\n")]
    assert reference_events(b"data:test\n\ndata: test\n\n") == [("message", "test")] * 2


@pytest.mark.parametrize(
    "body",
    [
        b"data: " + b"[" * 100000 + b"\n\n",
        b'data: {"a": NaN}\n\n',
        b'data: {"event": "message", "answer": "\\ud800"}\n\n',
        b"data: " + b"x" * 1_000_000 + b"\n\n",
    ],
)
def test_hostile_payloads_are_decode_errors_or_events(body: bytes) -> None:
    got = decode([body])
    assert got == decode(cut(body, list(range(0, len(body), 4093))))


def test_events_before_a_bad_frame_in_the_same_chunk_are_kept() -> None:
    # Found by the fuzzer: the good event was lost with the bad frame after it.
    dec = SSEDecoder()
    assert dec.feed(b'event: message\n\ndata: {"event": "a"}\n\ndata: [[\n\n') == [
        {"event": "message"},
        {"event": "a"},
    ]
    with pytest.raises(SSEDecodeError):
        dec.flush()


def test_a_frame_completed_by_a_final_cr_is_judged_not_dropped() -> None:
    # Found by the fuzzer: ``data: [\r\r`` at EOF is a complete frame with bad JSON.
    dec = SSEDecoder()
    assert dec.feed(b"data: [\r\r") == []
    with pytest.raises(SSEDecodeError):
        dec.flush()
    assert not dec.truncated
    cut_off = SSEDecoder()
    cut_off.feed(b"data: [\r")
    assert cut_off.flush() == []
    assert cut_off.truncated  # one line end only: the frame was cut off
