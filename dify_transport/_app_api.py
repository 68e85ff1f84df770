"""Every app-key endpoint of the Service API, defined once (pure: no I/O).

Each function builds the `Call` of one endpoint: method, path (ids quoted with `seg`),
query or body, the parser of its answer, and whether it creates paid work (every POST
does unless its definition says ``creates_work=False``). The async client
(``_async/_app_client.py``) and the sync client generated from it only send these.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias, TypeVar

import httpx
from pydantic import BaseModel

from dify_transport._aggregate import result_from_blocking
from dify_transport._base_client import Call, parse_json, seg
from dify_transport._error_mapping import make_status_error
from dify_transport._errors import APIResponseValidationError, WorkflowFailedError
from dify_transport._files import FileTypes, audio_part, file_part
from dify_transport.types import (
    AppInfo,
    AppMeta,
    AppParameters,
    AppSite,
    Conversation,
    ConversationPage,
    FileInput,
    MessagePage,
    Result,
    UploadedFile,
    WorkflowLogPage,
    WorkflowRun,
)

__all__ = [
    "MAX_PAGES",
    "PageGuard",
    "CHAT_STOP",
    "COMPLETION_STOP",
    "WORKFLOW_STOP",
    "Files",
    "Headers",
    "Inputs",
    "Rating",
    "SortBy",
    "audio_to_text",
    "chat",
    "completion",
    "delete_conversation",
    "get_conversations",
    "get_info",
    "get_messages",
    "get_meta",
    "get_parameters",
    "get_server_info",
    "get_site",
    "get_suggested_questions",
    "get_workflow_logs",
    "get_workflow_run",
    "in_citation_order",
    "model_parser",
    "no_content",
    "rename_conversation",
    "run_workflow",
    "send_feedback",
    "stop_task",
    "text_to_audio",
    "upload_file",
]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

Headers: TypeAlias = Mapping[str, str] | None
Inputs: TypeAlias = Mapping[str, Any] | None
Files: TypeAlias = Sequence[FileInput | Mapping[str, Any]] | None
Rating: TypeAlias = Literal["like", "dislike"] | None
SortBy: TypeAlias = Literal["created_at", "-created_at", "updated_at", "-updated_at"]

CHAT_STOP = "/chat-messages/{task_id}/stop"
COMPLETION_STOP = "/completion-messages/{task_id}/stop"
WORKFLOW_STOP = "/workflows/tasks/{task_id}/stop"


def model_parser(cls: type[M]) -> Callable[[httpx.Response], M]:
    """A parser that validates the JSON body as ``cls``."""

    def parse(response: httpx.Response) -> M:
        return cls.model_validate(parse_json(response))

    return parse


def no_content(response: httpx.Response) -> None:
    """The parser of endpoints whose answer carries nothing (204, ``{"result": ...}``)."""


def raw_content(response: httpx.Response) -> bytes:
    """The parser of endpoints that answer with a file's bytes."""
    return response.content


def drop_none(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _generation(
    path: str, stop: str, *, user: str, streaming: bool, body: Mapping[str, Any], files: Files
) -> Call[Result]:
    full = drop_none(
        {
            **body,
            "user": user,
            "response_mode": "streaming" if streaming else "blocking",
            "files": list(files) if files is not None else None,
        }
    )
    parse = functools.partial(blocking_result, user=user)
    return Call("POST", path, parse=parse, json=full, user=user, blocking=not streaming, stop=stop)


# -- generation ------------------------------------------------------------------------


def chat(
    query: str,
    *,
    user: str,
    streaming: bool,
    conversation_id: str | None,
    inputs: Inputs,
    files: Files,
    auto_generate_name: bool | None,
    workflow_id: str | None,
) -> Call[Result]:
    """``POST /chat-messages`` (chat, agent and chatflow apps)."""
    body = {
        "inputs": dict(inputs or {}),
        "query": query,
        "conversation_id": conversation_id or None,
        "auto_generate_name": auto_generate_name,
        "workflow_id": workflow_id,
    }
    return _generation(
        "/chat-messages", CHAT_STOP, user=user, streaming=streaming, body=body, files=files
    )


def completion(
    *, user: str, streaming: bool, inputs: Inputs, query: str | None, files: Files
) -> Call[Result]:
    """``POST /completion-messages``; ``query`` goes into ``inputs["query"]``."""
    merged = dict(inputs or {})
    if query is not None:
        merged["query"] = query
    return _generation(
        "/completion-messages",
        COMPLETION_STOP,
        user=user,
        streaming=streaming,
        body={"inputs": merged},
        files=files,
    )


def run_workflow(
    *, user: str, streaming: bool, inputs: Inputs, files: Files, workflow_id: str | None
) -> Call[Result]:
    """``POST /workflows/run`` (or ``/workflows/{workflow_id}/run`` to pin a version)."""
    path = f"/workflows/{seg(workflow_id)}/run" if workflow_id else "/workflows/run"
    body = {"inputs": dict(inputs or {})}
    return _generation(path, WORKFLOW_STOP, user=user, streaming=streaming, body=body, files=files)


def blocking_result(response: httpx.Response, user: str | None = None) -> Result:
    """Parse a blocking generation body; a failed workflow raises `WorkflowFailedError`."""
    body = parse_json(response)
    if not isinstance(body, Mapping):
        raise APIResponseValidationError(
            f"Expected a JSON object from Dify, got {type(body).__name__}",
            request=response.request,
            body=body,
        )
    result = result_from_blocking(body, user)
    if result.status == "failed":
        raise WorkflowFailedError(
            f"Workflow run {result.workflow_run_id} failed: {result.error or 'no error text'}",
            workflow_run_id=result.workflow_run_id,
            outputs=result.outputs,
            request=response.request,
            body=body,
        )
    return result


def in_citation_order(result: Result) -> Result:
    """``result`` with its ``retriever_resources`` ordered by ``position``."""
    resources = sorted(
        result.retriever_resources,
        key=lambda r: r.position if r.position is not None else 1 << 30,
    )
    return result.model_copy(update={"retriever_resources": resources})


def stop_task(stop_path: str, task_id: str, *, user: str) -> Call[None]:
    """``POST`` a stop endpoint (same ``user`` as the run, or Dify ignores it)."""
    path = stop_path.format(task_id=seg(task_id))
    return Call("POST", path, parse=no_content, json={"user": user}, user=user, creates_work=False)


def get_workflow_run(run_id: str) -> Call[WorkflowRun]:
    """``GET /workflows/run/{id}``; Dify <= 1.12's all-null 200 for an unknown id is a 404."""

    def parse(response: httpx.Response) -> WorkflowRun:
        run = WorkflowRun.model_validate(parse_json(response) or {})
        if run.id is None:
            raise make_status_error(
                404,
                {"code": "not_found", "message": f"Workflow run {run_id} not found."},
                response=response,
            )
        return run

    return Call("GET", f"/workflows/run/{seg(run_id)}", parse=parse)


def get_workflow_logs(
    *, page: int, limit: int, keyword: str | None, status: str | None
) -> Call[WorkflowLogPage]:
    """``GET /workflows/logs`` (page-number paging)."""
    params = {"page": page, "limit": limit, "keyword": keyword, "status": status}
    return Call("GET", "/workflows/logs", parse=model_parser(WorkflowLogPage), params=params)


# -- conversations and messages --------------------------------------------------------


def get_messages(
    conversation_id: str, *, user: str, first_id: str | None, limit: int
) -> Call[MessagePage]:
    """``GET /messages``: the newest ``limit`` messages older than ``first_id``."""
    params = {"conversation_id": conversation_id, "user": user, "first_id": first_id}
    return Call(
        "GET",
        "/messages",
        parse=model_parser(MessagePage),
        params={**params, "limit": limit},
        user=user,
    )


def get_conversations(
    *, user: str, last_id: str | None, limit: int, sort_by: SortBy
) -> Call[ConversationPage]:
    """``GET /conversations`` after ``last_id``."""
    params = {"user": user, "last_id": last_id, "limit": limit, "sort_by": sort_by}
    return Call(
        "GET", "/conversations", parse=model_parser(ConversationPage), params=params, user=user
    )


def rename_conversation(
    conversation_id: str, *, user: str, name: str | None, auto_generate: bool
) -> Call[Conversation]:
    """``POST /conversations/{id}/name`` (repeating it changes nothing more)."""
    body = drop_none({"user": user, "auto_generate": auto_generate, "name": name})
    return Call(
        "POST",
        f"/conversations/{seg(conversation_id)}/name",
        parse=model_parser(Conversation),
        json=body,
        user=user,
        creates_work=False,
    )


def delete_conversation(conversation_id: str, *, user: str) -> Call[None]:
    """``DELETE /conversations/{id}`` (always with a JSON body; 204 or 200)."""
    path = f"/conversations/{seg(conversation_id)}"
    return Call("DELETE", path, parse=no_content, json={"user": user}, user=user)


def send_feedback(message_id: str, *, user: str, rating: Rating, content: str | None) -> Call[None]:
    """``POST /messages/{id}/feedbacks`` (``rating=None`` revokes)."""
    body: dict[str, Any] = {"rating": rating, "user": user}
    if content is not None:
        body["content"] = content
    path = f"/messages/{seg(message_id)}/feedbacks"
    return Call("POST", path, parse=no_content, json=body, user=user, creates_work=False)


def get_suggested_questions(message_id: str, *, user: str) -> Call[list[str]]:
    """``GET /messages/{id}/suggested``."""

    def parse(response: httpx.Response) -> list[str]:
        body = parse_json(response) or {}
        return [str(q) for q in body.get("data") or []]

    path = f"/messages/{seg(message_id)}/suggested"
    return Call("GET", path, parse=parse, params={"user": user}, user=user)


MAX_PAGES = 10_000
"""Most pages one ``iter_*`` loop fetches (1 000 000 items at the default page size)."""


class PageGuard:
    """Ends a paging loop a server keeps alive with ``has_more=true`` pages that cycle."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.pages = 0
        self.seen: set[str] = set()

    def next_page(self, ids: Sequence[str]) -> None:
        """Check a ``has_more=true`` page before asking for the next.

        Raises:
            APIResponseValidationError: The page added no new id (the server cycles
                pages), or ``MAX_PAGES`` pages were read.
        """
        self.pages += 1
        fresh = set(ids) - self.seen
        self.seen.update(ids)
        if not fresh:
            raise APIResponseValidationError(
                f"Dify answered has_more=true for {self.what} with page {self.pages} adding "
                "no new items (the server repeats pages); stopped paging"
            )
        if self.pages >= MAX_PAGES:
            raise APIResponseValidationError(
                f"Paging {self.what} passed {MAX_PAGES} pages with has_more=true; stopped"
            )


# -- app info --------------------------------------------------------------------------


def _server_info(response: httpx.Response) -> dict[str, Any]:
    body = parse_json(response)
    return dict(body) if isinstance(body, dict) else {}


def get_server_info() -> Call[dict[str, Any]]:
    """``GET /v1/``: ``welcome``, ``api_version``, ``server_version``."""
    return Call("GET", "/", parse=_server_info)


def get_parameters() -> Call[AppParameters]:
    """``GET /parameters``: the app's input form and features."""
    return Call("GET", "/parameters", parse=model_parser(AppParameters))


def get_meta() -> Call[AppMeta]:
    """``GET /meta``: tool icons."""
    return Call("GET", "/meta", parse=model_parser(AppMeta))


def get_info() -> Call[AppInfo]:
    """``GET /info``: name, description, tags (and mode on 1.x)."""
    return Call("GET", "/info", parse=model_parser(AppInfo))


def get_site() -> Call[AppSite]:
    """``GET /site``: WebApp settings (1.x)."""
    return Call("GET", "/site", parse=model_parser(AppSite))


# -- files and audio -------------------------------------------------------------------


def _multipart(path: str, part: Any, user: str, parse: Callable[[httpx.Response], T]) -> Call[T]:
    """A multipart ``POST`` of one file part and the ``user`` field."""
    return Call("POST", path, parse=parse, files={"file": part}, data={"user": user}, user=user)


def upload_file(
    file: FileTypes, *, user: str, filename: str | None, mime_type: str | None
) -> Call[UploadedFile]:
    """``POST /files/upload`` (multipart)."""
    part = file_part(file, filename, mime_type)
    return _multipart("/files/upload", part, user, model_parser(UploadedFile))


def _transcript(response: httpx.Response) -> str:
    body = parse_json(response) or {}
    return str(body.get("text") or "")


def audio_to_text(
    file: FileTypes, *, user: str, filename: str | None, mime_type: str | None
) -> Call[str]:
    """``POST /audio-to-text`` (multipart; the part's MIME type is one Dify accepts)."""
    return _multipart("/audio-to-text", audio_part(file, filename, mime_type), user, _transcript)


def _audio_bytes(response: httpx.Response) -> bytes:
    """Audio bytes; Dify's 200 ``null`` (unknown message or empty text) raises."""
    if "json" in response.headers.get("content-type", ""):
        raise APIResponseValidationError(
            "Dify returned no audio (JSON body instead): the message_id is unknown or its "
            "answer is empty, or text was empty",
            request=response.request,
            body=parse_json(response),
        )
    return response.content


def text_to_audio(
    *, user: str, text: str | None, message_id: str | None, voice: str | None
) -> Call[bytes]:
    """``POST /text-to-audio``."""
    body = drop_none({"user": user, "text": text, "message_id": message_id, "voice": voice})
    return Call("POST", "/text-to-audio", parse=_audio_bytes, json=body, user=user)
