"""Event sequences, envelopes and bodies against the real Dify 0.15.3 recordings."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any

import pytest
from emu_helpers import Api, events, recording


def _collapse(names: list[str]) -> list[str]:
    return [k for k, _ in groupby(names)]


def _step(e: dict[str, Any]) -> tuple[str, bool]:
    """Event name and whether it is an empty text delta."""
    text = e["data"].get("text") if e["event"] == "text_chunk" else e.get("answer")
    return e["event"], text == ""


def _recorded_events(name: str) -> list[dict[str, Any]]:
    raw = json.loads((recording(name) / "events.json").read_text())
    return [e["data"] for e in raw if e["data"] is not None]


def _key_shapes(evs: list[dict[str, Any]]) -> dict[str, tuple[list[str], list[str] | None]]:
    shapes: dict[str, tuple[list[str], list[str] | None]] = {}
    for e in evs:
        data = e.get("data")
        shapes.setdefault(e["event"], (list(e), list(data) if isinstance(data, dict) else None))
    return shapes


STREAMS = [
    ("chat", "/chat-messages", {"inputs": {}, "query": "What is Dify?"}, "chat_streaming_new"),
    ("chatflow", "/chat-messages", {"inputs": {}, "query": "Stream it"}, "chatflow_streaming_new"),
    ("agent", "/chat-messages", {"inputs": {}, "query": "What time is it?"},
     "agent_streaming_new"),
    ("completion", "/completion-messages", {"inputs": {"query": "Stream a completion"}},
     "completion_streaming"),
    ("workflow", "/workflows/run", {"inputs": {"text": "Stream workflow"}},
     "workflow_run_streaming"),
]  # fmt: skip


@pytest.mark.parametrize(("app", "path", "body", "rec"), STREAMS)
def test_015_stream_matches_recording(api015: Api, app, path, body, rec) -> None:
    ours = api015.stream(app, path, {**body, "user": "u1"})
    theirs = _recorded_events(rec)
    # Same sequence, including where the provider's empty deltas fall (README fact 8).
    assert _collapse([_step(e) for e in ours]) == _collapse([_step(e) for e in theirs])
    ours_shapes, their_shapes = _key_shapes(ours), _key_shapes(theirs)
    assert ours_shapes.keys() == their_shapes.keys()
    for name, (top, data) in their_shapes.items():
        assert ours_shapes[name][0] == top, name
        if data is not None and name != "text_chunk":
            assert set(ours_shapes[name][1] or []) == set(data), name
    end = ours[-1]
    if end["event"] == "message_end":
        theirs_end = next(e for e in theirs if e["event"] == "message_end")
        assert list(end["metadata"]["usage"]) == list(theirs_end["metadata"]["usage"])


def test_015_retriever_resources_shape(api015: Api) -> None:
    ours = api015.stream("chat", "/chat-messages", {"inputs": {}, "query": "sky", "user": "u"})
    theirs = next(e for e in _recorded_events("chat_streaming_new") if e["event"] == "message_end")
    res = ours[-1]["metadata"]["retriever_resources"]
    assert len(res) == 3
    assert list(res[0]) == list(theirs["metadata"]["retriever_resources"][0])
    assert [r["position"] for r in res] == [1, 2, 3]
    assert res[0]["document_name"] == "sky.txt"
    assert {r["retriever_from"] for r in res} == {"api"}


def test_015_frames_are_spaced_ascii(api015: Api) -> None:
    r = api015.post("chat", "/chat-messages", {"inputs": {}, "query": "Grüße 🌍", "user": "u",
                                               "response_mode": "streaming"})  # fmt: skip
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.headers["x-version"] == "0.15.3"
    assert r.content.startswith(b'data: {"event": "message", "conversation_id": ')
    assert b"\\u00fc" in r.content
    assert r.content.isascii()
    assert b"event:" not in r.content
    assert b"[DONE]" not in r.content


def test_1x_frames_are_compact_utf8(api: Api) -> None:
    r = api.post("chat", "/chat-messages", {"inputs": {}, "query": "Grüße 🌍", "user": "u",
                                            "response_mode": "streaming"})  # fmt: skip
    assert r.content.startswith(b'data: {"event":"message","conversation_id":')
    assert "Grüße".encode() in r.content
    end = events(r.content)[-1]
    assert list(end["metadata"]) == ["annotation_reply", "retriever_resources", "usage"]
    usage = end["metadata"]["usage"]
    assert {"time_to_first_token", "time_to_generate"} <= usage.keys()
    assert isinstance(usage["total_price"], str)
    assert isinstance(usage["latency"], float)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_chatflow_terminal_order_per_wire(api: Api, api015: Api) -> None:
    body = {"inputs": {}, "query": "order", "user": "u"}
    new = [e["event"] for e in api.stream("chatflow", "/chat-messages", body)]
    old = [e["event"] for e in api015.stream("chatflow", "/chat-messages", body)]
    assert old[-2:] == ["workflow_finished", "message_end"]
    assert new[-2:] == ["message_end", "workflow_finished"]
    assert "sequence_number" not in api.stream("workflow", "/workflows/run",
        {"inputs": {"text": "x"}, "user": "u"})[0]["data"]  # fmt: skip


def test_agent_thought_upserts(api: Api) -> None:
    evs = api.stream("agent", "/chat-messages", {"inputs": {}, "query": "what date", "user": "u"})
    thoughts = [e for e in evs if e["event"] == "agent_thought"]
    first = [t for t in thoughts if t["position"] == 1]
    assert len(first) == 3
    assert len({t["id"] for t in first}) == 1
    assert first[1]["tool"] == "current_time"
    assert first[1]["tool_input"]
    assert json.loads(first[2]["observation"])["current_time"]
    answer = "".join(e["answer"] for e in evs if e["event"] == "agent_message")
    assert thoughts[-1]["thought"] == answer
    # Second turn without a time question: no tool.
    cid = evs[0]["conversation_id"]
    evs2 = api.stream(
        "agent",
        "/chat-messages",
        {"inputs": {}, "query": "thanks", "user": "u", "conversation_id": cid},
    )
    assert {t["tool"] for t in evs2 if t["event"] == "agent_thought"} == {""}
    assert "Earlier you asked" in "".join(e.get("answer", "") for e in evs2)


@pytest.mark.parametrize(("app", "path", "body", "rec"), [
    ("chat", "/chat-messages", {"inputs": {"name": "Ada"}, "query": "sky?"}, "chat_blocking_new"),
    ("completion", "/completion-messages", {"inputs": {"query": "x"}}, "completion_blocking"),
    ("workflow", "/workflows/run", {"inputs": {"text": "x", "count": 3}}, "workflow_run_blocking"),
])  # fmt: skip
def test_015_blocking_matches_recording(api015: Api, app, path, body, rec) -> None:
    r = api015.post(app, path, {**body, "user": "u", "response_mode": "blocking"})
    theirs = json.loads((recording(rec) / "body.bin").read_bytes())
    assert r.status_code == 200
    assert list(r.json()) == list(theirs)
    assert not r.content.endswith(b"\n")
    if "data" in theirs:
        assert list(r.json()["data"]) == list(theirs["data"])
        outputs = r.json()["data"]["outputs"]
        assert list(outputs) == ["result", "echo_count"]
        assert outputs["echo_count"] == 3
        assert outputs["result"].startswith('I could not find anything about "x"')


@pytest.mark.parametrize("app", ["chat", "completion", "workflow", "chatflow", "agent"])
def test_015_parameters_and_info_keys(api015: Api, app: str) -> None:
    rec = {"chat": "chat", "completion": "completion", "workflow": "workflow",
           "chatflow": "chatflow", "agent": "agent"}[app]  # fmt: skip
    theirs = json.loads((recording(f"{rec}_parameters") / "body.bin").read_bytes())
    ours = api015.get(app, "/parameters").json()
    assert list(ours) == list(theirs)
    assert (
        ours["user_input_form"]
        and next(iter(ours["user_input_form"][0].values())).keys()
        == (next(iter(theirs["user_input_form"][0].values())).keys())
        if theirs["user_input_form"]
        else True
    )
    info = api015.get(app, "/info").json()
    assert list(info) == ["name", "description", "tags"]


def test_info_1x_has_mode(api: Api) -> None:
    assert api.get("agent", "/info").json()["mode"] == "agent-chat"
    assert api.get("chat", "/site").status_code == 200
    assert "current_time" in api.get("agent", "/meta").json()["tool_icons"]


def test_index_without_key(anyapi: Api) -> None:
    body = anyapi.client.get("/").json()
    assert body["welcome"] == "Dify OpenAPI"
