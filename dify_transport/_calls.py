"""Pure builders of Service API calls and parsers of their answers (shared by sync/async)."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal, TypeAlias
from urllib.parse import quote

import httpx

from dify_transport._aggregate import result_from_blocking
from dify_transport._base_client import Call, parse_json
from dify_transport._errors import (
    APIResponseValidationError,
    WorkflowFailedError,
    make_status_error,
)
from dify_transport.types import FileInput, Message, Result, WorkflowRun

__all__ = [
    "CHAT_STOP",
    "Headers",
    "Rating",
    "SortBy",
    "conversations_call",
    "feedback_call",
    "messages_call",
    "oldest_first",
    "rename_call",
    "tts_call",
    "COMPLETION_STOP",
    "WORKFLOW_STOP",
    "FileTypes",
    "audio_mime",
    "audio_part",
    "blocking_result",
    "chat_call",
    "completion_call",
    "file_part",
    "seg",
    "text_to_audio_bytes",
    "workflow_call",
    "workflow_run",
]

FileTypes: TypeAlias = bytes | str | os.PathLike[str] | IO[bytes]
"""What ``upload_file``/``audio_to_text`` accept: bytes, a path, or a binary file object."""

CHAT_STOP = "/chat-messages/{task_id}/stop"
COMPLETION_STOP = "/completion-messages/{task_id}/stop"
WORKFLOW_STOP = "/workflows/tasks/{task_id}/stop"

_AUDIO_TYPES = {
    ".mp3": "audio/mp3",
    ".m4a": "audio/m4a",
    ".wav": "audio/wav",
    ".wave": "audio/wav",
    ".amr": "audio/amr",
    ".mpga": "audio/mpga",
}
"""File extension -> the MIME type Dify's ``audio-to-text`` accepts."""

_AUDIO_ALIASES = {
    "audio/mpeg": "audio/mp3",
    "audio/mpeg3": "audio/mp3",
    "audio/x-mpeg": "audio/mp3",
    "audio/x-mp3": "audio/mp3",
    "audio/x-mpeg-3": "audio/mp3",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-pn-wav": "audio/wav",
    "audio/mp4": "audio/m4a",
    "audio/x-m4a": "audio/m4a",
    "audio/amr-wb": "audio/amr",
}
"""Common audio MIME types -> the spelling Dify accepts (only ``audio/<ext>``, trap T23)."""


def seg(value: str) -> str:
    """Quote one path segment (ids come from users and servers)."""
    return quote(str(value), safe="")


def _drop_none(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def chat_call(
    query: str,
    *,
    user: str,
    streaming: bool,
    conversation_id: str | None,
    inputs: Mapping[str, Any] | None,
    files: Sequence[FileInput | Mapping[str, Any]] | None,
    auto_generate_name: bool | None,
    workflow_id: str | None,
) -> Call:
    """``POST /chat-messages`` (creates work: not retried once sent)."""
    body = _drop_none(
        {
            "inputs": dict(inputs or {}),
            "query": query,
            "user": user,
            "response_mode": "streaming" if streaming else "blocking",
            "conversation_id": conversation_id or None,
            "files": list(files) if files is not None else None,
            "auto_generate_name": auto_generate_name,
            "workflow_id": workflow_id,
        }
    )
    return Call("POST", "/chat-messages", json=body, idempotent=False, user=user)


def completion_call(
    *,
    user: str,
    streaming: bool,
    inputs: Mapping[str, Any] | None,
    query: str | None,
    files: Sequence[FileInput | Mapping[str, Any]] | None,
) -> Call:
    """``POST /completion-messages``; ``query`` goes into ``inputs["query"]``."""
    merged = dict(inputs or {})
    if query is not None:
        merged["query"] = query
    body = _drop_none(
        {
            "inputs": merged,
            "user": user,
            "response_mode": "streaming" if streaming else "blocking",
            "files": list(files) if files is not None else None,
        }
    )
    return Call("POST", "/completion-messages", json=body, idempotent=False, user=user)


def workflow_call(
    *,
    user: str,
    streaming: bool,
    inputs: Mapping[str, Any] | None,
    files: Sequence[FileInput | Mapping[str, Any]] | None,
    workflow_id: str | None,
) -> Call:
    """``POST /workflows/run`` (or ``/workflows/{workflow_id}/run`` to pin a version)."""
    path = f"/workflows/{seg(workflow_id)}/run" if workflow_id else "/workflows/run"
    body = _drop_none(
        {
            "inputs": dict(inputs or {}),
            "user": user,
            "response_mode": "streaming" if streaming else "blocking",
            "files": list(files) if files is not None else None,
        }
    )
    return Call("POST", path, json=body, idempotent=False, user=user)


def blocking_result(response: httpx.Response) -> Result:
    """Parse a blocking generation body; a failed workflow raises `WorkflowFailedError`."""
    body = parse_json(response)
    if not isinstance(body, Mapping):
        raise APIResponseValidationError(
            f"Expected a JSON object from Dify, got {type(body).__name__}",
            request=response.request,
            body=body,
        )
    result = result_from_blocking(body)
    if result.status == "failed":
        raise WorkflowFailedError(
            f"Workflow run {result.workflow_run_id} failed: {result.error or 'no error text'}",
            workflow_run_id=result.workflow_run_id,
            outputs=result.outputs,
            request=response.request,
            body=body,
        )
    return result


def workflow_run(response: httpx.Response, run_id: str, secret: str) -> WorkflowRun:
    """Parse run detail; Dify <= 1.12's all-null 200 for an unknown id becomes 404."""
    run = WorkflowRun.model_validate(parse_json(response) or {})
    if run.id is None:
        raise make_status_error(
            404,
            {"code": "not_found", "message": f"Workflow run {run_id} not found."},
            response=response,
            secret=secret,
        )
    return run


def text_to_audio_bytes(response: httpx.Response) -> bytes:
    """Return audio bytes; Dify's 200 ``null`` (unknown message, trap T22) raises."""
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        body = parse_json(response)
        raise APIResponseValidationError(
            "Dify returned no audio (JSON body instead): the message_id is unknown or its "
            "answer is empty, or text was empty",
            request=response.request,
            body=body,
        )
    return response.content


def _read(file: FileTypes, filename: str | None) -> tuple[str, bytes]:
    if isinstance(file, (bytes, bytearray, memoryview)):
        return filename or "upload.bin", bytes(file)
    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        return filename or path.name, path.read_bytes()
    data = file.read()
    name = filename or Path(str(getattr(file, "name", "upload.bin"))).name
    return name, data


def file_part(
    file: FileTypes, filename: str | None, mime_type: str | None
) -> tuple[str, bytes, str]:
    """Build the multipart ``file`` part of ``POST /files/upload``."""
    name, data = _read(file, filename)
    mime = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return name, data, mime


def audio_part(
    file: FileTypes, filename: str | None, mime_type: str | None
) -> tuple[str, bytes, str]:
    """Build the ``file`` part of ``POST /audio-to-text`` with a MIME type Dify accepts (T23)."""
    name, data = _read(file, filename if filename else None)
    if name == "upload.bin":
        name = "audio.mp3"
    return name, data, audio_mime(mime_type, name)


def audio_mime(mime_type: str | None, filename: str) -> str:
    """The MIME type to declare for ``audio-to-text`` (Dify only takes ``audio/<ext>``).

    Args:
        mime_type: The caller's type, if any. Common aliases are mapped
            (``audio/mpeg`` -> ``audio/mp3``, ``audio/x-wav``/``audio/wave``/
            ``audio/vnd.wave`` -> ``audio/wav``, ``audio/mp4``/``audio/x-m4a`` ->
            ``audio/m4a``); unknown types are passed through unchanged.
        filename: The part's file name, used to infer the type when none is given.

    Returns:
        The MIME type (``audio/mp3`` when nothing is known).
    """
    if mime_type:
        base = mime_type.split(";", 1)[0].strip().lower()
        return _AUDIO_ALIASES.get(base, mime_type)
    suffix = Path(filename).suffix.lower()
    known = _AUDIO_TYPES.get(suffix)
    if known is not None:
        return known
    guessed = mimetypes.guess_type(filename)[0] if suffix else None
    if guessed is None:
        return "audio/mp3"
    return _AUDIO_ALIASES.get(guessed.lower(), guessed)


Headers: TypeAlias = Mapping[str, str] | None
Rating: TypeAlias = Literal["like", "dislike"] | None
SortBy: TypeAlias = Literal["created_at", "-created_at", "updated_at", "-updated_at"]


def messages_call(conversation_id: str, user: str, first_id: str | None, limit: int) -> Call:
    params = {
        "conversation_id": conversation_id,
        "user": user,
        "first_id": first_id,
        "limit": limit,
    }
    return Call("GET", "/messages", params=params, user=user)


def conversations_call(user: str, last_id: str | None, limit: int, sort_by: str) -> Call:
    params = {"user": user, "last_id": last_id, "limit": limit, "sort_by": sort_by}
    return Call("GET", "/conversations", params=params, user=user)


def rename_call(conversation_id: str, user: str, name: str | None, auto_generate: bool) -> Call:
    body: dict[str, Any] = {"user": user, "auto_generate": auto_generate}
    if name is not None:
        body["name"] = name
    return Call("POST", f"/conversations/{seg(conversation_id)}/name", json=body, user=user)


def feedback_call(message_id: str, user: str, rating: Rating, content: str | None) -> Call:
    body: dict[str, Any] = {"rating": rating, "user": user}
    if content is not None:
        body["content"] = content
    return Call("POST", f"/messages/{seg(message_id)}/feedbacks", json=body, user=user)


def tts_call(user: str, text: str | None, message_id: str | None, voice: str | None) -> Call:
    body = {"user": user, "text": text, "message_id": message_id, "voice": voice}
    body = {k: v for k, v in body.items() if v is not None}
    return Call("POST", "/text-to-audio", json=body, idempotent=False, user=user)


def oldest_first(pages: list[list[Message]]) -> list[Message]:
    """Pages arrive newest page first, each ascending; return all ascending, each once."""
    seen: set[str] = set()
    out: list[Message] = []
    for page in reversed(pages):
        for message in page:
            if message.id not in seen:
                seen.add(message.id)
                out.append(message)
    return out
