"""The one place that maps Dify's failures onto the error tree of ``_errors.py``.

HTTP errors and in-stream ``error`` events: body envelopes, class by status and code, hints.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import httpx

from dify_transport._errors import (
    AgentBlockingModeError,
    AgentNotPublishedError,
    APIStatusError,
    AppUnavailableError,
    AuthenticationError,
    BadRequestError,
    CompletionRequestError,
    ContentTooLargeError,
    ConversationCompletedError,
    ConversationNotFoundError,
    CursorNotFoundError,
    EndUserNotFoundError,
    FileAccessDeniedError,
    HumanInputFormExpiredError,
    HumanInputFormSubmittedError,
    InternalServerError,
    InvalidFormDataError,
    InvalidParamError,
    MessageNotFoundError,
    NotChatAppError,
    NotFoundError,
    NotWorkflowAppError,
    PermissionDeniedError,
    PreconditionFailedError,
    ProviderNotInitializeError,
    ProviderQuotaExceededError,
    QuotaExceededError,
    RateLimitError,
    SpeechToTextDisabledError,
    TooManyRequestsError,
    UnsupportedMediaTypeError,
    WorkflowVersionNotAllowedError,
    request_of,
)

__all__ = ["error_from_event", "make_status_error", "needs_newer_dify", "parse_error_body"]


_BY_CODE: dict[str, type[APIStatusError]] = {
    "app_unavailable": AppUnavailableError,
    "not_chat_app": NotChatAppError,
    "not_workflow_app": NotWorkflowAppError,
    "provider_not_initialize": ProviderNotInitializeError,
    "provider_quota_exceeded": ProviderQuotaExceededError,
    "completion_request_error": CompletionRequestError,
    "invalid_param": InvalidParamError,
    "conversation_completed": ConversationCompletedError,
    "agent_not_published": AgentNotPublishedError,
    "speech_to_text_disabled": SpeechToTextDisabledError,
    "invalid_form_data": InvalidFormDataError,
    "workflow_version_execution_not_allowed": WorkflowVersionNotAllowedError,
    "file_access_denied": FileAccessDeniedError,
    "end_user_not_found": EndUserNotFoundError,
    "too_many_requests": TooManyRequestsError,
    "rate_limit_error": QuotaExceededError,
    "human_input_form_submitted": HumanInputFormSubmittedError,
    "human_input_form_expired": HumanInputFormExpiredError,
}
"""Dify's error code -> class, when the class's HTTP status matches the answer's."""

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: ContentTooLargeError,
    415: UnsupportedMediaTypeError,
    429: RateLimitError,
    412: PreconditionFailedError,
}

_HINTS: dict[str, str] = {
    "not_chat_app": (
        "this key belongs to an app that is not a chat, agent or chatflow app; for a "
        "workflow app use DifyWorkflow (LangChain), DifyWorkflowTool (LlamaIndex) or "
        "stream_workflow(); for a completion app DifyCompletion (LangChain), "
        "DifyCompletionLLM (LlamaIndex) or stream_completion(); or use a chat app's key"
    ),
    "not_workflow_app": (
        "this key belongs to an app that is not a workflow app; use stream_chat()/chat() "
        "for chat and chatflow apps, or use the workflow app's key"
    ),
    "provider_not_initialize": "configure the app's model provider credentials in Dify",
    "provider_quota_exceeded": "add your own model provider credentials in Dify",
    "conversation_completed": "start a new conversation (call again without conversation_id)",
    "rate_limit_error": (
        "a Dify Cloud quota is used up; it is not retried: wait for the quota period or "
        "upgrade the plan"
    ),
    "human_input_form_submitted": "the form was already answered; it works once",
    "human_input_form_expired": "the form expired; the run took its timeout path",
}


def parse_error_body(raw: bytes | str | None) -> tuple[object, str | None, str]:
    """Decode an error body in any of Dify's historical envelopes.

    Handles ``{code, message, status}`` (current), ``{code, message, params}`` (0.15
    validation), ``{errors, message}`` (1.8-1.11 validation), ``{error}`` (Knowledge API
    chunk validation), HTML pages and empty bodies.

    Args:
        raw: The response body.

    Returns:
        ``(body, code, message)``: the decoded body (dict or text), Dify's code (or
        None) and a one-line message.
    """
    if raw is None or raw in (b"", ""):
        return None, None, ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        body: object = json.loads(text)
    except (ValueError, RecursionError):
        stripped = text.strip()
        if stripped.startswith("<"):
            return stripped, None, _html_title(stripped)
        return stripped, None, stripped[:300]
    if not isinstance(body, Mapping):
        return body, None, str(body)[:300]
    code = body.get("code")
    message = body.get("message")
    message = "" if message is None else str(message)
    if not message and isinstance(body.get("error"), str):
        message = body["error"]  # chunk validation (Knowledge API): {"error": "..."} only
    errors = body.get("errors")
    if not isinstance(code, str):
        code = "invalid_param" if errors else None
    if isinstance(errors, Mapping) and errors:
        details = "; ".join(f"{k}: {v}" for k, v in errors.items())
        message = f"{message} ({details})" if message else details
    params = body.get("params")
    if isinstance(params, str) and params and params not in message:
        message = f"{message} (parameter: {params})"
    return dict(body), code, message


def _html_title(html: str) -> str:
    lower = html.lower()
    start = lower.find("<title>")
    end = lower.find("</title>")
    title = html[start + 7 : end].strip() if start != -1 and end > start else ""
    named = f" titled {title[:80]!r}" if title else ""
    return f"an HTML page{named} instead of a Service API answer"


_CURSOR_MESSAGES = ("last conversation not exists", "first message not exists")
"""404 messages (lower case) of an unknown ``last_id`` / ``first_id`` paging cursor."""


def _status_of(cls: type[APIStatusError]) -> int:
    for parent in cls.__mro__:
        for status, known in _BY_STATUS.items():
            if parent is known:
                return status
    return 0


_STATUS_OF = {cls: _status_of(cls) for cls in _BY_CODE.values()}
_AGENT_BLOCKING = re.compile(r"does not support blocking|only supports streaming", re.IGNORECASE)


def _class_for(status: int, code: str | None, message: str) -> type[APIStatusError]:
    if status == 404 and code != "end_user_not_found":
        # Prefix match: 1.8+ may append "... did you mean" (docs/wire-traps.md T11).
        text = message.lstrip().lower()
        if text.startswith(_CURSOR_MESSAGES):
            return CursorNotFoundError
        if text.startswith("conversation not exists"):
            return ConversationNotFoundError
        if text.startswith("message not exists"):
            return MessageNotFoundError
        return NotFoundError
    if status == 400 and _AGENT_BLOCKING.search(message):
        return AgentBlockingModeError
    coded = _BY_CODE.get(code or "")
    if coded is not None and _STATUS_OF.get(coded) == status:
        return coded
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return InternalServerError
    if code == "internal_server_error":
        return InternalServerError
    return APIStatusError


def _hint(
    cls: type[APIStatusError],
    status: int,
    code: str | None,
    *,
    user: str | None,
    path: str | None,
    is_html: bool,
) -> str:
    if cls is ConversationNotFoundError or cls is MessageNotFoundError:
        who = f"user={user!r}" if user is not None else "no user"
        return (
            f"the request was sent with {who}; Dify scopes conversations and messages per app "
            "and per user, so pass the same `user` that created it (or the id is wrong/deleted)"
        )
    if cls is CursorNotFoundError:
        return (
            "the paging cursor (last_id / first_id) is unknown: pass the id of an item from "
            "a previous page of the same listing and user, or page again from the start"
        )
    if cls is AgentBlockingModeError:
        return "agent apps only stream: use stream_chat(...).final() instead of chat()"
    if code == "app_unavailable" and path is not None and "completion-messages" in path:
        return "completion endpoints need a completion app's key (Dify says app_unavailable)"
    if code is not None and code in _HINTS:
        return _HINTS[code]
    if status == 401:
        return (
            "check the API key: app endpoints need the app's key (app-...), knowledge "
            "endpoints a knowledge key (dataset-...)"
        )
    if status == 404 and is_html and (bad := _malformed_dataset_id(path)) is not None:
        return (
            f"the dataset id {bad!r} is malformed: Dify's knowledge base ids are UUIDs "
            "(the id in the knowledge base's URL, .../datasets/<id>/documents)"
        )
    if status in (404, 405) and is_html:
        return (
            "this is not the Service API: base_url must be its root, ending in /v1 "
            "(https://api.dify.ai/v1, http://your-host/v1), not the web app's or console's URL"
        )
    if status == 429:
        return "rate or concurrency limit reached; wait and retry"
    return ""


def _malformed_dataset_id(path: str | None) -> str | None:
    """The dataset id in a ``/datasets/{id}/...`` path when it is not a UUID, else None."""
    _head, found, rest = (path or "").partition("/datasets/")
    dataset_id = unquote(rest.split("/", 1)[0]) if found and rest else ""
    if not dataset_id:
        return None
    try:
        uuid.UUID(dataset_id)
    except ValueError:
        return dataset_id
    return None


def scrub(value: object, secret: str) -> object:
    """``value`` (a decoded body: str, dict, list) with every ``secret`` replaced by ``***``."""
    if isinstance(value, str):
        return value.replace(secret, "***")
    if isinstance(value, Mapping):
        return {scrub(k, secret): scrub(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secret) for v in value]
    return value


def make_status_error(
    status_code: int,
    body: bytes | str | Mapping[str, Any] | None,
    *,
    response: httpx.Response | None = None,
    request: httpx.Request | None = None,
    user: str | None = None,
    in_stream: bool = False,
    secret: str | None = None,
) -> APIStatusError:
    """Build the typed error for an HTTP status plus Dify error body.

    This is the one mapping point: the class comes from the status, refined by Dify's
    ``code`` (and by the message for not-found and agent-blocking cases); the message
    says what to do.

    Args:
        status_code: HTTP status, or the ``status`` of an in-stream ``error`` event.
        body: Raw body bytes/text, or an already decoded dict.
        response: The HTTP response, when there is one.
        request: The request, when there is no response.
        user: The ``user`` the request was sent with (named in not-found messages).
        in_stream: True for an ``error`` event received after HTTP 200.
        secret: A string to scrub from the message (the API key).

    Returns:
        The error to raise.
    """
    raw = json.dumps(dict(body)) if isinstance(body, Mapping) else body
    decoded, code, message = parse_error_body(raw)
    is_html = isinstance(decoded, str) and decoded.startswith("<")
    cls = _class_for(status_code, code, message)
    if request is None and response is not None:
        request = request_of(response)
    path = request.url.path if request is not None else None
    head = f"Dify returned {status_code}"
    if code:
        head += f" {code}"
    if in_stream:
        head += " (in-stream error event)"
    text = f"{head}: {message}" if message else head
    hint = _hint(cls, status_code, code, user=user, path=path, is_html=is_html)
    if hint:
        text = f"{text} -- {hint}"
    if secret:
        text = text.replace(secret, "***")
        decoded = scrub(decoded, secret)
    return cls(
        text,
        response=response,
        status_code=status_code,
        body=decoded,
        code=code,
        request=request,
        in_stream=in_stream,
    )


def error_from_event(
    data: Mapping[str, Any],
    *,
    response: httpx.Response | None = None,
    user: str | None = None,
    secret: str | None = None,
) -> APIStatusError:
    """Map an in-stream ``error`` event (sent after HTTP 200) to the typed error.

    Args:
        data: The event JSON (``code``, ``status``, ``message`` and envelope keys).
        response: The stream's HTTP response.
        user: The ``user`` the stream was opened with.
        secret: A string to scrub from the message.

    Returns:
        The error, with ``in_stream`` set.
    """
    status = data.get("status")
    try:
        status_code = int(status) if status is not None else 500
    except (TypeError, ValueError, OverflowError):
        status_code = 500
    envelope = {"code": data.get("code"), "message": data.get("message")}
    return make_status_error(
        status_code, envelope, response=response, user=user, in_stream=True, secret=secret
    )


def needs_newer_dify(err: APIStatusError, since: str | None, where: str) -> APIStatusError:
    """Say which Dify a route needs when a server without it answers a bare 404.

    Args:
        err: The mapped error.
        since: The release that added the route (None: a route every Dify has).
        where: ``METHOD /path`` of the request.

    Returns:
        ``err``, or a `NotFoundError` naming the version when the 404 carries no Dify
        error code (the server has no such route, as Dify 0.15 or 1.12 for a newer one).
    """
    if since is None or err.status_code != 404 or err.code is not None:
        return err
    return NotFoundError(
        f"{where} needs Dify {since} or newer: this server has no such route (404 without "
        "a Dify error code). Upgrade Dify, or do not use this method with this server",
        response=err.response,
        status_code=404,
        body=err.body,
    )
