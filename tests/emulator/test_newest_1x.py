"""The newest documented 1.x wire: human input, reconnect, reasoning, variables, extras."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from emu_helpers import Api, events

from dify_emulator import start_emulator


def _wait_status(api: Api, app: str, run_id: str, status: str) -> dict[str, Any]:
    for _ in range(200):
        detail = api.get(app, f"/workflows/run/{run_id}").json()
        if detail["status"] == status:
            return detail
        time.sleep(0.02)
    raise AssertionError(f"run never reached {status}")


def _follow(api: Api, app: str, run_id: str, user: str = "u") -> list[dict[str, Any]]:
    r = api.get(app, f"/workflow/{run_id}/events", params={"user": user})
    assert r.status_code == 200, r.text
    return events(r.content)


def test_review_workflow_pauses_and_resumes(api: Api) -> None:
    evs = api.stream("review_workflow", "/workflows/run",
                     {"inputs": {"text": "Why is the sky blue?"}, "user": "u"})  # fmt: skip
    names = [e["event"] for e in evs]
    assert names[0] == "workflow_started"
    assert evs[0]["data"]["reason"] == "initial"
    assert names[-2:] == ["human_input_required", "workflow_paused"]
    assert "text_chunk" in names
    form = evs[-2]["data"]
    assert {"form_id", "node_id", "node_title", "form_content", "inputs", "actions",
            "display_in_ui", "form_token", "resolved_default_values",
            "expiration_time"} <= set(form)  # fmt: skip
    assert [a["id"] for a in form["actions"]] == ["approve", "reject"]
    paused = evs[-1]["data"]
    assert paused["status"] == "paused"
    assert paused["paused_nodes"] == [form["node_id"]]
    assert paused["reasons"][0]["TYPE"] == "human_input_required"
    run_id = evs[0]["workflow_run_id"]
    assert _wait_status(api, "review_workflow", run_id, "paused")["status"] == "paused"
    token = form["form_token"]
    got = api.get("review_workflow", f"/form/human_input/{token}").json()
    assert [a["id"] for a in got["user_actions"]] == ["approve", "reject"]
    assert got["inputs"][1]["option_source"]["value"] == ["low", "normal", "high"]
    bad = api.post("review_workflow", f"/form/human_input/{token}",
                   {"inputs": {}, "action": "approve", "user": "u"})  # fmt: skip
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_form_data")
    ok = api.post("review_workflow", f"/form/human_input/{token}",
                  {"inputs": {"priority": "high", "comment": "Fine"}, "action": "approve",
                   "user": "u"})  # fmt: skip
    assert (ok.status_code, ok.json()) == (200, {})
    payload = {"inputs": {"priority": "high"}, "action": "approve", "user": "u"}
    again = api.post("review_workflow", f"/form/human_input/{token}", payload)
    assert (again.status_code, again.json()["code"]) == (412, "human_input_form_submitted")
    rest = _follow(api, "review_workflow", run_id)
    assert rest[0]["event"] == "human_input_form_filled"
    assert rest[0]["data"]["action_id"] == "approve"
    assert rest[-1]["event"] == "workflow_finished"
    assert rest[-1]["data"]["outputs"]["decision"] == "approve"
    detail = _wait_status(api, "review_workflow", run_id, "succeeded")
    assert "approve" in detail["outputs"]
    # A finished run: exactly one workflow_finished; another user: 404.
    assert [e["event"] for e in _follow(api, "review_workflow", run_id)] == ["workflow_finished"]
    r = api.get("review_workflow", f"/workflow/{run_id}/events", params={"user": "other"})
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


def test_review_chatflow_expired_form_and_blocking(api: Api) -> None:
    evs = api.stream("review_chatflow", "/chat-messages",
                     {"inputs": {}, "query": "What is Dify?", "user": "u"},
                     headers={"X-Emulator-Fault": "form_ttl=0.05"})  # fmt: skip
    assert [e["event"] for e in evs][-2:] == ["human_input_required", "workflow_paused"]
    assert all(e["message_id"] == evs[0]["message_id"] for e in evs)
    token = evs[-2]["data"]["form_token"]
    time.sleep(0.1)
    r = api.get("review_chatflow", f"/form/human_input/{token}")
    assert (r.status_code, r.json()["code"]) == (412, "human_input_form_expired")
    rest = _follow(api, "review_chatflow", evs[0]["workflow_run_id"])
    assert rest[0]["event"] == "human_input_form_timeout"
    assert [e["event"] for e in rest][-2:] == ["message_end", "workflow_finished"]
    body = api.chat("What is Dify?", app="review_chatflow").json()
    assert body["event"] == "workflow_paused"
    assert body["reasons"][0]["form_token"]
    wf = api.post("review_workflow", "/workflows/run", {"inputs": {"text": "x"}, "user": "u",
                  "response_mode": "blocking"}).json()  # fmt: skip
    assert wf["data"]["status"] == "paused"
    assert wf["data"]["reasons"][0]["form_token"]
    assert api.get("review_chatflow", "/form/human_input/nope").status_code == 404


def test_detach_fault_run_goes_on_and_reconnect(api: Api) -> None:
    with start_emulator() as emu, httpx.Client(base_url=emu.base_url, timeout=10) as c:
        h = {"Authorization": f"Bearer {emu.keys.workflow}",
             "X-Emulator-Fault": "detach_after=6; delay=0.05"}  # fmt: skip
        seen: list[bytes] = []
        body = {"inputs": {"text": "long 30"}, "user": "u", "response_mode": "streaming"}
        with c.stream("POST", "/workflows/run", headers=h, json=body) as r:
            with pytest.raises(httpx.HTTPError):
                seen.extend(r.iter_bytes())
        first = events(b"".join(seen))
        assert len(first) == 6
        run_id = first[0]["workflow_run_id"]
        h.pop("X-Emulator-Fault")
        rest = events(c.get(f"/workflow/{run_id}/events", params={"user": "u"}, headers=h).content)
        assert rest[-1]["event"] == "workflow_finished"
        final = rest[-1]["data"]["outputs"]["result"]
        resumed = "".join(e["data"]["text"] for e in rest if e["event"] == "text_chunk")
        assert final.endswith(resumed)
        assert len(resumed) < len(final)
        for _ in range(100):
            detail = c.get(f"/workflows/run/{run_id}", headers=h).json()
            if detail["status"] == "succeeded":
                break
            time.sleep(0.02)
        assert "w30" in detail["outputs"]


def test_replay_fault_repeats_what_a_running_run_already_sent() -> None:
    with start_emulator() as emu, httpx.Client(base_url=emu.base_url, timeout=10) as c:
        h = {"Authorization": f"Bearer {emu.keys.workflow}",
             "X-Emulator-Fault": "detach_after=4; delay=0.05; replay=1"}  # fmt: skip
        body = {"inputs": {"text": "long 30"}, "user": "u", "response_mode": "streaming"}
        seen: list[bytes] = []
        with c.stream("POST", "/workflows/run", headers=h, json=body) as r:
            with pytest.raises(httpx.HTTPError):
                seen.extend(r.iter_bytes())
        first = events(b"".join(seen))
        run_id = first[0]["workflow_run_id"]
        rest = events(c.get(f"/workflow/{run_id}/events", params={"user": "u"}, headers=h).content)
        assert [e["event"] for e in rest[:4]] == [e["event"] for e in first]  # the repeats
        assert rest[-1]["event"] == "workflow_finished"
        later = events(c.get(f"/workflow/{run_id}/events", params={"user": "u"}, headers=h).content)
        assert [e["event"] for e in later] == ["workflow_finished"]  # finished: no snapshot


def test_reasoning_think_variables_and_429s(api: Api) -> None:
    evs = api.stream("reasoning", "/chat-messages",
                     {"inputs": {}, "query": "Why is the sky blue?", "user": "u"})  # fmt: skip
    chunks = [e for e in evs if e["event"] == "reasoning_chunk"]
    assert chunks
    assert chunks[-1]["data"]["is_final"]
    assert "workflow_run_id" not in chunks[0]
    assert set(chunks[0]["data"]) == {"message_id", "reasoning", "node_id", "is_final"}
    answer = "".join(e["answer"] for e in evs if e["event"] == "message")
    assert "<think>" not in answer
    assert answer.startswith("The sky is blue")
    think = api.chat("Why is the sky blue?", app="think").json()["answer"]
    assert think.startswith("<think>\n")
    assert "</think>\n\nThe sky is blue" in think
    cid = api.chat("What is Dify?", app="chatflow").json()["conversation_id"]
    got = api.get("chatflow", f"/conversations/{cid}/variables", params={"user": "u1"}).json()
    by_name = {v["name"]: v for v in got["data"]}
    assert by_name["turn_count"]["value"] == "1"
    assert by_name["last_question"]["value"] == "What is Dify?"
    url = f"/conversations/{cid}/variables/{by_name['user_name']['id']}"
    r = api.client.put(url, json={"value": "Ada", "user": "u1"}, headers=api.auth("chatflow"))
    assert r.json()["value"] == "Ada"
    bad = api.client.put(url, json={"value": 3, "user": "u1"}, headers=api.auth("chatflow"))
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_request")
    assert api.chat("thanks", app="chatflow", conversation_id=cid).json()["answer"].count("Hi Ada!")
    for spec, code in (("status=429", "too_many_requests"),
                       ("status=429; quota=1", "rate_limit_error")):  # fmt: skip
        r = api.get("chat", "/parameters", headers={"X-Emulator-Fault": spec})
        assert (r.status_code, r.json()["code"]) == (429, code)


def test_extras_and_trace_id(api: Api) -> None:
    api.post("chat", "/chat-messages", {"inputs": {}, "query": "hi", "user": "u1"},
             headers={"X-Trace-Id": "trace-123"})  # fmt: skip
    assert api.emu.requests[-1].headers["x-trace-id"] == "trace-123"
    eu = api.emu._store.end_user("chat", "u1")
    detail = api.get("chat", f"/end-users/{eu}").json()
    assert (detail["external_user_id"], detail["type"]) == ("u1", "service-api")
    assert detail["created_at"].endswith("Z")
    assert api.get("chat", "/end-users/x").json()["code"] == "end_user_not_found"
    up = api.client.post("/files/upload", headers=api.auth("chat"), data={"user": "u1"},
                         files={"file": ("a.txt", b"hello", "text/plain")}).json()  # fmt: skip
    r = api.get("chat", f"/files/{up['id']}/preview", params={"as_attachment": "true"})
    assert r.content == b"hello"
    assert "attachment" in r.headers["content-disposition"]
    assert api.get("chat", "/files/nope/preview").json()["code"] == "file_not_found"
    a = api.post("chat", "/apps/annotations", {"question": "Q?", "answer": "A."})
    assert a.status_code == 201
    assert a.json()["hit_count"] == 0
    aid = a.json()["id"]
    r = api.client.put(f"/apps/annotations/{aid}", json={"question": "Q2?", "answer": "B."},
                       headers=api.auth("chat"))  # fmt: skip
    assert r.json()["answer"] == "B."
    listed = api.get("chat", "/apps/annotations", params={"keyword": "Q2"}).json()
    assert (listed["total"], listed["page"]) == (1, 1)
    assert (
        api.client.delete(f"/apps/annotations/{aid}", headers=api.auth("chat")).status_code == 204
    )
    job = api.post("chat", "/apps/annotation-reply/enable", {"embedding_provider_name": "p",
                   "embedding_model_name": "m", "score_threshold": 0.9}).json()  # fmt: skip
    st = api.get("chat", f"/apps/annotation-reply/enable/status/{job['job_id']}").json()
    assert st["job_status"] == "completed"


def test_new_routes_and_keys_are_1x_only(api015: Api) -> None:
    for path in ("/form/human_input/x", "/workflow/x/events", "/end-users/x", "/apps/annotations"):
        assert api015.get("chat", path).status_code == 404
    assert api015.get("review_workflow", "/parameters").status_code == 401
