"""`AsyncAPIClient`: the engine that sends `Call`s, with retries and one error mapping."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx

from dify_transport import _retry
from dify_transport._app_api import stop_task
from dify_transport._async._pool import build_http_client
from dify_transport._async._resume import AsyncResumer
from dify_transport._base_client import (
    BAD_PAYLOAD,
    STOP_HTTP_TIMEOUT,
    AsyncSleep,
    AsyncStop,
    BaseAPIClient,
    Call,
    TimeoutTypes,
    invalid_payload,
    not_a_stream,
)
from dify_transport._closing import AsyncClosing
from dify_transport._constants import LOGGER_NAME
from dify_transport._deadline import (
    async_deadline,
    cap_timeout,
    current_async_loop,
    deadline_error,
    remaining,
)
from dify_transport._error_mapping import make_status_error, needs_newer_dify
from dify_transport._errors import DifyConfigError, DifyError
from dify_transport._reconnect import ReconnectPolicy, resolve_policy
from dify_transport._streaming import AsyncStream

__all__ = ["AsyncAPIClient"]

T = TypeVar("T")
_log = logging.getLogger(LOGGER_NAME)


class AsyncAPIClient(AsyncClosing, BaseAPIClient[httpx.AsyncClient]):
    """The asynchronous engine: one lazily built ``httpx.AsyncClient``, retries, error mapping."""

    _http_type = httpx.AsyncClient
    _build_http = staticmethod(build_http_client)
    _sleep: AsyncSleep | None = None
    """Replaces the retry backoff's sleep (tests)."""

    def _http(self) -> httpx.AsyncClient:
        """The HTTP client for the current event loop.

        A pool is bound to the loop it first ran on: a client we built is replaced
        (never shared across loops) when the loop changed, e.g. a second
        ``asyncio.run``; an injected one used on another loop raises ``DifyConfigError``.
        """
        loop = current_async_loop()
        if self._client is not None and self._loop is not None and loop is not self._loop:
            if not self._owns_client:
                raise DifyConfigError(
                    "The injected http_client was first used on another event loop (e.g. an "
                    "earlier asyncio.run); an httpx.AsyncClient cannot be shared across event "
                    "loops: create one per loop, or let the client build its own"
                )
            self._client = None  # bound to the old (closed) loop; its sockets are dropped
        if self._client is None:
            self._client = self._own_http()
        self._loop = loop
        return self._client

    async def _request(
        self,
        call: Call[Any],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
        stream: bool = False,
        max_retries: int | None = None,
        deadline: tuple[float | None, float | None] = (None, None),
    ) -> httpx.Response:
        """Send ``call`` with retries; return a 2xx response (streamed if asked).

        A streamed 2xx that is an HTML page or JSON, not an event stream, raises
        ``APIResponseValidationError``.

        ``deadline`` is ``(seconds, monotonic expiry)`` from ``_expires``: every phase
        timeout is shortened to the time left, and a retry whose wait would pass the
        expiry is not made (the last error is raised).
        """
        http = self._http()
        retries = self.max_retries if max_retries is None else max_retries
        sleep = self._sleep or _retry.async_sleep
        seconds, expires = deadline
        attempt = 0
        while True:
            request = self._build(http, call, timeout, extra_headers)
            cap_timeout(request, expires)
            self._log_request(call, attempt)
            try:
                async with async_deadline(expires):
                    response = await http.send(request, stream=stream)
            except TimeoutError as exc:  # the deadline (async only)
                if seconds is None:
                    raise self._connection_error(exc, call) from exc
                where = f"on {call.method} {self._shown_url}{call.path}"
                raise deadline_error(seconds, where, request) from exc
            except httpx.TransportError as exc:
                if attempt < retries and _retry.retryable_exception(
                    exc, idempotent=call.idempotent
                ):
                    delay = _retry.backoff_delay(attempt)
                    if _too_late(expires, delay):
                        raise self._connection_error(exc, call) from exc
                    await sleep(delay)
                    attempt += 1
                    continue
                raise self._connection_error(exc, call) from exc
            if response.is_success:
                if stream and not_a_stream(response):
                    raise self._not_a_stream(call, response, await _read_closed(response))
                return response
            body = await _read_closed(response)
            err = make_status_error(
                response.status_code, body, response=response, user=call.user, secret=self._secret
            )
            _log.debug("dify response %s %s -> %d", call.method, call.path, response.status_code)
            if attempt < retries and _retry.retryable_status(
                response.status_code, idempotent=call.idempotent, code=err.code
            ):
                delay = _retry.backoff_delay(attempt, _retry.parse_retry_after(response.headers))
                if _too_late(expires, delay):
                    raise needs_newer_dify(err, call.since, f"{call.method} {call.path}")
                await sleep(delay)
                attempt += 1
                continue
            raise needs_newer_dify(err, call.since, f"{call.method} {call.path}")

    async def _send(
        self,
        call: Call[T],
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
    ) -> T:
        """Send ``call`` and parse its answer with ``call.parse``.

        Whatever a malformed body makes the parser raise (deep nesting, a wrong type,
        a pydantic validation error) becomes ``APIResponseValidationError``. The total
        time is bounded by ``deadline`` (else the client's), retries included.
        """
        response = await self._request(
            call, timeout=timeout, extra_headers=extra_headers, deadline=self._expires(deadline)
        )
        try:
            return call.parse(response)
        except DifyError:
            raise
        except BAD_PAYLOAD as exc:
            raise invalid_payload(exc, response) from exc

    async def _stream(
        self,
        call: Call[Any],
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
        reconnect: bool | ReconnectPolicy | None = False,
    ) -> AsyncStream:
        """Open a streaming ``call``; HTTP errors before the first event raise here.

        ``deadline`` (else the client's) bounds the opening, its retries and the whole
        stream (a reconnection included): when it passes mid-stream, the read raises
        ``APITimeoutError`` with the partial answer and the Dify task is stopped.
        ``reconnect``: how a workflow/chatflow stream that drops resumes from the run's
        events (None: the client's ``reconnect``; False, the default: it does not).
        """
        limit = self._expires(deadline)
        resume = None
        policy = resolve_policy(reconnect, self._reconnect)
        if policy is not None:
            resume = AsyncResumer(
                self, policy, user=call.user, timeout=timeout, extra_headers=extra_headers
            )
            resume.deadline = limit
        response = await self._request(
            call, timeout=timeout, extra_headers=extra_headers, stream=True, deadline=limit
        )
        stop = None
        if call.stop is not None:
            stop = self._stopper(call.stop, call.user or "", extra_headers)
        return AsyncStream(
            response,
            user=call.user,
            stop=stop,
            secret=self._secret,
            max_event_size=self.max_event_size,
            deadline=limit,
            resume=resume,
        )

    def _stopper(
        self, stop_path: str, user: str, extra_headers: Mapping[str, str] | None
    ) -> AsyncStop:
        """The stop a stream calls when abandoned: one request, no retries, short timeouts.

        The stream bounds the total to ``STOP_TIMEOUT`` and swallows its failures.
        """

        async def stop(task_id: str) -> None:
            await self._request(
                stop_task(stop_path, task_id, user=user),
                timeout=STOP_HTTP_TIMEOUT,
                extra_headers=extra_headers,
                max_retries=0,
            )

        return stop

    async def aclose(self) -> None:
        """Close the HTTP client if this object built it (an injected one is left open)."""
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            if self._loop is None or self._loop is current_async_loop():
                await client.aclose()
            self._loop = None


def _too_late(expires: float | None, delay: float) -> bool:
    """Whether waiting ``delay`` seconds before a retry would pass the deadline."""
    left = remaining(expires)
    return left is not None and delay >= left


async def _read_closed(response: httpx.Response) -> bytes:
    """Read the body of a response we will not hand out (b"" if that fails), then close it."""
    try:
        return await response.aread()
    except httpx.HTTPError:
        return b""
    finally:
        await response.aclose()
