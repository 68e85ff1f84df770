"""SSE decoder: any chunking of any valid stream gives the same events."""

from __future__ import annotations

import json

import pytest
from _tr_support import PING, frame, split, sse
from hypothesis import given, settings
from hypothesis import strategies as st

from dify_transport import SSEDecoder
from dify_transport._sse import SSEDecodeError


def decode(chunks: list[bytes]) -> tuple[list[dict], SSEDecoder]:
    dec = SSEDecoder()
    out: list[dict] = []
    for chunk in chunks:
        out += dec.feed(chunk)
    out += dec.flush()
    return out, dec


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=12
)  # includes multi-byte UTF-8, emoji, newlines, quotes


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(TEXT, min_size=1, max_size=8),
    compact=st.booleans(),
    crlf=st.booleans(),
    data=st.data(),
)
def test_any_split_gives_same_events(parts, compact, crlf, data):
    events = [{"event": "message", "answer": p, "n": i} for i, p in enumerate(parts)]
    pings = data.draw(st.lists(st.integers(0, len(events)), max_size=5))
    raw = sse(events, pings=pings, compact=compact, crlf=crlf)
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=40))
    got, dec = decode(split(raw, cuts))
    assert got == events
    assert dec.pings == len(pings)


def test_byte_by_byte_utf8():
    events = [{"event": "message", "answer": "héllo 🌍 世界"}]
    raw = sse(events)
    got, _ = decode([raw[i : i + 1] for i in range(len(raw))])
    assert got == events


def test_ping_only_stream_and_ping_first():
    got, dec = decode([PING, PING, frame({"event": "message_end"})])
    assert got == [{"event": "message_end"}]
    assert dec.pings == 2


def test_unknown_events_pass_through():
    got, _ = decode([frame({"event": "brand_new_event", "x": 1})])
    assert got == [{"event": "brand_new_event", "x": 1}]


def test_full_whatwg_parse_multiline_comments_and_fields():
    raw = (
        b": a comment\n"
        b"id: 7\n"
        b"retry: 3000\n"
        b"event: custom\n"
        b'data: {"a":\n'
        b"data: 1}\n\n"
        b'data:{"event":"message","answer":"x"}\n\n'
    )
    got, dec = decode([raw])
    assert got == [{"a": 1, "event": "custom"}, {"event": "message", "answer": "x"}]
    assert dec.last_event_id == "7"
    assert dec.retry == 3000


def test_cr_only_line_endings_and_cr_split_across_chunks():
    raw = frame({"event": "message", "answer": "a"}).replace(b"\n", b"\r")
    raw += frame({"event": "message_end"}).replace(b"\n", b"\r\n")
    for cut in range(len(raw)):
        got, _ = decode(split(raw, [cut]))
        assert got == [{"event": "message", "answer": "a"}, {"event": "message_end"}], cut


def test_final_frame_without_blank_line_is_flushed():
    got, _ = decode([b'data: {"event": "message_end"}'])
    assert got == [{"event": "message_end"}]


def test_done_sentinel_ignored_and_bom_stripped():
    got, _ = decode([b"\xef\xbb\xbf" + frame({"event": "message"}) + b"data: [DONE]\n\n"])
    assert got == [{"event": "message"}]


@pytest.mark.parametrize("cuts", [[1], [2], [1, 2], [3], [1, 4]])
def test_bom_split_across_first_chunks_keeps_first_event(cuts):
    raw = b"\xef\xbb\xbf" + frame({"event": "message", "answer": "a"}) + frame({"event": "x"})
    got, _ = decode(split(raw, cuts))
    assert got == [{"event": "message", "answer": "a"}, {"event": "x"}]


def test_short_first_chunk_that_is_not_a_bom_is_kept():
    got, _ = decode([b"d", b"a", b'ta: {"event": "message"}\n\n'])
    assert got == [{"event": "message"}]


def test_non_json_data_raises():
    with pytest.raises(SSEDecodeError):
        decode([b"data: not json\n\n"])


def test_non_object_json_is_wrapped():
    got, _ = decode([b"event: numbers\ndata: [1, 2]\n\n", b'data: {"no_event": 1}\n\n'])
    assert got == [{"event": "numbers", "data": [1, 2]}, {"no_event": 1, "event": "message"}]


def test_spaced_015_and_compact_1x_json_both_parse():
    ev = {"event": "message", "answer": "ü🌍"}
    spaced = b"data: " + json.dumps(ev).encode() + b"\n\n"
    compact = b"data: " + json.dumps(ev, ensure_ascii=False, separators=(",", ":")).encode()
    got, _ = decode([spaced, compact + b"\n\n"])
    assert got == [ev, ev]


def test_many_frames_one_chunk():
    events = [{"event": "message", "answer": str(i)} for i in range(50)]
    got, _ = decode([sse(events)])
    assert got == events
