"""What the sync and async engines share: `Call`, configuration, request building, auth.

Every public client method hands one `Call` (built in ``_app_api`` / ``_knowledge_api``)
to its engine (``_async/_engine.py``, and the generated ``_sync/_engine.py``), which
owns retries, error mapping and logging. The API key is only ever placed in the
``Authorization`` header; it is never logged, never in a ``repr`` and scrubbed from
error text.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any, Generic, TypeAlias, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from dify_transport._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_BLOCKING_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_BASE_URL,
    LOGGER_NAME,
    STOP_TIMEOUT,
)
from dify_transport._deadline import checked_deadline
from dify_transport._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    DifyConfigError,
    PoolTimeoutError,
)
from dify_transport._pools import checked_max_connections
from dify_transport._reconnect import ReconnectPolicy, resolve_policy
from dify_transport._sse import DEFAULT_MAX_EVENT_SIZE, loads_strict

__all__ = [
    "STOP_HTTP_TIMEOUT",
    "AsyncHttpClient",
    "AsyncSleep",
    "AsyncStop",
    "BAD_PAYLOAD",
    "BaseAPIClient",
    "Call",
    "HttpClient",
    "Sleep",
    "Stop",
    "TimeoutTypes",
    "invalid_payload",
    "loads_strict",
    "not_a_stream",
    "parse_json",
    "payload_problem",
    "seg",
    "trace_headers",
]

T = TypeVar("T")
H = TypeVar("H", httpx.Client, httpx.AsyncClient)

HttpClient: TypeAlias = httpx.Client
"""The sync HTTP client type adapters may inject (``http_client=``)."""
AsyncHttpClient: TypeAlias = httpx.AsyncClient
"""The async HTTP client type adapters may inject (``http_client=``)."""
TimeoutTypes: TypeAlias = float | httpx.Timeout | None
"""Per-call or per-client timeout: seconds (connect stays <= 5 s) or an ``httpx.Timeout``."""

Sleep: TypeAlias = Callable[[float], None]
AsyncSleep: TypeAlias = Callable[[float], Awaitable[None]]
Stop: TypeAlias = Callable[[str], None]
"""Stops one Dify task by its id (sends one request; a stream calls it when abandoned)."""
AsyncStop: TypeAlias = Callable[[str], Awaitable[None]]

_log = logging.getLogger(LOGGER_NAME)
STOP_HTTP_TIMEOUT = httpx.Timeout(STOP_TIMEOUT)
"""Every phase (pool, connect, write, read) of a stop request; the total is bounded apart."""
_USERINFO_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@:]*:)[^/@]*@")
"""``scheme://user:`` before a password in a URL (masked in reprs and messages)."""
_HTTPX_DEFAULT_TIMEOUT = httpx.Timeout(5.0)
"""What an ``httpx.Client()`` built without ``timeout=`` carries."""
_NOT_STREAM_TYPES = frozenset({"text/html", "application/json"})
"""Content types of a 200 to a streaming call that are surely not a Dify stream."""
_USER_AGENT = "dify-integrations/0.1.0 (dify_transport; httpx)"


@dataclass(slots=True)
class Call(Generic[T]):
    """One Service API request, before auth and retries, and how to read its answer."""

    method: str
    """HTTP method."""
    path: str
    """Path relative to ``base_url`` (starts with ``/``; ids quoted with ``seg``)."""
    _: KW_ONLY
    parse: Callable[[httpx.Response], T]
    """Turns the (read, 2xx) response into the method's result."""
    params: Mapping[str, Any] | None = None
    """Query parameters (None values are dropped)."""
    json: Any = None
    """JSON body (None: no body)."""
    files: Any = None
    """Multipart files."""
    data: Mapping[str, Any] | None = None
    """Multipart form fields."""
    user: str | None = None
    """The ``user`` the request carries (named in not-found errors)."""
    creates_work: bool | None = None
    """Whether the request starts paid work, so must never be resent once it may have
    reached Dify. None (the default) means: every POST does, nothing else does."""
    blocking: bool = False
    """A blocking generation: nothing arrives until the run ends (long read timeout)."""
    stop: str | None = None
    """For a streaming call: the stop path template (``{task_id}`` placeholder)."""
    since: str | None = None
    """The Dify release that added the route: an older server's bare 404 says so."""

    def __post_init__(self) -> None:
        if self.creates_work is None:
            self.creates_work = self.method == "POST"

    @property
    def idempotent(self) -> bool:
        """Whether repeating the request cannot duplicate work."""
        return not self.creates_work


_TRACE_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
TRACE_HEADER = "X-Trace-Id"


def trace_headers(trace_id: object) -> dict[str, str]:
    """The header that joins a Dify trace to the caller's (``X-Trace-Id``).

    Args:
        trace_id: Any id (a LangChain run UUID, a LlamaIndex span id); None for none.

    Returns:
        ``{"X-Trace-Id": id}`` with only the characters Dify accepts (``[A-Za-z0-9_-]``,
        at most 128), or ``{}`` when nothing usable is left.
    """
    if trace_id is None:
        return {}
    value = _TRACE_UNSAFE.sub("", str(trace_id))[:128]
    return {TRACE_HEADER: value} if value else {}


def seg(value: str) -> str:
    """Quote one path segment (ids come from users and servers).

    Raises:
        DifyConfigError: ``value`` is empty, ``.`` or ``..``, which would leave their
            route (``DELETE /conversations/..`` is ``DELETE /v1``); nothing is sent.
    """
    text = str(value)
    if text in ("", ".", ".."):
        raise DifyConfigError(
            f"Invalid id {text!r}: an id must not be empty, '.' or '..' (it would address "
            "another route); pass the id Dify returned"
        )
    return quote(text, safe="")


BAD_PAYLOAD: tuple[type[Exception], ...] = (
    RecursionError,
    TypeError,
    ValueError,
    OverflowError,
    KeyError,
    IndexError,
    AttributeError,
)
"""What a hostile or malformed payload makes parsers raise (pydantic's ValidationError is a
ValueError); the engine and the streams turn these into ``APIResponseValidationError``."""


def payload_problem(exc: BaseException) -> str:
    """Name what was wrong with a payload: the offending field for a pydantic error."""
    if isinstance(exc, pydantic.ValidationError) and exc.errors():
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(root)"
        return f"field {field!r}: {first['msg']} ({first['type']})"
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def invalid_payload(exc: BaseException, response: httpx.Response) -> APIResponseValidationError:
    """The typed error for a 2xx answer whose body a parser could not read."""
    try:
        body = response.content[:2000].decode("utf-8", "replace")
    except httpx.ResponseNotRead:
        body = None
    return APIResponseValidationError(
        f"Dify answered {response.status_code} with a body we could not read "
        f"({payload_problem(exc)})",
        request=response.request,
        body=body,
    )


def parse_json(response: httpx.Response) -> Any:
    """Decode a read response's JSON body (an empty one, e.g. a 204, is None).

    Raises:
        APIResponseValidationError: The body was not JSON.
    """
    content = response.content
    if not content or not content.strip():
        return None
    try:
        return loads_strict(content)
    except (ValueError, RecursionError) as exc:
        raise APIResponseValidationError(
            f"Dify answered {response.status_code} with a body that is not JSON "
            f"({payload_problem(exc)}): {content[:120]!r}",
            request=response.request,
            body=content[:2000].decode("utf-8", "replace"),
        ) from None


def resolve_timeout(value: TimeoutTypes, default: httpx.Timeout) -> httpx.Timeout:
    """A timeout argument as an ``httpx.Timeout``.

    None is ``default`` (the client's); a float ``t`` is ``Timeout(t, connect=min(t, 5))``.
    """
    if value is None:
        return default
    if isinstance(value, httpx.Timeout):
        return value
    seconds = float(value)
    return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_CONNECT_TIMEOUT))


def _checked_headers(extra: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """``extra_headers`` if every name and value is printable ASCII text (no CR/LF)."""
    if not extra:
        return extra
    for name, value in extra.items():
        for part in (name, value):
            if not isinstance(part, str) or not part.isascii() or not part.isprintable():
                raise DifyConfigError(
                    f"extra_headers[{name!r}]: header names and values must be printable "
                    "ASCII text (no CR/LF, control or non-ASCII characters); nothing was sent"
                )
    return extra


def _json_body(value: Any, where: str) -> bytes:
    """The UTF-8 JSON body; NaN/Infinity or unencodable text raise ``DifyConfigError``."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
    except UnicodeEncodeError as exc:
        problem = f"a string holds {exc.object[exc.start : exc.end]!r} ({exc.reason})"
    except ValueError as exc:
        problem = f"{exc} (JSON has no NaN or Infinity; send null or a string)"
    except (TypeError, RecursionError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    raise DifyConfigError(f"Cannot send {where}: its JSON body is invalid: {problem}")


def _content_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


def not_a_stream(response: httpx.Response) -> bool:
    """Whether a 200 to a streaming call is an HTML page or JSON (surely not a Dify stream)."""
    return _content_type(response) in _NOT_STREAM_TYPES


class _Secret:
    """Holds the API key; its repr never shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


class BaseAPIClient(Generic[H]):
    """Configuration shared by the sync and async engines, and every client's constructor."""

    _env_key: str = ""
    _key_hint: str = "an app key"
    max_connections: int | None = None
    """Connections the client's own HTTP client may open at once (None: an injected one)."""
    _key_source: str = "the app's 'API Access' page"
    _http_type: type[H]
    """What ``http_client=`` must be: ``httpx.AsyncClient`` (async) or ``httpx.Client``."""
    _build_http: Callable[[httpx.Timeout, int], H]
    """Builds the client's own HTTP client (``_pool.build_http_client``)."""
    _loop: object | None = None
    """The event loop the pool was first used on (None: not used yet, or sync)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: H | None = None,
        *,
        deadline: float | None = None,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        max_connections: int | None = None,
        reconnect: bool | ReconnectPolicy = True,
    ) -> None:
        """Configure the client (no I/O).

        ``timeout`` bounds each phase (connect, and each read: the gap between two
        stream events). ``deadline`` (seconds) bounds a whole call, retries and
        stream included, unless a call passes its own ``deadline=``. A stream event
        larger than ``max_event_size`` bytes (default 8 MiB; None: unbounded) raises
        ``APIResponseValidationError``. ``reconnect``: how a dropped workflow or
        chatflow stream resumes (False: it does not; a `ReconnectPolicy`).
        """
        key = api_key if api_key is not None else os.environ.get(self._env_key)
        if not key or not key.strip():
            raise DifyConfigError(
                f"No Dify API key: pass api_key=... or set ${self._env_key} "
                f"({self._key_hint}, from {self._key_source})"
            )
        key = key.strip()
        bad = next((i for i, c in enumerate(key) if not (c.isascii() and c.isprintable())), None)
        if bad is not None:
            raise DifyConfigError(
                f"The Dify API key holds a control or non-ASCII character at "
                f"position {bad} (of {len(key)}); copy it again from {self._key_source} "
                f"({self._key_hint}, or ${self._env_key})"
            )
        self.__api_key = _Secret(key)
        url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
        self.base_url: str = url.rstrip("/")
        """The Service API root, e.g. ``https://api.dify.ai/v1``."""
        self._shown_url = _USERINFO_PASSWORD.sub(r"\1***@", self.base_url)
        self.timeout: httpx.Timeout = resolve_timeout(timeout, DEFAULT_TIMEOUT)
        """Default timeout of every call."""
        self._timeout_given = timeout is not None
        if max_retries < 0:
            raise DifyConfigError("max_retries must be >= 0")
        self.max_retries: int = max_retries
        """How many times retryable failures are retried."""
        self.deadline: float | None = checked_deadline(deadline)
        """Default total time limit of every call in seconds, retries and whole stream
        included (None: only the per-phase ``timeout`` bounds a call)."""
        if max_event_size is not None and (
            isinstance(max_event_size, bool)
            or not isinstance(max_event_size, int)
            or max_event_size < 1
        ):
            raise DifyConfigError(
                f"max_event_size must be a positive number of bytes or None, got {max_event_size!r}"
            )
        self.max_event_size: int | None = max_event_size
        """Largest SSE event a stream accepts, in bytes (None: unbounded)."""
        if http_client is not None and not isinstance(http_client, self._http_type):
            raise DifyConfigError(
                f"http_client must be an httpx.{self._http_type.__name__} for this client"
            )
        if http_client is not None and max_connections is not None:
            raise DifyConfigError(
                "max_connections applies to the HTTP client this client builds; with "
                "http_client=... set the limit on it (httpx.Limits(max_connections=...))"
            )
        self._owns_client = http_client is None
        if http_client is None:
            self.max_connections = checked_max_connections(max_connections)
        else:
            self._adopt_timeout(http_client.timeout)
        # Built now (no I/O), so a first call pays no setup (async: rebuilt if the loop changes).
        self._client: H | None = http_client if http_client is not None else self._own_http()
        self._reconnect = resolve_policy(reconnect, None)

    def _own_http(self) -> H:
        """A new HTTP client of the kind this client builds itself."""
        return self._build_http(self.timeout, self.max_connections or 0)

    def _expires(self, deadline: float | None) -> tuple[float | None, float | None]:
        """The call's deadline (its own, else the client's) and its monotonic expiry."""
        seconds = checked_deadline(deadline) if deadline is not None else self.deadline
        if seconds is None:
            return None, None
        return seconds, time.monotonic() + seconds

    def _adopt_timeout(self, injected: httpx.Timeout) -> None:
        """Use an injected ``http_client``'s timeout when no ``timeout=`` was passed.

        httpx's own default (5 s everywhere) is not taken as a choice; any other
        timeout becomes the client's default, blocking generation included.
        """
        if not self._timeout_given and injected != _HTTPX_DEFAULT_TIMEOUT:
            self.timeout = injected
            self._timeout_given = True

    def _blocking_timeout(self, timeout: TimeoutTypes) -> TimeoutTypes:
        """Timeout of a blocking generation call (wire trap T19: no byte until the run ends).

        The call's ``timeout`` if given, else the client's if it was given explicitly,
        else ``DEFAULT_BLOCKING_TIMEOUT`` (300 s read).
        """
        if timeout is not None:
            return timeout
        if self._timeout_given:
            return self.timeout
        return DEFAULT_BLOCKING_TIMEOUT

    @property
    def _secret(self) -> str:
        return self.__api_key.value

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.__api_key.value}",
            "Accept": "text/event-stream, application/json",
            "User-Agent": _USER_AGENT,
        }
        if extra:
            headers.update(extra)
        return headers

    def _build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        call: Call[Any],
        timeout: TimeoutTypes,
        extra_headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        params = None
        if call.params is not None:
            params = {k: v for k, v in call.params.items() if v is not None}
        content = None
        headers = self._headers(_checked_headers(extra_headers))
        where = f"{call.method} {call.path}"
        if call.json is not None:
            content = _json_body(call.json, where)
            headers["Content-Type"] = "application/json"
        try:
            return http.build_request(
                call.method,
                self._url(call.path),
                params=params,
                content=content,
                files=call.files,
                data=call.data,
                headers=headers,
                timeout=resolve_timeout(
                    self._blocking_timeout(timeout) if call.blocking else timeout, self.timeout
                ),
            )
        except UnicodeEncodeError as exc:
            raise DifyConfigError(
                f"Cannot send {where}: a parameter holds text that cannot be encoded "
                f"({exc.reason} at {exc.start}, e.g. a lone surrogate); fix the input"
            ) from None

    def _not_a_stream(
        self, call: Call[Any], response: httpx.Response, body: bytes
    ) -> APIResponseValidationError:
        """The error for a 200 to a streaming call that is a page or JSON, not SSE."""
        ctype = _content_type(response)
        start = body[:300].decode("utf-8", "replace")
        return APIResponseValidationError(
            f"Dify answered {call.method} {self._shown_url}{call.path} with {ctype}, not an "
            f"event stream: {start!r} -- check base_url (it must be the Service API root, "
            "e.g. https://api.dify.ai/v1, not the web console or a proxy page)",
            request=response.request,
            body=body[:2000].decode("utf-8", "replace"),
        )

    def _connection_error(self, exc: Exception, call: Call[Any]) -> APIConnectionError:
        where = f"{call.method} {self._shown_url}{call.path}"
        if isinstance(exc, httpx.PoolTimeout):
            return self._pool_timeout_error(exc, where)
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"Request timed out ({type(exc).__name__}) on {where}; pass timeout=... to "
                "allow more time",
                request=getattr(exc, "_request", None),
            )
        return APIConnectionError(
            f"Could not talk to Dify ({type(exc).__name__}) on {where}; check base_url "
            "and that the server is reachable",
            request=getattr(exc, "_request", None),
        )

    def _pool_timeout_error(self, exc: httpx.PoolTimeout, where: str) -> PoolTimeoutError:
        """Every pooled connection stayed busy: name the limit and how to raise it."""
        request = getattr(exc, "_request", None)
        waited = self.timeout.pool
        if request is not None:
            waited = request.extensions.get("timeout", {}).get("pool", waited)
        limit = self.max_connections
        if limit is None:
            what = "the injected http_client's connections"
            fix = "raise httpx.Limits(max_connections=...) on that client"
        else:
            what = f"all {limit} connections of this client (max_connections={limit})"
            fix = "pass a higher max_connections=... to the client (or the adapter)"
        err = PoolTimeoutError(
            f"No free connection for {where}: {what} stayed busy for {waited} s; "
            f"nothing was sent. {fix}, or close streams you no longer read",
            request=request,
        )
        err.max_connections = limit
        return err

    def _log_request(self, call: Call[Any], attempt: int) -> None:
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "dify request %s %s user=%r attempt=%d (Authorization: Bearer ***)",
                call.method,
                f"{self._shown_url}{call.path}",
                call.user,
                attempt + 1,
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._shown_url!r})"

    __str__ = __repr__
