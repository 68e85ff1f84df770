"""The proxy example without a browser (Starlette's TestClient): auth, isolation, refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from _proxy_support import Proxy

from dify_emulator import Emulator
from dify_transport import DifyConfigError

pytest.importorskip("starlette", reason="pip install -e '.[examples]'")
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from examples.proxy.app import ProxySettings, create_app

EVIL = {"Origin": "http://evil.example"}
SAME = {"Origin": "http://testserver"}


@pytest.fixture
def app(emulator: Emulator) -> Any:
    return create_app(ProxySettings(api_key=emulator.keys.chat, base_url=emulator.base_url))


@pytest.fixture
def clients(app: Any) -> Iterator[tuple[TestClient, TestClient]]:
    with TestClient(app) as alice, TestClient(app) as bob:
        for client, name in ((alice, "alice"), (bob, "bob")):
            response = client.post(
                "/api/login", json={"username": name, "password": f"{name}-password"}
            )
            assert response.status_code == 200
            cookie = response.headers["set-cookie"].lower()
            assert "httponly" in cookie
            assert "samesite=strict" in cookie
        yield alice, bob


def sse_events(client: TestClient, turn_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/chat/{turn_id}/events")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return [
        json.loads(line[len("data: ") :])
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]


def test_a_turn_streams_to_its_owner_only(
    clients: tuple[TestClient, TestClient], emulator: Emulator
) -> None:
    alice, bob = clients
    turn_id = alice.post("/api/chat", json={"message": "Why is the sky blue?"}).json()["turn_id"]
    assert bob.get(f"/api/chat/{turn_id}/events").status_code == 204
    assert bob.post(f"/api/chat/{turn_id}/stop").status_code == 404
    events = sse_events(alice, turn_id)
    assert events[0]["type"] == "start"
    assert events[-1]["type"] == "end"
    answer = "".join(e["text"] for e in events if e["type"] == "delta")
    assert "sky" in answer.lower()
    assert "sky.txt" in [s["document"] for s in events[-1]["sources"]]
    assert alice.get(f"/api/chat/{turn_id}/events").status_code == 204, "a turn streams once"
    me = alice.get("/api/me").json()
    assert me == {"username": "alice", "conversation_id": events[-1]["conversation_id"]}
    assert bob.get("/api/me").json()["conversation_id"] is None
    (request,) = [r for r in emulator.requests if r.user == "web-alice"]
    assert request.body["query"] == "Why is the sky blue?"
    assert emulator.keys.chat not in json.dumps(events)


def test_the_websocket_needs_a_session_and_this_origin(app: Any) -> None:
    with TestClient(app) as anonymous:
        with pytest.raises(WebSocketDisconnect) as refused, anonymous.websocket_connect("/api/ws"):
            pass
        assert refused.value.code == 4401
        anonymous.post("/api/login", json={"username": "bob", "password": "bob-password"})
        with (
            pytest.raises(WebSocketDisconnect),
            anonymous.websocket_connect("/api/ws", headers=EVIL),
        ):
            pass
        with anonymous.websocket_connect("/api/ws", headers=SAME) as ws:
            ws.send_json({"type": "ask", "message": "What is Dify?"})
            events = [ws.receive_json()]
            while events[-1]["type"] not in ("end", "stopped", "error"):
                events.append(ws.receive_json())
            assert events[0]["type"] == "start"
            assert events[-1]["type"] == "end"
            ws.send_json({"type": "ask", "message": " "})
            assert ws.receive_json() == {"type": "error", "message": "Type a question first."}


def test_refusals(clients: tuple[TestClient, TestClient], app: Any) -> None:
    alice, _ = clients
    assert alice.post("/api/chat", json={"message": "hi"}, headers=EVIL).status_code == 401
    assert alice.post("/api/chat", json={"message": ""}).status_code == 400
    assert alice.post("/api/chat", json={"message": "x" * 4001}).status_code == 400
    first = alice.post("/api/chat", json={"message": "first"}).json()["turn_id"]
    second = alice.post("/api/chat", json={"message": "second"}).json()["turn_id"]
    assert alice.get(f"/api/chat/{first}/events").status_code == 204, "replaced: never streamed"
    assert [e["type"] for e in sse_events(alice, second)][-1] == "end"
    with TestClient(app) as stranger:
        assert stranger.post("/api/chat", json={"message": "hi"}).status_code == 401
        wrong = stranger.post("/api/login", json={"username": "alice", "password": "bob-password"})
        assert wrong.status_code == 401
        assert "set-cookie" not in wrong.headers
        cross = stranger.post(
            "/api/login", json={"username": "alice", "password": "alice-password"}, headers=EVIL
        )
        assert cross.status_code == 403
        page = stranger.get("/")
        assert "script-src 'self'" in page.headers["content-security-policy"]


def test_one_turn_at_a_time_and_stop_over_the_socket(proxy: Proxy) -> None:
    emulator = proxy.emulator
    app = create_app(ProxySettings(api_key=emulator.keys.chat, base_url=emulator.base_url))
    with TestClient(app) as client:
        client.post("/api/login", json={"username": "bob", "password": "bob-password"})
        with client.websocket_connect("/api/ws", headers=SAME) as ws:
            ws.send_json({"type": "ask", "message": "Tell me about LlamaIndex and retrieval."})
            assert ws.receive_json()["type"] == "start"
            assert ws.receive_json()["type"] == "delta"
            assert client.post("/api/chat", json={"message": "again"}).status_code == 409
            assert client.post("/api/conversation/new").status_code == 409
            stops_before = len(emulator.stop_calls)
            ws.send_json({"type": "stop"})
            event = ws.receive_json()
            while event["type"] == "delta":
                event = ws.receive_json()
            assert event["type"] == "stopped"
            assert event["answer"]
        assert [call[1] for call in emulator.stop_calls[stops_before:]] == ["web-bob"]
        assert client.post("/api/chat", json={"message": "again"}).status_code == 200


def test_the_proxy_needs_a_key() -> None:
    with pytest.raises(DifyConfigError, match="DIFY_API_KEY"):
        create_app(ProxySettings(base_url="http://127.0.0.1:9/v1"))
