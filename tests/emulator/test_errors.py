"""Auth, mode, validation and routing errors on both wires (as recorded in tests/fixtures)."""

from __future__ import annotations

import json

import pytest
from emu_helpers import Api, recording

BODY = {"inputs": {}, "query": "hello", "response_mode": "blocking", "user": "u1"}


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "Authorization header must be provided and start with 'Bearer'"),
    ({"Authorization": "Bearer"}, "Authorization header must be provided and start with 'Bearer'"),
    ({"Authorization": "Basic abc"}, "Authorization scheme must be 'Bearer'"),
    ({"Authorization": "Bearer app-nope"}, "Access token is invalid"),
    ({"Authorization": "Bearer dataset-emulator"}, "Access token is invalid"),
])  # fmt: skip
def test_auth_errors(anyapi: Api, headers, message) -> None:
    r = anyapi.client.post("/chat-messages", json=BODY, headers=headers)
    assert r.status_code == 401
    assert r.json() == {"code": "unauthorized", "message": message, "status": 401}
    assert ("www-authenticate" in r.headers) is (anyapi.emu.wire == "1.x")


def test_app_key_on_dataset_endpoint(anyapi: Api) -> None:
    r = anyapi.post("chat", f"/datasets/{anyapi.emu.dataset_id}/retrieve", {"query": "x"})
    assert r.status_code == 401
    assert r.json()["message"] == "Access token is invalid"


@pytest.mark.parametrize(("app", "path", "code"), [
    ("completion", "/chat-messages", "not_chat_app"),
    ("workflow", "/chat-messages", "not_chat_app"),
    ("chat", "/completion-messages", "app_unavailable"),
    ("chat", "/workflows/run", "not_workflow_app"),
    ("chatflow", "/workflows/run", "not_workflow_app"),
])  # fmt: skip
def test_mode_errors(anyapi: Api, app, path, code) -> None:
    r = anyapi.post(app, path, BODY)
    assert r.status_code == 400
    assert r.json()["code"] == code


def test_mode_errors_on_conversation_endpoints(anyapi: Api) -> None:
    r = anyapi.get("completion", "/conversations", params={"user": "u1"})
    assert r.json()["code"] == "not_chat_app"
    r = anyapi.get("workflow", "/messages", params={"user": "u1", "conversation_id": ""})
    assert r.json()["code"] == "not_chat_app"


def test_015_errors_match_recordings(api015: Api) -> None:
    cases = {
        "error_missing_query": {"inputs": {}, "response_mode": "blocking", "user": "u1"},
        "error_missing_inputs": {"query": "hello", "response_mode": "blocking", "user": "u1"},
        "error_missing_user": {"inputs": {}, "query": "hello", "response_mode": "blocking"},
        "error_empty_query": {**BODY, "query": ""},
        "error_invalid_response_mode": {**BODY, "response_mode": "fast"},
        "error_conversation_id_not_uuid": {**BODY, "conversation_id": "not-a-uuid"},
        "error_chat_inputs_too_long": {**BODY, "inputs": {"name": "y" * 49}},
        "error_file_bad_transfer_method": {**BODY, "files": [
            {"type": "image", "transfer_method": "carrier_pigeon", "upload_file_id": "x"}]},
        "error_file_id_unknown": {**BODY, "files": [
            {"type": "image", "transfer_method": "local_file",
             "upload_file_id": "50ada23b-5d3f-4184-a8fc-88472c6faa3e"}]},
        "error_unknown_conversation_id": {
            **BODY, "conversation_id": "b3d2661b-2ae5-4616-9053-df2e40ab423f"},
    }  # fmt: skip
    for name, body in cases.items():
        r = api015.post("chat", "/chat-messages", body)
        theirs = json.loads((recording(name) / "body.bin").read_bytes())
        status = json.loads((recording(name) / "curl.json").read_text())
        assert r.json() == theirs, name
        assert r.status_code == status.get("status", status.get("http_code")), name
    r = api015.post("agent", "/chat-messages", BODY)
    assert r.json()["message"] == "Agent Chat App does not support blocking mode"


def test_1x_validation_shape(api: Api) -> None:
    r = api.post("chat", "/chat-messages", {"inputs": {}, "user": "u1"})
    body = r.json()
    assert r.status_code == 400
    assert body["code"] == "invalid_param"
    assert body["status"] == 400
    assert "params" not in body
    assert "query" in body["message"]


def test_unknown_conversation_404_before_streaming(anyapi: Api) -> None:
    r = anyapi.post("chat", "/chat-messages", {**BODY, "response_mode": "streaming",
                    "conversation_id": "b3d2661b-2ae5-4616-9053-df2e40ab423f"})  # fmt: skip
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["message"] == "Conversation Not Exists."


def test_content_type_and_bad_json(anyapi: Api) -> None:
    h = anyapi.auth("chat")
    r = anyapi.client.post("/chat-messages", content=json.dumps(BODY),
                           headers={**h, "Content-Type": "text/plain"})  # fmt: skip
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media_type"
    r = anyapi.client.post("/chat-messages", content=b"{not json",
                           headers={**h, "Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400
    assert r.json()["code"] == "bad_request"


def test_unknown_route_and_method(anyapi: Api) -> None:
    r = anyapi.get("chat", "/does-not-exist")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    r = anyapi.get("chat", "/chat-messages")
    assert r.status_code == 405
    assert r.json()["code"] == "method_not_allowed"
    assert "POST" in r.headers["allow"]
    r = anyapi.client.options("/chat-messages", headers={"Origin": "http://x.test"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://x.test"


def test_input_validation(anyapi: Api) -> None:
    r = anyapi.post("completion", "/completion-messages", {"inputs": {}, "user": "u"})
    assert r.json()["message"] == "query is required in input form"
    r = anyapi.post("workflow", "/workflows/run", {"inputs": {"text": "x", "count": "abc"},
                                                   "user": "u"})  # fmt: skip
    assert r.json()["message"] == "count in input form must be a valid number"
    r = anyapi.post("workflow", "/workflows/run", {"inputs": {}, "user": "u",
                                                   "response_mode": "streaming"})  # fmt: skip
    assert r.status_code == 400
    assert r.json()["message"] == "text is required in input form"


def test_llm_failures(anyapi: Api) -> None:
    r = anyapi.chat("please fail500")
    assert r.status_code == 400
    assert r.json()["code"] == "completion_request_error"
    evs = anyapi.stream("chat", "/chat-messages", {"inputs": {}, "query": "fail500", "user": "u"})
    assert [e["event"] for e in evs] == ["error"]
    assert "task_id" not in evs[0]
    assert evs[0]["status"] == 400
    evs = anyapi.stream("chatflow", "/chat-messages", {"inputs": {}, "query": "fail500",
                                                       "user": "u"})  # fmt: skip
    assert [e["event"] for e in evs][-2:] == ["workflow_finished", "error"]
    assert evs[-1]["code"] == "invalid_param"
    assert evs[-1]["message"].startswith("Run failed: ")
    r = anyapi.chat("fail500", app="chatflow")
    assert r.status_code == 400
    assert r.json()["message"].startswith("Run failed: ")
    evs = anyapi.stream("workflow", "/workflows/run", {"inputs": {"text": "fail"}, "user": "u"})
    assert evs[-1]["event"] == "workflow_finished"
    assert evs[-1]["data"]["status"] == "failed"
    r = anyapi.post("workflow", "/workflows/run", {"inputs": {"text": "fail"}, "user": "u"})
    assert r.status_code == 200
    assert r.json()["data"]["status"] == "failed"
