"""Conversations, messages, feedback, files, workflow runs and knowledge ."""

from __future__ import annotations

import re

import pytest
from emu_helpers import Api


def _turns(api: Api, n: int, user: str = "u1") -> tuple[str, list[str]]:
    first = api.chat("turn 0", user=user).json()
    cid, ids = first["conversation_id"], [first["id"]]
    ids += [api.chat(f"turn {i}", user=user, conversation_id=cid).json()["id"] for i in range(1, n)]
    return cid, ids


def test_messages_pagination(anyapi: Api) -> None:
    cid, ids = _turns(anyapi, 5)
    q = {"user": "u1", "conversation_id": cid, "limit": 2}
    page = anyapi.get("chat", "/messages", params=q).json()
    assert [m["id"] for m in page["data"]] == ids[3:5]
    assert page["has_more"] is True
    page = anyapi.get("chat", "/messages", params={**q, "first_id": ids[3]}).json()
    assert [m["id"] for m in page["data"]] == ids[1:3]
    assert page["has_more"] is True
    page = anyapi.get("chat", "/messages", params={**q, "first_id": ids[1]}).json()
    assert [m["id"] for m in page["data"]] == ids[0:1]
    assert page["has_more"] is False
    full = anyapi.get("chat", "/messages", params={"user": "u1", "conversation_id": cid}).json()
    assert [m["query"] for m in full["data"]] == [f"turn {i}" for i in range(5)]
    assert "Earlier you asked" in full["data"][1]["answer"]
    assert full["data"][0]["retriever_resources"][0]["position"] == 1
    for bad in (0, 101):
        r = anyapi.get("chat", "/messages", params={**q, "limit": bad})
        assert r.status_code == 400
        assert r.json()["code"] == "invalid_param"
    empty = anyapi.get("chat", "/messages", params={"user": "u1", "conversation_id": ""})
    assert empty.json() == {"limit": 20, "has_more": False, "data": []}


def test_conversations_pagination_and_sort(anyapi: Api) -> None:
    cids = [anyapi.chat(f"c{i}", user="pager").json()["conversation_id"] for i in range(5)]
    q = {"user": "pager", "limit": 2}
    seen: list[str] = []
    last = None
    while True:
        page = anyapi.get("chat", "/conversations", params={**q, "last_id": last or ""}).json()
        seen += [c["id"] for c in page["data"]]
        if not page["has_more"]:
            break
        last = page["data"][-1]["id"]
    assert seen == cids[::-1]
    asc = anyapi.get("chat", "/conversations",
                     params={"user": "pager", "sort_by": "created_at"}).json()  # fmt: skip
    assert [c["id"] for c in asc["data"]] == cids
    # Sending a message bumps updated_at to the top.
    anyapi.chat("again", user="pager", conversation_id=cids[0])
    top = anyapi.get("chat", "/conversations", params={"user": "pager", "limit": 1}).json()
    assert top["data"][0]["id"] == cids[0]
    item = top["data"][0]
    assert list(item) == ["id", "name", "inputs", "status", "introduction", "created_at",
                          "updated_at"]  # fmt: skip
    assert isinstance(item["created_at"], int)
    r = anyapi.get(
        "chat",
        "/conversations",
        params={"user": "pager", "last_id": "12199e4a-6173-42e2-b244-3652b0080b85"},
    )
    assert r.status_code == 404
    assert r.json()["message"] == "Last Conversation Not Exists."
    assert anyapi.get("chat", "/conversations").json()["data"] == []


def test_user_scoping(anyapi: Api) -> None:
    cid, ids = _turns(anyapi, 1, user="alice")
    r = anyapi.get("chat", "/messages", params={"user": "bob", "conversation_id": cid})
    assert r.status_code == 404
    assert r.json()["message"] == "Conversation Not Exists."
    r = anyapi.chat("hi", user="bob", conversation_id=cid)
    assert r.status_code == 404
    r = anyapi.post("chat", f"/messages/{ids[0]}/feedbacks", {"rating": "like", "user": "bob"})
    assert r.status_code == 404
    assert r.json()["message"] == "Message Not Exists."


def test_delete_per_wire(anyapi: Api) -> None:
    cid, _ = _turns(anyapi, 1)
    h = anyapi.auth("chat")
    r = anyapi.client.delete(f"/conversations/{cid}", headers=h)
    assert r.status_code == 415
    r = anyapi.client.request("DELETE", f"/conversations/{cid}", json={"user": "u1"}, headers=h)
    if anyapi.emu.wire == "1.x":
        assert r.status_code == 204
        assert r.content == b""
    else:
        assert r.status_code == 200
        assert r.json() == {"result": "success"}
    r = anyapi.get("chat", "/messages", params={"user": "u1", "conversation_id": cid})
    assert r.status_code == 404
    r = anyapi.client.request("DELETE", f"/conversations/{cid}", json={"user": "u1"}, headers=h)
    assert r.status_code == 404


def test_rename(anyapi: Api) -> None:
    cid, _ = _turns(anyapi, 1)
    r = anyapi.post("chat", f"/conversations/{cid}/name", {"name": "Sky talk", "user": "u1"})
    assert r.status_code == 200
    assert r.json()["name"] == "Sky talk"
    r = anyapi.post("chat", f"/conversations/{cid}/name", {"auto_generate": True, "user": "u1"})
    assert r.json()["name"] == "Chat about turn 0"
    r = anyapi.chat("x", auto_generate_name=False)
    conv = anyapi.get("chat", "/conversations", params={"user": "u1", "limit": 1}).json()
    expected = "New conversation" if anyapi.emu.wire == "0.15" else "x"
    assert conv["data"][0]["name"] == expected
    r = anyapi.post("chat", "/conversations/5c0fe815-e23c-4e28-915f-9ca82c31844e/name",
                    {"name": "x", "user": "u1"})  # fmt: skip
    assert r.status_code == 404


def test_feedback_and_suggested(anyapi: Api) -> None:
    _, ids = _turns(anyapi, 1)
    url = f"/messages/{ids[0]}/feedbacks"
    for rating in ("like", "dislike", None):
        r = anyapi.post("chat", url, {"rating": rating, "user": "u1", "content": "c"})
        assert r.json() == {"result": "success"}
    r = anyapi.post("chat", url, {"rating": None, "user": "u1"})
    assert r.status_code == 400
    r = anyapi.post("chat", url, {"rating": "love", "user": "u1"})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_param"
    anyapi.post("chat", url, {"rating": "like", "user": "u1"})
    msg = anyapi.get("chat", "/messages", params={"user": "u1", "conversation_id":
                     anyapi.chat("x").json()["conversation_id"]}).json()  # fmt: skip
    assert msg["data"][0]["feedback"] is None
    fbs = anyapi.get("chat", "/app/feedbacks").json()["data"]
    assert fbs[0]["rating"] == "like"
    assert fbs[0]["message_id"] == ids[0]
    r = anyapi.get("chat", f"/messages/{ids[0]}/suggested", params={"user": "u1"})
    assert r.json()["result"] == "success"
    assert len(r.json()["data"]) == 3
    r = anyapi.get("chat", f"/messages/{ids[0]}/suggested")
    assert r.status_code == 400
    assert r.json()["message"] == "Arg user must be provided."


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)


def test_files_upload_and_chat_with_file(anyapi: Api) -> None:
    h = anyapi.auth("chat")
    r = anyapi.client.post("/files/upload", headers=h, data={"user": "u1"},
                           files={"file": ("tiny.png", PNG, "image/png")})  # fmt: skip
    assert r.status_code == 201
    up = r.json()
    assert up["name"] == "tiny.png"
    assert up["size"] == len(PNG)
    assert up["extension"] == "png"
    r = anyapi.chat(
        "What is in this picture?",
        files=[{"type": "image", "transfer_method": "local_file", "upload_file_id": up["id"]}],
    )
    assert r.status_code == 200
    assert "I received 1 image." in r.json()["answer"]
    msgs = anyapi.get(
        "chat", "/messages", params={"user": "u1", "conversation_id": r.json()["conversation_id"]}
    ).json()
    mf = msgs["data"][0]["message_files"][0]
    assert mf["filename"] == "tiny.png"
    assert mf["belongs_to"] == "user"
    assert re.search(r"/files/[0-9a-f-]+/file-preview\?timestamp=\d+&nonce=\w+&sign=", mf["url"])
    # Another user cannot reference that upload.
    r = anyapi.chat(
        "x",
        user="u2",
        files=[{"type": "image", "transfer_method": "local_file", "upload_file_id": up["id"]}],
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Invalid upload file"
    r = anyapi.chat("see", files=[{"type": "image", "transfer_method": "remote_url",
                                   "url": "https://example.com/a.png"}])  # fmt: skip
    assert "I received 1 image." in r.json()["answer"]
    big = b"\x89PNG" + b"0" * (10 * 1024 * 1024 + 10)
    r = anyapi.client.post(
        "/files/upload", headers=h, files={"file": ("big.png", big, "image/png")}
    )
    assert r.status_code == 413
    assert r.json()["code"] == "file_too_large"
    r = anyapi.client.post(
        "/files/upload",
        headers=h,
        files={"file": ("a.png", PNG, "image/png"), "file2": ("b.txt", b"x", "text/plain")},
    )
    assert r.status_code == 400
    assert r.json()["code"] == "too_many_files"
    r = anyapi.client.post("/files/upload", headers=h, json={"user": "u1"})
    assert r.status_code == 400


def test_audio(anyapi: Api) -> None:
    h = anyapi.auth("chat")
    r = anyapi.client.post("/audio-to-text", headers=h,
                           files={"file": ("a.mp3", b"ID3abc", "audio/mp3")})  # fmt: skip
    assert r.status_code == 200
    assert r.json()["text"].startswith("Emulator transcript")
    r = anyapi.client.post("/audio-to-text", headers=h,
                           files={"file": ("a.mp3", b"ID3abc", "audio/mpeg")})  # fmt: skip
    assert r.status_code == 415
    r = anyapi.post("chat", "/text-to-audio", {"text": "hello", "user": "u1"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "audio/mpeg"
    assert r.content.startswith(b"ID3")
    r = anyapi.post("completion", "/text-to-audio", {"text": "hello", "user": "u1"})
    assert r.status_code == 400
    assert r.json()["message"] == "TTS is not enabled"


def test_workflow_run_detail_and_logs(anyapi: Api) -> None:
    run = anyapi.post("workflow", "/workflows/run",
                      {"inputs": {"text": "hi", "count": 3}, "user": "u1"}).json()  # fmt: skip
    detail = anyapi.get("workflow", f"/workflows/run/{run['workflow_run_id']}").json()
    assert detail["status"] == "succeeded"
    assert isinstance(detail["inputs"], str)
    assert '"count": 3' in detail["inputs"]
    if anyapi.emu.wire == "0.15":
        assert re.match(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d -0000", detail["created_at"])
    else:
        assert isinstance(detail["created_at"], int)
    unknown = anyapi.get("workflow", "/workflows/run/d0d16ff1-dcc6-4acb-a0b3-5b5d17d77dae")
    assert unknown.status_code == 200
    assert unknown.json()["id"] is None
    logs = anyapi.get("workflow", "/workflows/logs", params={"page": 1, "limit": 1}).json()
    assert logs["total"] == 1
    assert logs["data"][0]["workflow_run"]["id"] == run["workflow_run_id"]


def test_knowledge(anyapi: Api) -> None:
    did = anyapi.emu.dataset_id
    url = f"/datasets/{did}/retrieve"
    r = anyapi.post("dataset", url, {"query": "Why is the sky blue?"})
    recs = r.json()["records"]
    assert len(recs) == 3
    assert recs[0]["segment"]["document"]["name"] == "sky.txt"
    assert recs[0]["score"] >= recs[1]["score"]
    r = anyapi.post("dataset", url, {"query": "sky", "retrieval_model": {
        "search_method": "keyword_search", "reranking_enable": False,
        "score_threshold_enabled": True, "score_threshold": 0.5, "top_k": 5}})  # fmt: skip
    assert [x["segment"]["document"]["name"] for x in r.json()["records"]] == ["sky.txt"]
    r = anyapi.post("dataset", url, {"query": "x", "retrieval_model": {"top_k": 1}})
    assert r.status_code == 500
    r = anyapi.post("dataset", url, {"query": ""})
    assert r.status_code == 400
    r = anyapi.post("dataset", "/datasets/00000000-0000-0000-0000-000000000000/retrieve",
                    {"query": "sky"})  # fmt: skip
    assert r.status_code == 404
    assert r.json()["message"] == "Dataset not found."
    # A user corpus.
    ds = anyapi.post("dataset", "/datasets", {"name": "mine"}).json()
    doc = anyapi.post("dataset", f"/datasets/{ds['id']}/document/create-by-text",
                      {"name": "zebra.txt", "text": "Zebras have black and white stripes.",
                       "indexing_technique": "high_quality",
                       "process_rule": {"mode": "automatic"}}).json()  # fmt: skip
    status = anyapi.get("dataset", f"/datasets/{ds['id']}/documents/{doc['batch']}/indexing-status")
    assert status.json()["data"][0]["indexing_status"] == "completed"
    docs = anyapi.get("dataset", f"/datasets/{ds['id']}/documents").json()
    assert [d["name"] for d in docs["data"]] == ["zebra.txt"]
    segs = anyapi.get(
        "dataset", f"/datasets/{ds['id']}/documents/{doc['document']['id']}/segments"
    ).json()
    assert segs["data"][0]["content"] == "Zebras have black and white stripes."
    r = anyapi.post("dataset", f"/datasets/{ds['id']}/retrieve", {"query": "zebra stripes"})
    assert r.json()["records"][0]["segment"]["document"]["name"] == "zebra.txt"
    names = [d["name"] for d in anyapi.get("dataset", "/datasets").json()["data"]]
    assert names == ["emulator-kb", "emulator-notes", "mine"]


@pytest.mark.parametrize("query", ["", "zzz qqq", "a", "what is the meaning of life"])
def test_retrieval_always_three(api: Api, query: str) -> None:
    r = api.post("dataset", f"/datasets/{api.emu.dataset_id}/retrieve", {"query": query or "x"})
    assert len(r.json()["records"]) == 3
