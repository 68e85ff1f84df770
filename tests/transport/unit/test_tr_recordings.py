"""Acceptance 3: every recorded Dify 0.15.3 Service API exchange parses into the right result
or the right typed error, through the client method that makes that request.

Each recording's status, headers and body are replayed with ``httpx.MockTransport``; the
``raw_*`` captures are de-chunked with h11 and replayed one HTTP chunk per body piece.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
from _tr_support import RECORDINGS, Recording, load_recording, recording_names

from dify_transport import (
    AgentBlockingModeError,
    APIStatusError,
    AppUnavailableError,
    AuthenticationError,
    BadRequestError,
    CompletionRequestError,
    ContentTooLargeError,
    ConversationNotFoundError,
    CursorNotFoundError,
    DifyClient,
    DifyKnowledgeClient,
    InvalidParamError,
    MessageNotFoundError,
    NotChatAppError,
    NotFoundError,
    NotWorkflowAppError,
    Result,
    UnsupportedMediaTypeError,
    WorkflowFailedError,
)

NOT_SERVICE_API = {"cors_preflight": "browser CORS preflight (OPTIONS), not a client call"}

ERRORS: dict[str, tuple[type[Exception], str | None]] = {
    "error_agent_blocking": (AgentBlockingModeError, "invalid_param"),
    "error_bearer_without_token": (AuthenticationError, "unauthorized"),
    "error_chat_continue_deleted_conversation": (ConversationNotFoundError, "not_found"),
    "error_chat_inputs_too_long": (InvalidParamError, "invalid_param"),
    "error_chat_on_completion_app": (NotChatAppError, "not_chat_app"),
    "error_chat_on_workflow_app": (NotChatAppError, "not_chat_app"),
    "error_chatflow_llm_failure_blocking": (InvalidParamError, "invalid_param"),
    "error_completion_conversations": (NotChatAppError, "not_chat_app"),
    "error_completion_input_too_long": (InvalidParamError, "invalid_param"),
    "error_completion_llm_failure_streaming": (CompletionRequestError, "completion_request_error"),
    "error_completion_missing_inputs_field": (InvalidParamError, "invalid_param"),
    "error_completion_missing_required_input": (InvalidParamError, "invalid_param"),
    "error_completion_on_chat_app": (AppUnavailableError, "app_unavailable"),
    "error_conversation_id_not_uuid": (InvalidParamError, "invalid_param"),
    "error_conversations_bad_last_id": (CursorNotFoundError, "not_found"),
    "error_dataset_key_on_app_endpoint": (AuthenticationError, "unauthorized"),
    "error_dataset_retrieve_empty_query": (InvalidParamError, "invalid_param"),
    "error_dataset_retrieve_unknown_dataset": (NotFoundError, "not_found"),
    "error_dataset_retrieve_with_app_key": (AuthenticationError, "unauthorized"),
    "error_empty_query": (InvalidParamError, "invalid_param"),
    "error_feedback_bad_rating": (InvalidParamError, "invalid_param"),
    "error_feedback_other_user": (MessageNotFoundError, "not_found"),
    "error_feedback_unknown_message": (MessageNotFoundError, "not_found"),
    "error_file_bad_transfer_method": (InvalidParamError, "invalid_param"),
    "error_file_id_unknown": (InvalidParamError, "invalid_param"),
    "error_files_upload_json_body": (BadRequestError, "bad_request_key_error"),
    "error_files_upload_no_file": (BadRequestError, "bad_request_key_error"),
    "error_files_upload_too_large": (ContentTooLargeError, "file_too_large"),
    "error_files_upload_two_fields": (BadRequestError, "too_many_files"),
    "error_invalid_json": (BadRequestError, "bad_request"),
    "error_invalid_response_mode": (InvalidParamError, "invalid_param"),
    "error_llm_failure_blocking": (CompletionRequestError, "completion_request_error"),
    "error_messages_after_delete": (ConversationNotFoundError, "not_found"),
    "error_messages_missing_conversation_id": (InvalidParamError, "invalid_param"),
    "error_messages_on_completion_app": (NotChatAppError, "not_chat_app"),
    "error_messages_unknown_conversation": (ConversationNotFoundError, "not_found"),
    "error_method_not_allowed": (APIStatusError, "method_not_allowed"),
    "error_missing_api_key": (AuthenticationError, "unauthorized"),
    "error_missing_inputs": (InvalidParamError, "invalid_param"),
    "error_missing_query": (InvalidParamError, "invalid_param"),
    "error_missing_user": (InvalidParamError, "invalid_param"),
    "error_rename_unknown_conversation": (ConversationNotFoundError, "not_found"),
    "error_suggested_unknown_message": (MessageNotFoundError, "not_found"),
    "error_text_to_audio_disabled": (InvalidParamError, "invalid_param"),
    "error_unknown_conversation_id": (ConversationNotFoundError, "not_found"),
    "error_unknown_route": (NotFoundError, None),
    "error_workflow_llm_failure_blocking": (WorkflowFailedError, "workflow_failed"),
    "error_workflow_messages": (NotChatAppError, "not_chat_app"),
    "error_workflow_missing_required_input": (InvalidParamError, "invalid_param"),
    "error_workflow_missing_required_input_streaming": (InvalidParamError, "invalid_param"),
    "error_workflow_number_input_not_number": (InvalidParamError, "invalid_param"),
    "error_workflow_run_detail_unknown": (NotFoundError, "not_found"),
    "error_workflow_run_on_chat_app": (NotWorkflowAppError, "not_workflow_app"),
    "error_workflow_run_on_chatflow_app": (NotWorkflowAppError, "not_workflow_app"),
    "error_wrong_api_key": (AuthenticationError, "unauthorized"),
    "error_wrong_content_type": (UnsupportedMediaTypeError, "unsupported_media_type"),
    "raw_error_unknown_conversation": (ConversationNotFoundError, "not_found"),
    "raw_llm_failure_streaming": (CompletionRequestError, "completion_request_error"),
}

ALL = [n for n in recording_names() if n not in NOT_SERVICE_API]
UUID = r"[0-9a-f-]{36}"


def test_every_recording_is_covered():
    assert len(recording_names()) >= 140
    for name in ALL:
        assert name in ERRORS or not name.startswith("error_"), name
    assert set(ERRORS) <= set(ALL)


def replay(rec: Recording) -> tuple[DifyClient, DifyKnowledgeClient, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return rec.response()

    transport = httpx.MockTransport(handler)
    app = DifyClient(
        api_key="app-x",
        base_url="http://127.0.0.1:5001/v1",
        http_client=httpx.Client(transport=transport),
        max_retries=0,
    )
    kb = DifyKnowledgeClient(
        api_key="dataset-x",
        base_url="http://127.0.0.1:5001/v1",
        http_client=httpx.Client(transport=transport),
        max_retries=0,
    )
    return app, kb, sent


def invoke(rec: Recording, app: DifyClient, kb: DifyKnowledgeClient) -> Any:
    """Call the client method that makes the recorded request."""
    method = rec.request["method"]
    path = rec.request["path"].split("?")[0].removeprefix("/v1")
    body = rec.request.get("body") or {}
    if not isinstance(body, dict):
        body = {}
    query = rec.request.get("query") or {}
    user = body.get("user") or query.get("user") or "realdify-user-1"
    streaming = body.get("response_mode") == "streaming"
    inputs = body.get("inputs") if isinstance(body.get("inputs"), dict) else {}
    if method == "POST" and path == "/chat-messages":
        kwargs = {"user": user, "inputs": inputs, "conversation_id": body.get("conversation_id")}
        if streaming:
            return app.stream_chat(body.get("query") or "q", **kwargs).final()
        return app.chat(body.get("query") or "q", **kwargs)
    if method == "POST" and path == "/completion-messages":
        if streaming:
            return app.stream_completion(user=user, inputs=inputs).final()
        return app.completion(user=user, inputs=inputs)
    if method == "POST" and path == "/workflows/run":
        if streaming:
            return app.stream_workflow(user=user, inputs=inputs).final()
        return app.run_workflow(user=user, inputs=inputs)
    if m := re.fullmatch(r"/chat-messages/(.+)/stop", path):
        return app.stop_chat(m[1], user=user)
    if m := re.fullmatch(r"/workflows/tasks/(.+)/stop", path):
        return app.stop_workflow(m[1], user=user)
    if m := re.fullmatch(r"/completion-messages/(.+)/stop", path):
        return app.stop_completion(m[1], user=user)
    if path == "/messages":
        return app.get_messages(
            query.get("conversation_id", ""),
            user=user,
            first_id=query.get("first_id"),
            limit=int(query.get("limit", 20)),
        )
    if m := re.fullmatch(r"/messages/(.+)/suggested", path):
        return app.get_suggested_questions(m[1], user=user)
    if m := re.fullmatch(r"/messages/(.+)/feedbacks", path):
        return app.send_feedback(m[1], user=user, rating=body.get("rating"))
    if path == "/conversations":
        return app.get_conversations(user=user, last_id=query.get("last_id"))
    if m := re.fullmatch(r"/conversations/(.+)/name", path):
        return app.rename_conversation(m[1], user=user, name=body.get("name"))
    if method == "DELETE" and (m := re.fullmatch(r"/conversations/(.+)", path)):
        return app.delete_conversation(m[1], user=user)
    if method == "GET" and (m := re.fullmatch(r"/workflows/run/(.+)", path)):
        return app.get_workflow_run(m[1])
    if path == "/workflows/logs":
        return app.get_workflow_logs(page=1, limit=2)
    simple = {
        "/parameters": app.get_parameters,
        "/meta": app.get_meta,
        "/info": app.get_info,
        "/site": app.get_site,
        "/": app.get_server_info,
        "/does-not-exist": app.get_info,  # unknown route: any GET gets the HTML 404
    }
    if method == "GET" and path in simple:
        return simple[path]()
    if method == "GET" and path == "/chat-messages":  # method not allowed
        return app.get_parameters()
    if path == "/files/upload":
        return app.upload_file(RECORDINGS / "_inputs" / "tiny.png", user=user)
    if path == "/text-to-audio":
        return app.text_to_audio(user=user, text=body.get("text"))
    if path == "/datasets":
        if method == "GET":
            return kb.list_datasets()
        return kb.create_dataset(body["name"], description=body.get("description"))
    if m := re.fullmatch(rf"/datasets/({UUID})/retrieve", path):
        return kb.retrieve(m[1], body.get("query", ""), retrieval_model=body.get("retrieval_model"))
    if m := re.fullmatch(rf"/datasets/({UUID})/document/create[-_]by[-_]text", path):
        return kb.create_document_by_text(m[1], body["name"], body["text"])
    if m := re.fullmatch(rf"/datasets/({UUID})/documents/(.+)/indexing-status", path):
        return kb.get_indexing_status(m[1], m[2])
    if m := re.fullmatch(rf"/datasets/({UUID})/documents/({UUID})/segments", path):
        return kb.list_segments(m[1], m[2])
    if m := re.fullmatch(rf"/datasets/({UUID})/documents", path):
        return kb.list_documents(m[1])
    raise AssertionError(f"no client method mapped for {method} {path}")


def expected_stream(rec: Recording) -> dict[str, Any]:
    """The aggregate computed independently from the recorded frames."""
    events = [
        json.loads(block[6:])
        for block in rec.body.decode().split("\n\n")
        if block.startswith("data: ")
    ]
    text = ""
    for e in events:
        if e["event"] in ("message", "agent_message"):
            text += e["answer"]
        elif e["event"] == "text_chunk":
            text += e["data"]["text"]
        elif e["event"] == "message_replace":
            text = e["answer"]
    ends = [e for e in events if e["event"] == "message_end"]
    usage = ends[-1]["metadata"].get("usage") if ends else None
    return {
        "answer": text,
        "task_id": next((e["task_id"] for e in events if "task_id" in e), None),
        "conversation_id": next((e.get("conversation_id") for e in events), None),
        "usage": usage,
        "resources": ends[-1]["metadata"].get("retriever_resources", []) if ends else [],
    }


@pytest.mark.parametrize("name", ALL)
def test_recording(name):
    rec = load_recording(name)
    app, kb, sent = replay(rec)
    if name in ERRORS:
        cls, code = ERRORS[name]
        with pytest.raises(cls) as info:
            invoke(rec, app, kb)
        assert type(info.value) is cls
        assert getattr(info.value, "code", None) == code
        assert "app-x" not in str(info.value)
        return
    result = invoke(rec, app, kb)
    assert sent, "the client made no request"
    assert sent[0].method == rec.request["method"]
    content_type = {k.lower(): v for k, v in rec.headers}.get("content-type", "")
    if "event-stream" in content_type:
        assert isinstance(result, Result)
        exp = expected_stream(rec)
        assert result.answer == exp["answer"]
        assert result.task_id == exp["task_id"]
        assert result.conversation_id == exp["conversation_id"]
        if exp["usage"]:
            assert result.usage is not None
            assert result.usage.total_tokens == exp["usage"]["total_tokens"]
            assert result.usage.total_price == Decimal(exp["usage"]["total_price"])
        assert len(result.retriever_resources) == len(exp["resources"])
        if "stop_stream" in name:
            assert result.finish_reason in ("stop", "stopped")
        return
    body = json.loads(rec.body) if rec.body.strip() else None
    if isinstance(result, Result):
        if "answer" in body:
            assert result.answer == body["answer"]
            assert result.message_id == body["message_id"]
            assert result.conversation_id == body.get("conversation_id")
        else:
            assert result.workflow_run_id == body["workflow_run_id"]
            assert result.outputs == body["data"]["outputs"]
    elif isinstance(body, dict) and "data" in body and hasattr(result, "data"):
        assert len(result.data) == len(body["data"])
    elif isinstance(body, dict) and "id" in body and hasattr(result, "id"):
        assert result.id == body["id"]


def test_recorded_details():
    """Spot checks of shapes the generic test does not look at."""
    rec = load_recording("workflow_run_detail")
    app, _, _ = replay(rec)
    run = app.get_workflow_run("56907945-324b-4a22-b7b1-ec5820e76c7f")
    assert run.inputs is not None
    assert run.inputs["text"] == "Hello workflow"
    assert run.outputs == {"result": "Echo: Hello workflow", "echo_count": 3}
    assert run.created_at == 1795249035  # "Sat, 21 Nov 2026 08:17:15 -0000"

    rec = load_recording("agent_streaming_new")
    app, _, _ = replay(rec)
    result = app.stream_chat("x", user="u").final()
    assert [t.position for t in result.agent_thoughts] == [1, 2]
    assert result.agent_thoughts[0].tool == "current_time"

    rec = load_recording("dataset_retrieve")
    _, kb, sent = replay(rec)
    hits = kb.retrieve("51b6263a-1dd2-46ab-9fb4-e57b0d627db8", "What colour is the sky?")
    assert hits.records[0].segment.document is not None
    assert hits.records[0].segment.document.name == "sky.txt"
    assert json.loads(sent[0].content) == {"query": "What colour is the sky?"}

    rec = load_recording("chat_suggested")
    app, _, _ = replay(rec)
    assert app.get_suggested_questions("m", user="u") == [
        "What is Dify?",
        "How does it work?",
        "Tell me more",
    ]

    rec = load_recording("agent_messages_list")
    app, _, _ = replay(rec)
    page = app.get_messages("c", user="u")
    assert page.data[-1].agent_thoughts

    rec = load_recording("service_api_index")
    app, _, _ = replay(rec)
    assert app.get_server_info()["server_version"] == "0.15.3"


@pytest.mark.parametrize("name", [n for n in ALL if n.startswith("raw_")])
def test_raw_captures_keep_one_chunk_per_frame(name):
    rec = load_recording(name)
    if rec.status == 200 and len(rec.chunks) > 1:
        assert all(c.endswith(b"\n\n") for c in rec.chunks)
