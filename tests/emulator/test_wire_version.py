"""Which Dify version each wire models: 0.15.3 as recorded, 1.x = 1.13.3 (docs 1.15)."""

from __future__ import annotations

from emu_helpers import Api

BODY = {"inputs": {}, "user": "u1"}


def test_version_headers_match_the_modelled_release(api: Api, api015: Api) -> None:
    assert api.client.get("/").json()["server_version"] == "1.13.3"
    assert api.get("chat", "/info").headers["x-version"] == "1.13.3"
    r = api.post("chat", "/chat-messages", {**BODY, "query": "hi", "response_mode": "streaming"})
    assert r.headers["x-version"] == "1.13.3"
    assert api015.client.get("/").json()["server_version"] == "0.15.3"
    assert api015.get("chat", "/info").headers["x-version"] == "0.15.3"


def test_1x_behaves_like_1_13(api: Api) -> None:
    # Chatflow terminal order of docs 1.15 / 1.13.x.
    names = [e["event"] for e in api.stream("chatflow", "/chat-messages", {**BODY, "query": "x"})]
    assert names[-2:] == ["message_end", "workflow_finished"]
    # DELETE with the ownership check restored (PR #32686): foreign or unknown -> 404.
    cid = api.chat("hi", user="owner").json()["conversation_id"]
    h = api.auth("chat")
    r = api.client.request("DELETE", f"/conversations/{cid}", json={"user": "intruder"}, headers=h)
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    unknown = "00000000-0000-4000-8000-000000000000"
    r = api.client.request("DELETE", f"/conversations/{unknown}", json={"user": "owner"},
                           headers=h)  # fmt: skip
    assert r.status_code == 404
    r = api.client.request("DELETE", f"/conversations/{cid}", json={"user": "owner"}, headers=h)
    assert (r.status_code, r.content) == (204, b"")


def test_015_is_kept_as_recorded(api015: Api) -> None:
    names = [
        e["event"] for e in api015.stream("chatflow", "/chat-messages", {**BODY, "query": "x"})
    ]
    assert names[-2:] == ["workflow_finished", "message_end"]
    cid = api015.chat("hi", user="owner").json()["conversation_id"]
    h = api015.auth("chat")
    r = api015.client.request("DELETE", f"/conversations/{cid}", json={"user": "intruder"},
                              headers=h)  # fmt: skip
    assert r.status_code == 404
    r = api015.client.request("DELETE", f"/conversations/{cid}", json={"user": "owner"},
                              headers=h)  # fmt: skip
    assert r.json() == {"result": "success"}
