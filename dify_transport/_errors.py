"""The error tree, drawn in docs/architecture.md ("Errors").

Dify's failures are mapped onto it in one place, ``_error_mapping.py``. Every error
pickles and copies without calling ``__init__`` (`DifyError.__reduce__`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self, TypeVar

import httpx

from dify_transport._retry import parse_retry_after

__all__ = [
    "ConversationCompletedError",
    "AgentNotPublishedError",
    "SpeechToTextDisabledError",
    "InvalidFormDataError",
    "WorkflowVersionNotAllowedError",
    "FileAccessDeniedError",
    "TooManyRequestsError",
    "QuotaExceededError",
    "PreconditionFailedError",
    "HumanInputFormSubmittedError",
    "HumanInputFormExpiredError",
    "EndUserNotFoundError",
    "ReconnectError",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "PoolTimeoutError",
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


class DifyInputError(DifyConfigError):
    """The input cannot be sent to Dify as given (the text says why; nothing was sent).

    A `DifyError` and a ``ValueError``; public as ``dify_transport.turns.DifyInputError``
    (and ``langchain_dify.DifyInputError``).
    """


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
            request = request_of(response)
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


class ConversationCompletedError(BadRequestError):
    """400 ``conversation_completed``: the conversation has ended; start a new one."""


class AgentNotPublishedError(BadRequestError):
    """400 ``agent_not_published``: the Agent the app is bound to has no published version."""


class SpeechToTextDisabledError(BadRequestError):
    """400 ``speech_to_text_disabled``: speech to text is off for this app."""


class InvalidFormDataError(BadRequestError):
    """400 ``invalid_form_data``: a human-input answer failed validation (the form stays open)."""


class AuthenticationError(APIStatusError):
    """HTTP 401: missing, malformed or unknown API key (or the wrong key type)."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the app or its API access is disabled."""


class WorkflowVersionNotAllowedError(PermissionDeniedError):
    """403 ``workflow_version_execution_not_allowed``: pinning a version needs a paid plan."""


class FileAccessDeniedError(PermissionDeniedError):
    """403 ``file_access_denied``: the file belongs to another app or workspace."""


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
        retry_after: The delay the server asked for (``Retry-After`` / ``retry-after-ms``,
            validated and capped as `dify_transport._retry.parse_retry_after` does; the
            delay waited when the request is retried), or None.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        """Take `APIStatusError`'s arguments; ``retry_after`` is read from ``response``."""
        super().__init__(message, **kwargs)
        response: httpx.Response | None = kwargs.get("response")
        self.retry_after = None if response is None else parse_retry_after(response.headers)


class TooManyRequestsError(RateLimitError):
    """429 ``too_many_requests``: the app's concurrency ceiling; retried with backoff."""


class QuotaExceededError(RateLimitError):
    """429 ``rate_limit_error``: a Dify Cloud quota is used up; never retried.

    Waiting seconds does not help: it clears with the quota period or a plan change.
    """


class PreconditionFailedError(APIStatusError):
    """HTTP 412: a human-input form can no longer be answered."""


class HumanInputFormSubmittedError(PreconditionFailedError):
    """412 ``human_input_form_submitted``: the form was already answered (it works once)."""


class HumanInputFormExpiredError(PreconditionFailedError):
    """412 ``human_input_form_expired``: the form is past its expiration time."""


class EndUserNotFoundError(NotFoundError):
    """404 ``end_user_not_found``: no end user has that id."""


class InternalServerError(APIStatusError):
    """HTTP 5xx (or an in-stream ``internal_server_error``)."""


class APIConnectionError(APIError):
    """The connection failed, or dropped before the response or stream was complete."""


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout expired."""


class PoolTimeoutError(APITimeoutError):
    """Every connection of the client stayed busy for the whole ``pool`` timeout.

    Nothing was sent (so nothing is retried). Raise the client's ``max_connections``
    (or close streams you no longer read).

    Attributes:
        max_connections: The client's connection limit (None: an injected ``http_client``).
    """

    max_connections: int | None = None


class ReconnectError(APIConnectionError):
    """A workflow/chatflow stream dropped and resuming it from the run's events failed.

    The run may still be going on server-side: follow it with
    ``stream_workflow_events(workflow_run_id, user=...)`` or read ``get_workflow_run``.

    Attributes:
        workflow_run_id: The run whose stream dropped.
        attempts: How many times reconnecting was tried.
    """

    def __init__(
        self,
        message: str,
        *,
        workflow_run_id: str | None = None,
        attempts: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.workflow_run_id = workflow_run_id
        self.attempts = attempts


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


def request_of(response: httpx.Response) -> httpx.Request | None:
    """The request of ``response``, or None when it has none (a bare test response)."""
    try:
        return response.request
    except RuntimeError:
        return None
