"""Wire features of real Dify streams: time-based pings, message_replace, T5, TTS, empty deltas."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import pytest
from emu_helpers import Api, events, parse_sse

from dify_emulator import Emulator

CHAT = {"inputs": {}, "user": "u1", "response_mode": "streaming"}
REPLACED = "[emulator] This answer was replaced by output moderation."
FAULT = "X-Emulator-Fault"


def _raw(api: Api, app: str, path: str, body: dict[str, Any], fault: str = "") -> bytes:
    headers = {FAULT: fault} if fault else {}
    r = api.post(app, path, {**CHAT, **body}, headers=headers)
    assert r.status_code == 200, r.text
    return r.content


def _deltas(evs: list[dict[str, Any]], name: str = "message") -> list[str]:
    return [e["answer"] for e in evs if e["event"] == name]


# -- time-based pings (docs/wire-traps.md T2) ------------------------------------------------------
@pytest.mark.parametrize(("app", "path", "body"), [
    ("chat", "/chat-messages", {"query": "What is Dify?"}),
    ("workflow", "/workflows/run", {"inputs": {"text": "one two three four five six"}}),
])  # fmt: skip
def test_time_based_pings_anywhere_in_the_stream(anyapi: Api, app, path, body) -> None:
    t0 = time.monotonic()
    frames = parse_sse(_raw(anyapi, app, path, body, "ping_interval=0.1; delay=0.03"))
    elapsed = time.monotonic() - t0
    pings = [i for i, f in enumerate(frames) if f is None]
    # One ping per 0.1 s elapsed since the request started, between data frames.
    assert 0.5 * elapsed / 0.1 <= len(pings) <= elapsed / 0.1 + 1
    assert pings[0] > 0
    assert pings[-1] < len(frames) - 1
    data = [f for f in frames if f is not None]
    assert data[-1]["event"] in ("message_end", "workflow_finished")


def test_pings_split_a_long_pause(api: Api) -> None:
    # Three deltas 0.35 s apart: pings come in the middle of each pause, not only at frames.
    frames = parse_sse(
        _raw(api, "completion", "/completion-messages", {"inputs": {"query": "a b"}},
             "ping_interval=0.1; delay=0.35")
    )  # fmt: skip
    gaps: list[int] = []
    run = 0
    for f in frames:
        if f is None:
            run += 1
        else:
            gaps.append(run)
            run = 0
    assert max(gaps) >= 3


def test_default_ping_interval_is_ten_seconds(anyapi: Api) -> None:
    # A fast stream (< 10 s) has no ping at all.
    assert None not in parse_sse(_raw(anyapi, "chat", "/chat-messages", {"query": "hi"}))
    # The frame-count fault is independent of the clock.
    frames = parse_sse(_raw(anyapi, "chat", "/chat-messages", {"query": "hi"}, "ping_every=2"))
    assert frames[0] is None


def test_time_based_pings_over_the_socket(emulator: Emulator) -> None:
    h = {"Authorization": f"Bearer {emulator.keys.chat}", FAULT: "ping_interval=0.1; delay=0.03"}
    with httpx.Client(base_url=emulator.base_url, timeout=10) as client:
        r = client.post("/chat-messages", headers=h, json={**CHAT, "query": "What is Dify?"})
    assert b"event: ping\n\n" in r.content
    assert events(r.content)[-1]["event"] == "message_end"


# -- message_replace (output moderation, wire trap T6) --------------------------------------------
def test_message_replace_chat_streaming_blocking_and_history(anyapi: Api) -> None:
    evs = events(_raw(anyapi, "chat", "/chat-messages", {"query": "Please moderate this"}))
    names = [e["event"] for e in evs]
    assert names[-2:] == ["message_replace", "message_end"]
    assert "".join(_deltas(evs)).startswith("Based on") or _deltas(evs)[0]
    rep = evs[-2]
    assert rep["answer"] == REPLACED
    assert rep["task_id"] == evs[0]["task_id"]
    if anyapi.emu.wire == "1.x":
        assert list(rep)[-2:] == ["answer", "reason"]
        assert rep["reason"] == ""
    else:
        assert "reason" not in rep
    msgs = anyapi.get("chat", "/messages", params={"user": "u1",
                      "conversation_id": evs[0]["conversation_id"]}).json()  # fmt: skip
    assert msgs["data"][-1]["answer"] == REPLACED
    blocking = anyapi.chat("moderate me").json()
    assert blocking["answer"] == REPLACED


def test_message_replace_by_fault_and_in_chatflow(api: Api, api015: Api) -> None:
    evs = events(_raw(api, "completion", "/completion-messages", {"inputs": {"query": "x"}},
                      "moderate=1"))  # fmt: skip
    assert [e["event"] for e in evs][-2:] == ["message_replace", "message_end"]
    assert "conversation_id" not in evs[-2]
    evs = events(_raw(api, "chat", "/chat-messages", {"query": "moderate"}, "moderate=0"))
    assert "message_replace" not in [e["event"] for e in evs]
    new = events(_raw(api, "chatflow", "/chat-messages", {"query": "moderate it"}))
    assert [e["event"] for e in new][-3:] == ["message_replace", "message_end",
                                              "workflow_finished"]  # fmt: skip
    assert new[-3]["reason"] == "output_moderation"
    old = events(_raw(api015, "chatflow", "/chat-messages", {"query": "moderate it"}))
    assert [e["event"] for e in old][-3:] == ["workflow_finished", "message_replace",
                                              "message_end"]  # fmt: skip
    assert "reason" not in old[-2]
    agent = events(_raw(api, "agent", "/chat-messages", {"query": "moderate"}))
    assert [e["event"] for e in agent][-2:] == ["message_replace", "message_end"]
    r = api.chat("moderate", app="chatflow")
    assert r.json()["answer"] == REPLACED


# -- wire trap T5: answer deltas named message_file -----------------------------------------------
def _upload(api: Api) -> str:
    r = api.client.post("/files/upload", headers=api.auth("chat"), data={"user": "u1"},
                        files={"file": ("cat.png", b"\x89PNG\r\n\x1a\n", "image/png")})  # fmt: skip
    assert r.status_code == 201
    return str(r.json()["id"])


def test_t5_text_deltas_as_message_file_with_files(anyapi: Api) -> None:
    files = [{"type": "image", "transfer_method": "local_file", "upload_file_id": _upload(anyapi)}]
    evs = events(_raw(anyapi, "chat", "/chat-messages", {"query": "see", "files": files}))
    if anyapi.emu.wire == "0.15":
        assert "message_file" not in [e["event"] for e in evs]
        return
    deltas = [e for e in evs if e["event"] == "message_file"]
    assert deltas
    assert "message" not in [e["event"] for e in evs]
    assert list(deltas[0]) == ["event", "conversation_id", "message_id", "created_at",
                               "task_id", "id", "answer", "from_variable_selector"]  # fmt: skip
    assert all("url" not in e for e in deltas)
    assert "I received 1 image." in "".join(e["answer"] for e in deltas)
    assert evs[-1]["event"] == "message_end"
    blocking = anyapi.chat("see", files=files).json()
    assert "I received 1 image." in blocking["answer"]


def test_t5_by_fault(api: Api) -> None:
    evs = events(_raw(api, "completion", "/completion-messages", {"inputs": {"query": "x"}},
                      "t5=1"))  # fmt: skip
    assert {e["event"] for e in evs} == {"message_file", "message_end"}
    assert "conversation_id" not in evs[0]
    files = [{"type": "image", "transfer_method": "local_file", "upload_file_id": _upload(api)}]
    evs = events(_raw(api, "chat", "/chat-messages", {"query": "x", "files": files}, "t5=0"))
    assert "message_file" not in [e["event"] for e in evs]


# -- TTS ------------------------------------------------------------------------------
def test_tts_events_interleave_and_end_after_message_end(anyapi: Api) -> None:
    evs = events(_raw(anyapi, "chat", "/chat-messages", {"query": "What is Dify?"}, "tts=1"))
    names = [e["event"] for e in evs]
    end = names.index("message_end")
    assert names[-1] == "tts_message_end"
    assert "tts_message" in names[:end]  # interleaved with the deltas
    assert "tts_message" in names[end:]  # and following message_end: read to EOF
    audio = [e for e in evs if e["event"] == "tts_message"]
    assert base64.b64decode(audio[0]["audio"]).startswith(b"ID3")
    assert list(audio[0]) == ["event", "conversation_id", "message_id", "created_at",
                              "task_id", "audio"]  # fmt: skip
    assert evs[-1]["audio"] == ""
    assert evs[-1]["task_id"] == evs[0]["task_id"]
    # Without the option, or on an app without TTS, no audio events.
    plain = events(_raw(anyapi, "chat", "/chat-messages", {"query": "What is Dify?"}))
    assert not any(e["event"].startswith("tts") for e in plain)
    agent = events(_raw(anyapi, "agent", "/chat-messages", {"query": "hi"}, "tts=1"))
    assert not any(e["event"].startswith("tts") for e in agent)
    assert anyapi.chat("What is Dify?", headers={FAULT: "tts=1"}).status_code == 200


# -- empty deltas (README fact 8) ------------------------------------------------------------
def test_recorded_empty_deltas(anyapi: Api) -> None:
    agent = events(_raw(anyapi, "agent", "/chat-messages", {"query": "what time is it"}))
    names = [e["event"] for e in agent]
    assert names[:3] == ["agent_thought", "agent_message", "agent_message"]
    assert _deltas(agent[1:3], "agent_message") == ["", ""]
    chat = events(_raw(anyapi, "chat", "/chat-messages", {"query": "hi"}))
    assert chat[-2]["event"] == "message"
    assert chat[-2]["answer"] == ""
    assert all(_deltas(chat)[:-1])
