"""Stop, faults, the in-process transport and the socket server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from emu_helpers import Api, events, parse_sse

from dify_emulator import Emulator, Faults, start_emulator

CHAT = {"inputs": {}, "user": "u1", "response_mode": "streaming"}


def _open(api: Api, app: str, path: str, body: dict[str, Any], **headers: str) -> Any:
    return api.client.stream("POST", path, json=body, headers={**api.auth(app), **headers})


def _frames(resp: httpx.Response) -> Any:
    """Yield decoded frames as they arrive (None for pings)."""
    buf = b""
    for chunk in resp.iter_raw():
        buf += chunk
        while b"\n\n" in buf:
            frame, buf = buf.split(b"\n\n", 1)
            yield from parse_sse(frame + b"\n\n")


# -- stop -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("app", "path", "body", "stop_path"), [
    ("chat", "/chat-messages", {"query": "go slow"}, "/chat-messages/{}/stop"),
    ("agent", "/chat-messages", {"query": "go slow"}, "/chat-messages/{}/stop"),
    ("completion", "/completion-messages", {"inputs": {"query": "slow"}},
     "/completion-messages/{}/stop"),
    ("chatflow", "/chat-messages", {"query": "slow"}, "/chat-messages/{}/stop"),
    ("workflow", "/workflows/run", {"inputs": {"text": "slow"}}, "/workflows/tasks/{}/stop"),
])  # fmt: skip
def test_stop_takes_effect_within_a_delta(anyapi: Api, app, path, body, stop_path) -> None:
    t0 = time.monotonic()
    seen: list[dict[str, Any]] = []
    deltas_after_stop = 0
    stopped = False
    with _open(anyapi, app, path, {**CHAT, **body}) as resp:
        for ev in _frames(resp):
            assert ev is not None
            seen.append(ev)
            is_delta = ev["event"] in ("message", "agent_message", "text_chunk")
            if is_delta and stopped:
                deltas_after_stop += 1
            if (
                is_delta
                and not stopped
                and sum(e["event"] in ("message", "agent_message", "text_chunk") for e in seen) >= 2
            ):
                r = anyapi.post(app, stop_path.format(ev["task_id"]), {"user": "u1"})
                assert r.json() == {"result": "success"}
                stopped = True
    assert time.monotonic() - t0 < 3
    assert deltas_after_stop == 0
    names = [e["event"] for e in seen]
    if app in ("chatflow", "workflow"):
        fin = next(e for e in seen if e["event"] == "workflow_finished")["data"]
        assert fin["status"] == "stopped"
        assert fin["error"] == "Stopped by user."
        assert names[-1] == ("message_end" if app == "chatflow" else "workflow_finished")
    else:
        assert names[-1] == "message_end"
    assert anyapi.emu.stop_calls[-1] == (seen[0]["task_id"], "u1", app)


def test_stop_with_other_user_is_ignored_but_recorded(api: Api) -> None:
    with _open(api, "chat", "/chat-messages", {**CHAT, "query": "slow", "user": "owner"}) as resp:
        frames = _frames(resp)
        first = next(frames)
        assert first is not None
        api.post("chat", f"/chat-messages/{first['task_id']}/stop", {"user": "intruder"})
        nxt = next(frames)
        assert nxt is not None
        assert nxt["event"] == "message"
        api.post("chat", f"/chat-messages/{first['task_id']}/stop", {"user": "owner"})
        rest = [f for f in frames if f is not None]
    assert rest[-1]["event"] == "message_end"
    assert len(rest) <= 2
    assert [c.user for c in api.emu.stop_calls] == ["intruder", "owner"]
    # The partial answer is stored.
    msgs = api.get("chat", "/messages", params={"user": "owner",
                   "conversation_id": first["conversation_id"]}).json()  # fmt: skip
    assert msgs["data"][0]["answer"].startswith(first["answer"])
    r = api.post("chat", "/chat-messages/unknown-task/stop", {"user": "x"})
    assert r.json() == {"result": "success"}


def test_early_break_stops_generation(api: Api) -> None:
    with _open(api, "chat", "/chat-messages", {**CHAT, "query": "long 100000"}) as resp:
        frames = _frames(resp)
        first = next(frames)
    assert first is not None
    msgs = api.get("chat", "/messages", params={"user": "u1",
                   "conversation_id": first["conversation_id"]}).json()  # fmt: skip
    # Generation stopped with the reader: the stored answer is short, not 100k words.
    assert len(msgs["data"][0]["answer"].split()) < 1000


# -- faults ---------------------------------------------------------------------------------
def test_fault_chunk_and_ping(api: Api) -> None:
    clean = api.stream("chat", "/chat-messages", {**CHAT, "query": "What is Dify?"})
    with _open(api, "chat", "/chat-messages", {**CHAT, "query": "What is Dify?"},
               **{"X-Emulator-Fault": "chunk=1; ping_every=1"}) as resp:  # fmt: skip
        chunks = list(resp.iter_raw())
    assert all(len(c) == 1 for c in chunks)
    frames = parse_sse(b"".join(chunks))
    assert frames[0] is None
    assert frames[1] is not None
    assert all(frames[i] is None for i in range(2, len(frames), 2))
    assert [f["answer"] for f in frames if f and f["event"] == "message"] == [
        e["answer"] for e in clean if e["event"] == "message"
    ]


def test_fault_error_after(anyapi: Api) -> None:
    evs = anyapi.stream("chat", "/chat-messages", {**CHAT, "query": "What is Dify?"},
                        headers={"X-Emulator-Fault": "error_after=3"})  # fmt: skip
    assert [e["event"] for e in evs] == ["message"] * 3 + ["error"]
    err = evs[-1]
    assert err["code"] == "completion_request_error"
    assert err["status"] == 400
    assert "task_id" not in err
    assert err["conversation_id"] == evs[0]["conversation_id"]
    # Workflow apps never send an error event (README fact 12): the run fails instead.
    wf = anyapi.stream("workflow", "/workflows/run", {**CHAT, "inputs": {"text": "a b c d"}},
                       headers={"X-Emulator-Fault": "error_after=1"})  # fmt: skip
    names = [e["event"] for e in wf]
    assert "error" not in names
    assert names[-3:] == ["text_chunk", "node_finished", "workflow_finished"]
    assert names.count("text_chunk") == 1
    node, fin = wf[-2]["data"], wf[-1]["data"]
    assert (node["node_type"], node["status"]) == ("llm", "failed")
    assert fin["status"] == "failed"
    assert fin["error"] == "[emulator] injected failure after 1 deltas"
    assert node["error"] == fin["error"]
    run = anyapi.get("workflow", f"/workflows/run/{fin['id']}").json()
    assert run["status"] == "failed"
    # Chatflow: workflow_finished(failed), then error invalid_param "Run failed: ...".
    cf = anyapi.stream("chatflow", "/chat-messages", {**CHAT, "query": "one two three"},
                       headers={"X-Emulator-Fault": "error_after=2"})  # fmt: skip
    names = [e["event"] for e in cf]
    assert names.count("message") == 2
    assert "message_end" not in names
    assert names[-3:] == ["node_finished", "workflow_finished", "error"]
    assert cf[-2]["data"]["status"] == "failed"
    err = cf[-1]
    assert (err["code"], err["status"]) == ("invalid_param", 400)
    assert err["message"] == "Run failed: [emulator] injected failure after 2 deltas"
    assert "task_id" not in err
    assert list(err)[:4] == ["event", "conversation_id", "message_id", "created_at"]


def test_fault_drop_after_in_process(api: Api) -> None:
    with _open(api, "chat", "/chat-messages", {**CHAT, "query": "What is Dify?"},
               **{"X-Emulator-Fault": "drop_after=2"}) as resp:  # fmt: skip
        got: list[bytes] = []
        with pytest.raises(httpx.RemoteProtocolError):
            got.extend(resp.iter_raw())
    assert len(events(b"".join(got))) == 2


def test_fault_status_times_and_retry_after(api: Api) -> None:
    api.emu.set_faults("chat", Faults(status=429, times=2, retry_after=1))
    codes = [api.chat("hi").status_code for _ in range(3)]
    assert codes == [429, 429, 200]
    api.emu.set_faults("chat", Faults(status=429, retry_after=1.5))
    r = api.chat("hi")
    assert r.headers["retry-after"] == "1.5"
    assert r.json()["code"] == "too_many_requests"
    api.emu.clear_faults()
    hdr = {"X-Emulator-Fault": "status=503; times=2"}
    codes = [api.get("chat", "/info", headers=hdr).status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    codes = [api.get("chat", "/parameters", headers={"X-Emulator-Fault": "status=500; times=1"})
             .status_code for _ in range(2)]  # fmt: skip
    assert codes == [500, 200]
    posts = [r for r in api.emu.requests if r.method == "POST" and r.path == "/v1/chat-messages"]
    assert len(posts) == 4
    assert all("authorization" not in r.headers for r in api.emu.requests)
    assert posts[0].user == "u1"
    assert posts[0].body["query"] == "hi"


def test_fault_delays(api: Api) -> None:
    t0 = time.monotonic()
    api.stream("completion", "/completion-messages", {**CHAT, "inputs": {"query": "a b"}},
               headers={"X-Emulator-Fault": "first_byte_delay=0.3; delay=0.05"})  # fmt: skip
    assert time.monotonic() - t0 >= 0.3 + 0.05 * 3


# -- in-process transport -------------------------------------------------------------------
async def test_async_transport_lazy_and_stop() -> None:
    emu = Emulator()
    async with httpx.AsyncClient(transport=emu.transport(), base_url=emu.base_url) as client:
        h = {"Authorization": f"Bearer {emu.keys.chat}"}
        body = {**CHAT, "query": "slow please"}
        t0 = time.monotonic()
        async with client.stream("POST", "/chat-messages", json=body, headers=h) as resp:
            buf = b""
            async for chunk in resp.aiter_raw():
                buf += chunk
                evs = events(buf)
                if len(evs) == 2:
                    r = await client.post(f"/chat-messages/{evs[0]['task_id']}/stop",
                                          json={"user": "u1"}, headers=h)  # fmt: skip
                    assert r.status_code == 200
        assert events(buf)[-1]["event"] == "message_end"
        assert time.monotonic() - t0 < 2
    with pytest.raises(httpx.RemoteProtocolError):
        async with httpx.AsyncClient(transport=emu.transport(), base_url=emu.base_url) as c2:
            await c2.post(
                "/chat-messages",
                json={**CHAT, "query": "hi"},
                headers={**h, "X-Emulator-Fault": "drop_after=1"},
            )


# -- sockets --------------------------------------------------------------------------------
def test_socket_framing_one_chunk_per_frame(emulator: Emulator) -> None:
    with httpx.Client(base_url=emulator.base_url) as client:
        h = {"Authorization": f"Bearer {emulator.keys.chat}"}
        with client.stream("POST", "/chat-messages", json={**CHAT, "query": "What is Dify?"},
                           headers=h) as resp:  # fmt: skip
            assert resp.headers["transfer-encoding"] == "chunked"
            chunks = list(resp.iter_raw())
        assert all(c.endswith(b"\n\n") and c.count(b"\n\n") == 1 for c in chunks)
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/chat-messages", json={**CHAT, "query": "What is Dify?"},
                        headers={**h, "X-Emulator-Fault": "drop_after=2"})  # fmt: skip
        r = client.get("/")
        assert r.json()["server_version"] == "1.13.3"
        dbg = client.get(emulator.base_url.removesuffix("/v1") + "/_emulator/stop-calls")
        assert isinstance(dbg.json(), list)


async def test_200_concurrent_socket_streams(emulator_015: Emulator) -> None:
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
    h = {"Authorization": f"Bearer {emulator_015.keys.chat}"}

    async def one(client: httpx.AsyncClient, i: int) -> str:
        async with client.stream(
            "POST", "/chat-messages", headers=h, json={**CHAT, "user": f"c{i}", "query": f"q {i}"}
        ) as r:
            body = await r.aread()
        return events(body)[-1]["event"]

    async with httpx.AsyncClient(base_url=emulator_015.base_url, limits=limits,
                                 timeout=30) as client:  # fmt: skip
        results = await asyncio.gather(*(one(client, i) for i in range(200)))
    assert results == ["message_end"] * 200


def test_long_stream_is_fast(emulator: Emulator) -> None:
    t0 = time.monotonic()
    with httpx.Client(base_url=emulator.base_url, timeout=30) as client:
        h = {"Authorization": f"Bearer {emulator.keys.workflow}"}
        r = client.post("/workflows/run", headers=h,
                        json={**CHAT, "inputs": {"text": "long 20000"}})  # fmt: skip
    evs = events(r.content)
    assert sum(e["event"] == "text_chunk" for e in evs) > 20000
    assert time.monotonic() - t0 < 10


def test_context_manager_and_reset() -> None:
    with start_emulator(wire="0.15") as emu:
        with httpx.Client(base_url=emu.base_url) as c:
            h = {"Authorization": f"Bearer {emu.keys.chat}"}
            c.post(
                "/chat-messages",
                headers=h,
                json={**CHAT, "query": "x", "response_mode": "blocking"},
            )
            assert len(emu.requests) == 1
            root = emu.base_url.removesuffix("/v1")
            assert c.get(root + "/_emulator/requests").json()[0]["user"] == "u1"
            c.post(root + "/_emulator/reset")
            assert emu.requests == []
            assert c.get("/conversations", headers=h, params={"user": "u1"}).json()["data"] == []
        port = emu.port
    assert port is not None
    with pytest.raises(httpx.ConnectError), httpx.Client() as c:
        c.get(f"http://127.0.0.1:{port}/v1/")


def test_python_m_prints_url_and_keys() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "dify_emulator", "--port", "0", "--wire", "0.15"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(9)]
        url = lines[0].strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/v1")
        assert any("app-emulator-chat" in line for line in lines)
        r = httpx.get(url + "/", timeout=5)
        assert json.loads(r.text)["server_version"] == "0.15.3"
    finally:
        proc.terminate()
        proc.wait(10)
