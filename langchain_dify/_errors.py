"""LangChain-flavoured Dify errors: one class per transport error, two parents each.

Every error ``langchain_dify`` raises from a Dify call is an instance of **both** the
transport's class (``dify_transport.RateLimitError``, with ``.code``,
``.status_code``, ``.partial_answer``, ...) and langchain-core's provider-neutral
class (``ModelRateLimitError``, with ``is_retryable``), so either ``except`` works:

```
DifyAuthenticationError       AuthenticationError       + ModelAuthenticationError
DifyPermissionDeniedError     PermissionDeniedError     + ModelPermissionDeniedError
DifyBadRequestError           BadRequestError           + ModelInvalidRequestError
DifyNotFoundError             NotFoundError             + ModelNotFoundError
DifyContentTooLargeError      ContentTooLargeError      + ModelInvalidRequestError
DifyUnsupportedMediaTypeError UnsupportedMediaTypeError + ModelInvalidRequestError
DifyRateLimitError            RateLimitError            + ModelRateLimitError
DifyInternalServerError       InternalServerError       + ModelAPIError
DifyAPIConnectionError        APIConnectionError        + ModelConnectionError
DifyAPITimeoutError           APITimeoutError           + ModelTimeoutError
DifyIncompleteStreamError     IncompleteStreamError     + ModelAPIError
DifyAPIError                  APIError                  + ModelAPIError  (anything else)
```

Transport subclasses without a row of their own (``ConversationNotFoundError``,
``NotChatAppError``, ...) are re-raised as this module's class of the same name, a
subclass of the transport class *and* the nearest row above, so
``except ConversationNotFoundError`` and ``except DifyNotFoundError`` both still
match. Every class is a module-level name, so the errors pickle. :func:`translate_errors` is the one
place that does this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

import dify_transport as dt

__all__ = [
    "DifyAPIConnectionError",
    "DifyAPIError",
    "DifyAPITimeoutError",
    "DifyAuthenticationError",
    "DifyBadRequestError",
    "DifyContentTooLargeError",
    "DifyIncompleteStreamError",
    "DifyInternalServerError",
    "DifyNotFoundError",
    "DifyPermissionDeniedError",
    "DifyRateLimitError",
    "DifyUnsupportedMediaTypeError",
    "translate_errors",
]


class DifyAPIError(dt.APIError, ModelAPIError):
    """A Dify API error with no more specific LangChain counterpart."""


class DifyBadRequestError(dt.BadRequestError, ModelInvalidRequestError):
    """Dify rejected the request (HTTP 400 or an in-stream 400 ``error`` event)."""


class DifyAuthenticationError(dt.AuthenticationError, ModelAuthenticationError):
    """The API key is missing, wrong, or of the wrong kind (HTTP 401)."""


class DifyPermissionDeniedError(dt.PermissionDeniedError, ModelPermissionDeniedError):
    """The key may not use this app or resource (HTTP 403)."""


class DifyNotFoundError(dt.NotFoundError, ModelNotFoundError):
    """The conversation, message or resource does not exist for this ``user`` (404)."""


class DifyContentTooLargeError(dt.ContentTooLargeError, ModelInvalidRequestError):
    """An uploaded file or the request body is too large (HTTP 413)."""


class DifyUnsupportedMediaTypeError(dt.UnsupportedMediaTypeError, ModelInvalidRequestError):
    """Dify does not accept this file type (HTTP 415)."""


class DifyRateLimitError(dt.RateLimitError, ModelRateLimitError):
    """Too many requests (HTTP 429); ``retry_after`` holds Dify's hint, if any."""


class DifyInternalServerError(dt.InternalServerError, ModelAPIError):
    """Dify or the model provider behind the app failed (HTTP 5xx)."""


class DifyAPIConnectionError(dt.APIConnectionError, ModelConnectionError):
    """The connection failed or dropped mid-stream (``partial_answer`` keeps the text)."""


class DifyAPITimeoutError(dt.APITimeoutError, DifyAPIConnectionError, ModelTimeoutError):
    """The request timed out."""


class DifyIncompleteStreamError(dt.IncompleteStreamError, ModelAPIError):
    """The stream ended without a terminal event (``partial_answer`` keeps the text)."""


# Most specific first is not needed: the lookup walks the raised class's MRO.
_DUAL: dict[type[dt.APIError], type[dt.APIError]] = {
    dt.APIError: DifyAPIError,
    dt.BadRequestError: DifyBadRequestError,
    dt.AuthenticationError: DifyAuthenticationError,
    dt.PermissionDeniedError: DifyPermissionDeniedError,
    dt.NotFoundError: DifyNotFoundError,
    dt.ContentTooLargeError: DifyContentTooLargeError,
    dt.UnsupportedMediaTypeError: DifyUnsupportedMediaTypeError,
    dt.RateLimitError: DifyRateLimitError,
    dt.InternalServerError: DifyInternalServerError,
    dt.APIConnectionError: DifyAPIConnectionError,
    dt.APITimeoutError: DifyAPITimeoutError,
    dt.IncompleteStreamError: DifyIncompleteStreamError,
}


_DERIVED: dict[type[dt.APIError], type[dt.APIError]] = {}


def _langchain_class(transport_cls: type[dt.APIError]) -> type[dt.APIError]:
    """The dual-inheritance class to raise for an instance of ``transport_cls``."""
    if (known := _DUAL.get(transport_cls) or _DERIVED.get(transport_cls)) is not None:
        return known
    # Published under the transport's name (when free), so that it pickles: transport
    # errors ``__reduce__`` to ``type(self)``, found by module and qualified name.
    dual = next(_DUAL[base] for base in transport_cls.__mro__ if base in _DUAL)
    name = transport_cls.__name__
    derived = type(
        name, (transport_cls, dual), {"__module__": __name__, "__doc__": transport_cls.__doc__}
    )
    derived = _DERIVED.setdefault(transport_cls, derived)
    globals().setdefault(name, derived)
    return derived


def _derive_all(cls: type[dt.APIError]) -> None:
    """Derive every transport subclass now, so each is a module-level name at import."""
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("dify_transport"):
            _langchain_class(sub)
            _derive_all(sub)


_derive_all(dt.APIError)


def as_langchain_error(exc: dt.APIError) -> dt.APIError:
    """Return ``exc`` re-typed as its dual-inheritance class, attributes intact."""
    if isinstance(exc, ModelError):
        return exc
    cls = _langchain_class(type(exc))
    new = cls.__new__(cls)
    new.args = exc.args
    new.__dict__.update(vars(exc))
    new.__traceback__ = exc.__traceback__
    return new


@contextmanager
def translate_errors() -> Iterator[None]:
    """Re-raise transport ``APIError``s inside the block as their LangChain twins.

    Works around generators too (``yield`` inside the block): ``GeneratorExit`` and
    cancellation pass through untouched.
    """
    try:
        yield
    except dt.APIError as exc:
        new = as_langchain_error(exc)
        if new is exc:
            raise
        raise new from exc
