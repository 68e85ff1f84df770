"""Every operation of Dify's OpenAPI (app and knowledge) has a client method or a written reason.

The OpenAPI copy is ``tests/fixtures/openapi_service.json``. Each covered operation is
called here through its client method against an ``httpx.MockTransport``, which checks
that the request really goes to that path and method. Operations left out are listed,
each with its reason, in docs/architecture.md under "Operations without a client method".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from dify_transport import DifyClient, DifyError, DifyKnowledgeClient

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "tests" / "fixtures" / "openapi_service.json"
ARCH = ROOT / "docs" / "architecture.md"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
ID = "00000000-0000-4000-8000-000000000001"
U = "u"

App = Callable[[DifyClient], Any]
Kb = Callable[[DifyKnowledgeClient], Any]

APP: dict[tuple[str, str], App] = {
    ("POST", "/chat-messages"): lambda c: c.chat("q", user=U),
    ("POST", "/chat-messages/{task_id}/stop"): lambda c: c.stop_chat(ID, user=U),
    ("GET", "/messages/{message_id}/suggested"): lambda c: c.get_suggested_questions(ID, user=U),
    ("POST", "/files/upload"): lambda c: c.upload_file(b"x", user=U, filename="a.txt"),
    ("GET", "/files/{file_id}/preview"): lambda c: c.get_file_preview(ID),
    ("GET", "/end-users/{end_user_id}"): lambda c: c.get_end_user(ID),
    ("POST", "/messages/{message_id}/feedbacks"): lambda c: c.send_feedback(ID, user=U,
                                                                            rating="like"),
    ("GET", "/app/feedbacks"): lambda c: c.get_app_feedbacks(),
    ("GET", "/conversations"): lambda c: c.get_conversations(user=U),
    ("GET", "/messages"): lambda c: c.get_messages(ID, user=U),
    ("GET", "/conversations/{conversation_id}/variables"):
        lambda c: c.get_conversation_variables(ID, user=U),
    ("POST", "/conversations/{conversation_id}/name"):
        lambda c: c.rename_conversation(ID, user=U, name="n"),
    ("PUT", "/conversations/{conversation_id}/variables/{variable_id}"):
        lambda c: c.update_conversation_variable(ID, ID, user=U, value="v"),
    ("DELETE", "/conversations/{conversation_id}"): lambda c: c.delete_conversation(ID, user=U),
    ("POST", "/audio-to-text"): lambda c: c.audio_to_text(b"x", user=U),
    ("POST", "/text-to-audio"): lambda c: c.text_to_audio(user=U, text="t"),
    ("GET", "/info"): lambda c: c.get_info(),
    ("GET", "/parameters"): lambda c: c.get_parameters(),
    ("GET", "/meta"): lambda c: c.get_meta(),
    ("GET", "/site"): lambda c: c.get_site(),
    ("POST", "/apps/annotations"): lambda c: c.create_annotation("q", "a"),
    ("GET", "/apps/annotations"): lambda c: c.list_annotations(),
    ("PUT", "/apps/annotations/{annotation_id}"):
        lambda c: c.update_annotation(ID, question="q", answer="a"),
    ("DELETE", "/apps/annotations/{annotation_id}"): lambda c: c.delete_annotation(ID),
    ("POST", "/apps/annotation-reply/{action}"): lambda c: c.set_annotation_reply(
        "enable", embedding_provider_name="p", embedding_model_name="m", score_threshold=0.5),
    ("GET", "/apps/annotation-reply/{action}/status/{job_id}"):
        lambda c: c.get_annotation_reply_status("enable", ID),
    ("GET", "/workflows/run/{workflow_run_id}"): lambda c: c.get_workflow_run(ID),
    ("GET", "/workflows/logs"): lambda c: c.get_workflow_logs(),
    ("GET", "/form/human_input/{form_token}"): lambda c: c.get_human_input_form("tok"),
    ("POST", "/form/human_input/{form_token}"):
        lambda c: c.submit_human_input_form("tok", user=U, action="approve"),
    ("GET", "/workflow/{workflow_run_id}/events"):
        lambda c: c.stream_workflow_events(ID, user=U),
    ("POST", "/workflows/run"): lambda c: c.run_workflow(user=U),
    ("POST", "/workflows/{workflow_id}/run"): lambda c: c.run_workflow(user=U, workflow_id=ID),
    ("POST", "/workflows/tasks/{task_id}/stop"): lambda c: c.stop_workflow(ID, user=U),
    ("POST", "/completion-messages"): lambda c: c.completion(user=U),
    ("POST", "/completion-messages/{task_id}/stop"): lambda c: c.stop_completion(ID, user=U),
}  # fmt: skip

_D = "/datasets/{dataset_id}"
_DOC = _D + "/documents/{document_id}"
_SEG = _DOC + "/segments/{segment_id}"
KB: dict[tuple[str, str], Kb] = {
    ("POST", "/datasets"): lambda c: c.create_dataset("kb"),
    ("GET", "/datasets"): lambda c: c.list_datasets(),
    ("GET", _D): lambda c: c.get_dataset(ID),
    ("PATCH", _D): lambda c: c.update_dataset(ID, name="n"),
    ("DELETE", _D): lambda c: c.delete_dataset(ID),
    ("POST", _D + "/document/create-by-text"): lambda c: c.create_document_by_text(ID, "n", "t"),
    ("POST", _D + "/document/create-by-file"): lambda c: c.create_document_by_file(ID, b"x"),
    ("GET", _D + "/documents"): lambda c: c.list_documents(ID),
    ("GET", _DOC): lambda c: c.get_document(ID, ID),
    ("DELETE", _DOC): lambda c: c.delete_document(ID, ID),
    ("GET", _DOC + "/download"): lambda c: c.get_document_download_url(ID, ID),
    ("GET", _D + "/documents/{batch}/indexing-status"): lambda c: c.get_indexing_status(ID, "b"),
    ("POST", _DOC + "/update-by-text"): lambda c: c.update_document_by_text(ID, ID, text="t"),
    ("POST", _DOC + "/update-by-file"): lambda c: c.update_document_by_file(ID, ID, b"x"),
    ("POST", _D + "/documents/download-zip"): lambda c: c.download_documents_zip(ID, [ID]),
    ("PATCH", _D + "/documents/status/{action}"):
        lambda c: c.set_documents_status(ID, "enable", [ID]),
    ("POST", _DOC + "/segments"): lambda c: c.create_segments(ID, ID, [{"content": "c"}]),
    ("GET", _DOC + "/segments"): lambda c: c.list_segments(ID, ID),
    ("GET", _SEG): lambda c: c.get_segment(ID, ID, ID),
    ("POST", _SEG): lambda c: c.update_segment(ID, ID, ID, {"content": "c"}),
    ("DELETE", _SEG): lambda c: c.delete_segment(ID, ID, ID),
    ("POST", _SEG + "/child_chunks"): lambda c: c.create_child_chunk(ID, ID, ID, "c"),
    ("GET", _SEG + "/child_chunks"): lambda c: c.list_child_chunks(ID, ID, ID),
    ("PATCH", _SEG + "/child_chunks/{child_chunk_id}"):
        lambda c: c.update_child_chunk(ID, ID, ID, ID, "c"),
    ("DELETE", _SEG + "/child_chunks/{child_chunk_id}"):
        lambda c: c.delete_child_chunk(ID, ID, ID, ID),
    ("POST", _D + "/retrieve"): lambda c: c.retrieve(ID, "q"),
    ("POST", "/datasets/tags"): lambda c: c.create_tag("t"),
    ("GET", "/datasets/tags"): lambda c: c.list_tags(),
    ("PATCH", "/datasets/tags"): lambda c: c.update_tag(ID, "t"),
    ("DELETE", "/datasets/tags"): lambda c: c.delete_tag(ID),
    ("POST", "/datasets/tags/binding"): lambda c: c.bind_tags(ID, [ID]),
    ("POST", "/datasets/tags/unbinding"): lambda c: c.unbind_tags(ID, [ID]),
    ("GET", _D + "/tags"): lambda c: c.get_dataset_tags(ID),
    ("POST", _D + "/metadata"): lambda c: c.create_metadata_field(ID, "f"),
    ("GET", _D + "/metadata"): lambda c: c.list_metadata_fields(ID),
    ("PATCH", _D + "/metadata/{metadata_id}"): lambda c: c.rename_metadata_field(ID, ID, "f"),
    ("DELETE", _D + "/metadata/{metadata_id}"): lambda c: c.delete_metadata_field(ID, ID),
    ("GET", _D + "/metadata/built-in"): lambda c: c.get_built_in_metadata_fields(ID),
    ("POST", _D + "/metadata/built-in/{action}"):
        lambda c: c.set_built_in_metadata(ID, enabled=True),
    ("POST", _D + "/documents/metadata"): lambda c: c.update_documents_metadata(ID, []),
    ("GET", "/workspaces/current/models/model-types/{model_type}"):
        lambda c: c.list_models("rerank"),
}  # fmt: skip

_REASON = re.compile(r"^- `(GET|POST|PUT|PATCH|DELETE) (/\S+)`: (\S.*)$")


def spec_operations() -> set[tuple[str, str]]:
    paths = json.loads(SPEC.read_text(encoding="utf-8"))["paths"]
    return {(m.upper(), p) for p, ops in paths.items() for m in ops if m in HTTP_METHODS}


def documented_reasons() -> dict[tuple[str, str], str]:
    text = ARCH.read_text(encoding="utf-8")
    section = text.split("## Operations without a client method", 1)[1].split("\n## ", 1)[0]
    return {(m[1], m[2]): m[3] for line in section.splitlines() if (m := _REASON.match(line))}


def test_every_operation_has_a_method_or_a_reason() -> None:
    ops = spec_operations()
    assert len(ops) == 82  # the copy is the whole Service API (app + knowledge)
    reasons = documented_reasons()
    missing = sorted(ops - set(APP) - set(KB) - set(reasons))
    assert missing == [], f"no client method and no reason in docs/architecture.md: {missing}"
    assert set(APP) | set(KB) | set(reasons) <= ops  # nothing stale
    assert not (set(reasons) & (set(APP) | set(KB)))  # a reason only where no method exists
    covered = len(ops & (set(APP) | set(KB)))
    assert covered + len(reasons) == len(ops)


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^/v1" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")


def _mock() -> tuple[list[httpx.Request], httpx.Client]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(418, json={"code": "teapot", "message": "recorded"})

    return seen, httpx.Client(transport=httpx.MockTransport(handler))


def _run(call: Callable[[Any], Any], client: Any) -> None:
    try:
        result = call(client)
        if hasattr(result, "close"):
            result.close()
    except DifyError:
        pass  # the 418 answer; the request is what is checked


@pytest.mark.parametrize(("op"), sorted(APP), ids=lambda op: f"{op[0]} {op[1]}")
def test_app_method_sends_the_operation(op: tuple[str, str]) -> None:
    seen, http = _mock()
    with DifyClient(api_key="app-x", base_url="http://dify.test/v1", http_client=http,
                    max_retries=0) as client:  # fmt: skip
        _run(APP[op], client)
    assert seen, op
    assert (seen[0].method, bool(_template(op[1]).match(seen[0].url.path))) == (op[0], True)


@pytest.mark.parametrize(("op"), sorted(KB), ids=lambda op: f"{op[0]} {op[1]}")
def test_knowledge_method_sends_the_operation(op: tuple[str, str]) -> None:
    seen, http = _mock()
    with DifyKnowledgeClient(api_key="dataset-x", base_url="http://dify.test/v1",
                             http_client=http, max_retries=0) as client:  # fmt: skip
        _run(KB[op], client)
    assert seen, op
    assert (seen[0].method, bool(_template(op[1]).match(seen[0].url.path))) == (op[0], True)
