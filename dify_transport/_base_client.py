"""Request building, auth, the retry loop and response processing (sync and async).

Every public client method builds a `Call` (method, path, body, whether it is
idempotent, the ``user`` it carries) and hands it to `SyncAPIClient._request` or
`AsyncAPIClient._request`, which own retries, error mapping and logging. The API key
is only ever placed in the ``Authorization`` header; it is never logged, never in a
``repr`` and scrubbed from error text.
"""

# The contract gives every call a per-call httpx timeout (not an asyncio deadline).
# ruff: noqa: ASYNC109

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeAlias

import httpx

from dify_transport import _retry
from dify_transport._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_BLOCKING_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_TIMEOUT,
    ENV_BASE_URL,
    LOGGER_NAME,
    STOP_TIMEOUT,
)
from dify_transport._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    DifyConfigError,
    make_status_error,
)

__all__ = [
    "AsyncAPIClient",
    "AsyncHttpClient",
    "Call",
    "HttpClient",
    "SyncAPIClient",
    "TimeoutTypes",
    "parse_json",
]

HttpClient: TypeAlias = httpx.Client
"""The sync HTTP client type adapters may inject (``http_client=``)."""
AsyncHttpClient: TypeAlias = httpx.AsyncClient
"""The async HTTP client type adapters may inject (``http_client=``)."""
TimeoutTypes: TypeAlias = float | httpx.Timeout | None
"""Per-call or per-client timeout: seconds (connect stays <= 5 s) or an ``httpx.Timeout``."""

_log = logging.getLogger(LOGGER_NAME)
_STOP_HTTP_TIMEOUT = httpx.Timeout(STOP_TIMEOUT)
"""Every phase (pool, connect, write, read) of a stop request; the total is bounded apart."""
_USER_AGENT = "dify-integrations/0.1.0 (dify_transport; httpx)"


@dataclass(slots=True)
class Call:
    """One Service API request, before auth and retries are applied."""

    method: str
    """HTTP method."""
    path: str
    """Path relative to ``base_url`` (starts with ``/``)."""
    params: Mapping[str, Any] | None = None
    """Query parameters (None values are dropped)."""
    json: Any = None
    """JSON body (None: no body)."""
    files: Any = None
    """Multipart files."""
    data: Mapping[str, Any] | None = None
    """Multipart form fields."""
    idempotent: bool = True
    """Whether repeating the request cannot duplicate work."""
    user: str | None = None
    """The ``user`` the request carries (named in not-found errors)."""


def parse_json(response: httpx.Response) -> Any:
    """Decode a JSON body; an empty body (e.g. 204) is None.

    Args:
        response: A read response.

    Returns:
        The decoded JSON.

    Raises:
        APIResponseValidationError: The body was not JSON.
    """
    content = response.content
    if not content or not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError:
        raise APIResponseValidationError(
            f"Dify answered {response.status_code} with a body that is not JSON: {content[:120]!r}",
            request=response.request,
            body=content[:2000].decode("utf-8", "replace"),
        ) from None


def resolve_timeout(value: TimeoutTypes, default: httpx.Timeout) -> httpx.Timeout:
    """Turn a timeout argument into an ``httpx.Timeout``.

    Args:
        value: None (use ``default``), seconds, or an ``httpx.Timeout``.
        default: The client's timeout.

    Returns:
        A float ``t`` becomes ``Timeout(t, connect=min(t, 5))``.
    """
    if value is None:
        return default
    if isinstance(value, httpx.Timeout):
        return value
    seconds = float(value)
    return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_CONNECT_TIMEOUT))


class _Secret:
    """Holds the API key; its repr never shows it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


class _BaseAPIClient:
    """Configuration shared by the sync and async engines."""

    _env_key: str = ""
    _key_hint: str = "an app key"

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: TimeoutTypes,
        max_retries: int,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(self._env_key)
        if not key or not key.strip():
            raise DifyConfigError(
                f"No Dify API key: pass api_key=... or set ${self._env_key} "
                f"({self._key_hint}, from the app's 'API Access' page)"
            )
        self.__api_key = _Secret(key.strip())
        url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
        self.base_url: str = url.rstrip("/")
        """The Service API root, e.g. ``https://api.dify.ai/v1``."""
        self.timeout: httpx.Timeout = resolve_timeout(timeout, DEFAULT_TIMEOUT)
        """Default timeout of every call."""
        self._timeout_given = timeout is not None
        if max_retries < 0:
            raise DifyConfigError("max_retries must be >= 0")
        self.max_retries: int = max_retries
        """How many times retryable failures are retried."""

    def _blocking_timeout(self, timeout: TimeoutTypes) -> TimeoutTypes:
        """Timeout of a blocking generation call (T19: no byte arrives until the run ends).

        Args:
            timeout: The per-call timeout, if any.

        Returns:
            ``timeout`` if given, else the client's timeout if it was given explicitly,
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
        call: Call,
        timeout: TimeoutTypes,
        extra_headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        params = None
        if call.params is not None:
            params = {k: v for k, v in call.params.items() if v is not None}
        content = None
        headers = self._headers(extra_headers)
        if call.json is not None:
            content = json.dumps(call.json, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        return http.build_request(
            call.method,
            self._url(call.path),
            params=params,
            content=content,
            files=call.files,
            data=call.data,
            headers=headers,
            timeout=resolve_timeout(timeout, self.timeout),
        )

    def _connection_error(self, exc: Exception, call: Call) -> APIConnectionError:
        where = f"{call.method} {self._url(call.path)}"
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

    def _log_request(self, call: Call, attempt: int) -> None:
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "dify request %s %s user=%r attempt=%d (Authorization: Bearer ***)",
                call.method,
                self._url(call.path),
                call.user,
                attempt + 1,
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    __str__ = __repr__


class SyncAPIClient(_BaseAPIClient):
    """The synchronous engine: one lazily built ``httpx.Client``, retries, error mapping."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: TimeoutTypes,
        max_retries: int,
        http_client: httpx.Client | None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise DifyConfigError("http_client must be an httpx.Client for the sync client")
        self._client = http_client
        self._owns_client = http_client is None
        self._sleep: Callable[[float], None] | None = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout, follow_redirects=False)
        return self._client

    def _do_sleep(self, seconds: float) -> None:
        (self._sleep or _retry.sleep)(seconds)

    def _request(
        self,
        call: Call,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
        stream: bool = False,
        max_retries: int | None = None,
    ) -> httpx.Response:
        """Send ``call`` with retries; return a 2xx response (streamed if asked)."""
        http = self._http()
        retries = self.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            request = self._build(http, call, timeout, extra_headers)
            self._log_request(call, attempt)
            try:
                response = http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if attempt < retries and _retry.retryable_exception(
                    exc, idempotent=call.idempotent
                ):
                    self._do_sleep(_retry.backoff_delay(attempt))
                    attempt += 1
                    continue
                raise self._connection_error(exc, call) from exc
            if response.is_success:
                return response
            try:
                body = response.read()
            except httpx.HTTPError:
                body = b""
            finally:
                response.close()
            err = make_status_error(
                response.status_code, body, response=response, user=call.user, secret=self._secret
            )
            _log.debug("dify response %s %s -> %d", call.method, call.path, response.status_code)
            if attempt < retries and _retry.retryable_status(
                response.status_code, idempotent=call.idempotent
            ):
                delay = _retry.backoff_delay(attempt, _retry.parse_retry_after(response.headers))
                self._do_sleep(delay)
                attempt += 1
                continue
            raise err

    def _json(
        self, call: Call, *, timeout: TimeoutTypes, extra_headers: Mapping[str, str] | None
    ) -> Any:
        return parse_json(self._request(call, timeout=timeout, extra_headers=extra_headers))

    def _stop_quietly(
        self, path: str, user: str, extra_headers: Mapping[str, str] | None = None
    ) -> Callable[[str], None]:
        """The best-effort stop a `Stream` calls when abandoned: at most ``STOP_TIMEOUT`` in total.

        Args:
            path: The stop path template (``{task_id}`` placeholder).
            user: The ``user`` the stream was opened with.
            extra_headers: The stream's extra headers, repeated on the stop request.

        Returns:
            ``stop(task_id)``: sends one request (no retries) and returns within
            ``STOP_TIMEOUT`` seconds; failures are logged at DEBUG, never raised.
        """

        def send(task_id: str) -> None:
            call = Call("POST", path.format(task_id=task_id), json={"user": user}, user=user)
            try:
                response = self._request(
                    call, timeout=_STOP_HTTP_TIMEOUT, extra_headers=extra_headers, max_retries=0
                )
                response.close()
            except Exception:  # noqa: BLE001 - best effort: a failed stop must not mask anything
                _log.debug("dify stop call failed", exc_info=True)

        def stop(task_id: str) -> None:
            # httpx has no overall deadline (each phase has its own timeout): run the
            # request on a daemon thread and wait at most STOP_TIMEOUT for it.
            worker = threading.Thread(target=send, args=(task_id,), name="dify-stop", daemon=True)
            worker.start()
            worker.join(STOP_TIMEOUT)
            if worker.is_alive():
                _log.debug("dify stop call still running after %.1fs; not waiting", STOP_TIMEOUT)

        return stop

    def close(self) -> None:
        """Close the HTTP client if this object built it (an injected one is left open)."""
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncAPIClient(_BaseAPIClient):
    """The asynchronous engine: one lazily built ``httpx.AsyncClient``, retries, error mapping."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: TimeoutTypes,
        max_retries: int,
        http_client: httpx.AsyncClient | None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise DifyConfigError("http_client must be an httpx.AsyncClient for the async client")
        self._client = http_client
        self._owns_client = http_client is None
        self._sleep: Callable[[float], Awaitable[None]] | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def _do_sleep(self, seconds: float) -> None:
        await (self._sleep or _retry.async_sleep)(seconds)

    async def _request(
        self,
        call: Call,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
        stream: bool = False,
        max_retries: int | None = None,
    ) -> httpx.Response:
        """Send ``call`` with retries; return a 2xx response (streamed if asked)."""
        http = self._http()
        retries = self.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            request = self._build(http, call, timeout, extra_headers)
            self._log_request(call, attempt)
            try:
                response = await http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if attempt < retries and _retry.retryable_exception(
                    exc, idempotent=call.idempotent
                ):
                    await self._do_sleep(_retry.backoff_delay(attempt))
                    attempt += 1
                    continue
                raise self._connection_error(exc, call) from exc
            if response.is_success:
                return response
            try:
                body = await response.aread()
            except httpx.HTTPError:
                body = b""
            finally:
                await response.aclose()
            err = make_status_error(
                response.status_code, body, response=response, user=call.user, secret=self._secret
            )
            _log.debug("dify response %s %s -> %d", call.method, call.path, response.status_code)
            if attempt < retries and _retry.retryable_status(
                response.status_code, idempotent=call.idempotent
            ):
                delay = _retry.backoff_delay(attempt, _retry.parse_retry_after(response.headers))
                await self._do_sleep(delay)
                attempt += 1
                continue
            raise err

    async def _json(
        self, call: Call, *, timeout: TimeoutTypes, extra_headers: Mapping[str, str] | None
    ) -> Any:
        return parse_json(await self._request(call, timeout=timeout, extra_headers=extra_headers))

    def _stop_quietly(
        self, path: str, user: str, extra_headers: Mapping[str, str] | None = None
    ) -> Callable[[str], Awaitable[None]]:
        """The stop an `AsyncStream` calls when abandoned (it bounds the total with wait_for).

        Args:
            path: The stop path template (``{task_id}`` placeholder).
            user: The ``user`` the stream was opened with.
            extra_headers: The stream's extra headers, repeated on the stop request.

        Returns:
            ``stop(task_id)``: one request, no retries, every phase within ``STOP_TIMEOUT``.
        """

        async def stop(task_id: str) -> None:
            call = Call("POST", path.format(task_id=task_id), json={"user": user}, user=user)
            response = await self._request(
                call, timeout=_STOP_HTTP_TIMEOUT, extra_headers=extra_headers, max_retries=0
            )
            await response.aclose()

        return stop

    async def aclose(self) -> None:
        """Close the HTTP client if this object built it (an injected one is left open)."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
