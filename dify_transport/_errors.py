"""The error tree and the one place that maps Dify failures onto it.

```
DifyError
 ├── DifyConfigError                      missing key / bad config (also ValueError)
 └── APIError(message, *, request, body, code)
      ├── APIStatusError(.response, .status_code)      built only by make_status_error()
      │    ├── BadRequestError            400 (AppUnavailableError, NotChatAppError, ...)
      │    ├── AuthenticationError        401
      │    ├── PermissionDeniedError      403
      │    ├── NotFoundError              404 (Conversation-, Message-, CursorNotFoundError)
      │    ├── ContentTooLargeError       413
      │    ├── UnsupportedMediaTypeError  415
      │    ├── RateLimitError             429 (.retry_after)
      │    └── InternalServerError        >=500
      ├── APIConnectionError               connect/read failures, dropped stream
      │    └── APITimeoutError
      ├── IncompleteStreamError            EOF with no terminal event
      ├── WorkflowFailedError              workflow_finished status=failed
      └── APIResponseValidationError       a body we could not parse
```

Every `APIError` carries ``partial_answer``, ``conversation_id``, ``message_id`` and
``task_id`` (None unless raised while reading a stream) and ``in_stream``.

Every error (and any subclass importable by name, e.g. the adapters' dual-inheritance
classes) pickles and copies without calling ``__init__``; pickling drops the httpx
``request`` / ``response`` (None after unpickling) but keeps ``request_method`` /
``request_url`` and every plain attribute.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeVar

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AgentBlockingModeError",
    "AppUnavailableError",
    "AuthenticationError",
    "BadRequestError",
    "CompletionRequestError",
    "ContentTooLargeError",
    "ConversationNotFoundError",
    "CursorNotFoundError",
    "DifyConfigError",
    "DifyError",
    "IncompleteStreamError",
    "InternalServerError",
    "InvalidParamError",
    "MessageNotFoundError",
    "NotChatAppError",
    "NotFoundError",
    "NotWorkflowAppError",
    "PermissionDeniedError",
    "ProviderNotInitializeError",
    "ProviderQuotaExceededError",
    "RateLimitError",
    "UnsupportedMediaTypeError",
    "WorkflowFailedError",
    "error_from_event",
    "make_status_error",
    "parse_error_body",
]


_E = TypeVar("_E", bound=BaseException)

_HTTPX_OBJECTS = (httpx.Request, httpx.Response)


def _rebuild(cls: type[_E], args: tuple[Any, ...], state: dict[str, Any]) -> _E:
    """Recreate an error of any subclass from its state, never calling ``cls.__init__``."""
    err = BaseException.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


class DifyError(Exception):
    """Base class of every error raised by ``dify_transport`` (picklable, copyable)."""

    def _pickle_state(self) -> dict[str, Any]:
        """``__dict__`` minus what cannot cross a process (httpx objects become None)."""
        return {k: (None if isinstance(v, _HTTPX_OBJECTS) else v) for k, v in self.__dict__.items()}

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """Rebuild ``type(self)`` from ``args`` and state, never calling ``__init__``."""
        return _rebuild, (type(self), self.args, self._pickle_state())

    def __copy__(self) -> Self:
        """A shallow copy that keeps every attribute (httpx objects included)."""
        return _rebuild(type(self), self.args, dict(self.__dict__))


class DifyConfigError(DifyError, ValueError):
    """The client is misconfigured (for example, no API key was given or found)."""


class APIError(DifyError):
    """A request to Dify failed.

    Attributes:
        message: Human-readable text (never contains the API key).
        request: The ``httpx.Request`` that failed, when known.
        body: The decoded error body (dict, str) or None.
        code: Dify's error ``code`` string, or None.
        partial_answer: Text received before a stream failed (None otherwise).
        conversation_id: Conversation id seen before the failure, if any.
        message_id: Message id seen before the failure, if any.
        task_id: Task id seen before the failure, if any.
        in_stream: True when Dify reported the failure inside an HTTP 200 stream.
    """

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request | None = None,
        body: object = None,
        code: str | None = None,
        partial_answer: str | None = None,
        conversation_id: str | None = None,
        message_id: str | None = None,
        task_id: str | None = None,
        in_stream: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.request = request
        self.body = body
        self.code = code
        self.partial_answer = partial_answer
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.task_id = task_id
        self.in_stream = in_stream

    @property
    def request_method(self) -> str | None:
        """The failed request's HTTP method (kept across pickling), or None."""
        request: httpx.Request | None = getattr(self, "request", None)
        method: str | None = self.__dict__.get("_request_method")
        return request.method if request is not None else method

    @property
    def request_url(self) -> str | None:
        """The failed request's URL (kept across pickling; never holds the key), or None."""
        request: httpx.Request | None = getattr(self, "request", None)
        url: str | None = self.__dict__.get("_request_url")
        return str(request.url) if request is not None else url

    def _pickle_state(self) -> dict[str, Any]:
        state = super()._pickle_state()
        state["_request_method"] = self.request_method
        state["_request_url"] = self.request_url
        return state

    def _attach(
        self,
        *,
        partial_answer: str | None,
        conversation_id: str | None,
        message_id: str | None,
        task_id: str | None,
    ) -> None:
        """Record what a stream had produced when this error ended it."""
        self.partial_answer = partial_answer
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.task_id = task_id


class APIStatusError(APIError):
    """Dify answered with an error status (or an in-stream ``error`` event).

    Attributes:
        response: The HTTP response (for in-stream errors: the 200 stream response).
        status_code: The HTTP status (for in-stream errors: the event's ``status``).
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response | None,
        status_code: int,
        body: object = None,
        code: str | None = None,
        request: httpx.Request | None = None,
        in_stream: bool = False,
    ) -> None:
        if request is None and response is not None:
            request = _request_of(response)
        super().__init__(message, request=request, body=body, code=code, in_stream=in_stream)
        self.response = response
        self.status_code = status_code


class BadRequestError(APIStatusError):
    """HTTP 400: invalid parameters, wrong app mode, provider failures."""


class InvalidParamError(BadRequestError):
    """400 ``invalid_param``: a parameter or input was rejected."""


class AgentBlockingModeError(InvalidParamError):
    """400: agent apps only stream; use ``stream_chat(...).final()``."""


class AppUnavailableError(BadRequestError):
    """400 ``app_unavailable``: the app is misconfigured, or not a completion app."""


class NotChatAppError(BadRequestError):
    """400 ``not_chat_app``: the key's app is not a chat/agent/chatflow app."""


class NotWorkflowAppError(BadRequestError):
    """400 ``not_workflow_app``: the key's app is not a workflow app."""


class ProviderNotInitializeError(BadRequestError):
    """400 ``provider_not_initialize``: the app's model provider has no credentials."""


class ProviderQuotaExceededError(BadRequestError):
    """400 ``provider_quota_exceeded``: the hosted model quota is used up."""


class CompletionRequestError(BadRequestError):
    """400 ``completion_request_error``: the model provider failed."""


class AuthenticationError(APIStatusError):
    """HTTP 401: missing, malformed or unknown API key (or the wrong key type)."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the app or its API access is disabled."""


class NotFoundError(APIStatusError):
    """HTTP 404: unknown route, conversation, message, file or dataset."""


class ConversationNotFoundError(NotFoundError):
    """404 "Conversation Not Exists.": unknown id, or created by another ``user``."""


class MessageNotFoundError(NotFoundError):
    """404 "Message Not Exists.": unknown id, or the message of another ``user``."""


class CursorNotFoundError(NotFoundError):
    """404 "Last Conversation Not Exists." / "First Message Not Exists.": unknown paging cursor.

    The ``last_id`` (conversations) or ``first_id`` (messages) is not an item of that
    listing for that ``user``.
    """


class ContentTooLargeError(APIStatusError):
    """HTTP 413: the uploaded file or audio is too large."""


class UnsupportedMediaTypeError(APIStatusError):
    """HTTP 415: file type not allowed, or the request body was not JSON."""


class RateLimitError(APIStatusError):
    """HTTP 429: rate or concurrency limit.

    Attributes:
        retry_after: Seconds from the ``Retry-After`` header, or None.
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response | None,
        status_code: int,
        body: object = None,
        code: str | None = None,
        request: httpx.Request | None = None,
        in_stream: bool = False,
    ) -> None:
        super().__init__(
            message,
            response=response,
            status_code=status_code,
            body=body,
            code=code,
            request=request,
            in_stream=in_stream,
        )
        self.retry_after = _retry_after_of(response)


class InternalServerError(APIStatusError):
    """HTTP 5xx (or an in-stream ``internal_server_error``)."""


class APIConnectionError(APIError):
    """The connection failed, or dropped before the response or stream was complete."""


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout expired."""


class IncompleteStreamError(APIError):
    """The stream ended (EOF) without a terminal event (``message_end``/``workflow_finished``)."""


class WorkflowFailedError(APIError):
    """A workflow run finished with ``status: "failed"`` (Dify still answers HTTP 200).

    Attributes:
        workflow_run_id: The failed run's id.
        outputs: Outputs the run produced, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        workflow_run_id: str | None = None,
        outputs: object = None,
        request: httpx.Request | None = None,
        body: object = None,
        in_stream: bool = False,
    ) -> None:
        super().__init__(message, request=request, body=body, code="workflow_failed")
        self.in_stream = in_stream
        self.workflow_run_id = workflow_run_id
        self.outputs = outputs


class APIResponseValidationError(APIError):
    """Dify's answer could not be parsed into the expected shape."""


_BY_CODE: dict[str, type[APIStatusError]] = {
    "app_unavailable": AppUnavailableError,
    "not_chat_app": NotChatAppError,
    "not_workflow_app": NotWorkflowAppError,
    "provider_not_initialize": ProviderNotInitializeError,
    "provider_quota_exceeded": ProviderQuotaExceededError,
    "completion_request_error": CompletionRequestError,
    "invalid_param": InvalidParamError,
}

_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: ContentTooLargeError,
    415: UnsupportedMediaTypeError,
    429: RateLimitError,
}

_HINTS: dict[str, str] = {
    "not_chat_app": (
        "this key belongs to an app that is not a chat, agent or chatflow app; use the "
        "completion or workflow methods for it, or use the chat app's key"
    ),
    "not_workflow_app": (
        "this key belongs to an app that is not a workflow app; use stream_chat()/chat() "
        "for chat and chatflow apps, or use the workflow app's key"
    ),
    "provider_not_initialize": "configure the app's model provider credentials in Dify",
    "provider_quota_exceeded": "add your own model provider credentials in Dify",
}


def _request_of(response: httpx.Response) -> httpx.Request | None:
    try:
        return response.request
    except RuntimeError:
        return None


def _retry_after_of(response: httpx.Response | None) -> float | None:
    if response is None:
        return None
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def parse_error_body(raw: bytes | str | None) -> tuple[object, str | None, str]:
    """Decode an error body in any of Dify's historical envelopes.

    Handles ``{code, message, status}`` (current), ``{code, message, params}`` (0.15
    validation), ``{errors, message}`` (1.8-1.11 validation), HTML pages and empty
    bodies.

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
    except ValueError:
        stripped = text.strip()
        if stripped.startswith("<"):
            return stripped, None, _html_title(stripped)
        return stripped, None, stripped[:300]
    if not isinstance(body, Mapping):
        return body, None, str(body)[:300]
    code = body.get("code")
    message = body.get("message")
    message = "" if message is None else str(message)
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
    if start != -1 and end > start:
        return html[start + 7 : end].strip()
    return "HTML error page"


_CURSOR_MESSAGES = ("last conversation not exists", "first message not exists")
"""404 messages (lower case) of an unknown ``last_id`` / ``first_id`` paging cursor."""


def _class_for(status: int, code: str | None, message: str) -> type[APIStatusError]:
    if status == 404:
        # Prefix match: 1.8+ may append "You have requested this URI ... did you mean" (T11).
        text = message.lstrip().lower()
        if text.startswith(_CURSOR_MESSAGES):
            return CursorNotFoundError
        if text.startswith("conversation not exists"):
            return ConversationNotFoundError
        if text.startswith("message not exists"):
            return MessageNotFoundError
        return NotFoundError
    if status == 400 and "does not support blocking" in message:
        return AgentBlockingModeError
    if status == 400 and code is not None and code in _BY_CODE:
        return _BY_CODE[code]
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
    if status == 404 and is_html:
        return "no such route: check that base_url ends with /v1 and points at a Dify Service API"
    if status == 429:
        return "rate or concurrency limit reached; wait and retry"
    return ""


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
    if isinstance(body, Mapping):
        decoded, code, message = parse_error_body(json.dumps(dict(body)))
    else:
        decoded, code, message = parse_error_body(body)
    is_html = isinstance(decoded, str) and decoded.startswith("<")
    cls = _class_for(status_code, code, message)
    path = request.url.path if request is not None else None
    if path is None and response is not None:
        req = _request_of(response)
        path = req.url.path if req is not None else None
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
    except (TypeError, ValueError):
        status_code = 500
    envelope = {"code": data.get("code"), "message": data.get("message")}
    return make_status_error(
        status_code, envelope, response=response, user=user, in_stream=True, secret=secret
    )
