"""In-process httpx transport (sync and async) that calls the emulator core directly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx

from dify_emulator._core import Core
from dify_emulator._http import Drop, Request, Response, Sleep, StreamBody

__all__ = ["EmulatorTransport"]

_DROPPED = "peer closed connection without sending complete message body (emulated drop)"


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, body: StreamBody) -> None:
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        for item in self._body:
            if isinstance(item, bytes):
                yield item
            elif isinstance(item, Sleep):
                time.sleep(item.seconds)
            elif isinstance(item, Drop):
                self._body.close()
                raise httpx.RemoteProtocolError(_DROPPED)

    def close(self) -> None:
        self._body.close()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, body: StreamBody) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        n = 0
        for item in self._body:
            if isinstance(item, bytes):
                yield item
                n += 1
                if n % 64 == 0:
                    await asyncio.sleep(0)
            elif isinstance(item, Sleep):
                await asyncio.sleep(item.seconds)
            elif isinstance(item, Drop):
                self._body.close()
                raise httpx.RemoteProtocolError(_DROPPED)

    async def aclose(self) -> None:
        self._body.close()


def _request(request: httpx.Request, body: bytes) -> Request:
    headers: dict[str, str] = {}
    for key, value in request.headers.multi_items():
        k = key.lower()
        headers[k] = f"{headers[k]}, {value}" if k in headers else value
    target = request.url.raw_path.decode("ascii")
    return Request(request.method, target, headers, body)


def _headers(resp: Response) -> list[tuple[str, str]]:
    headers = list(resp.headers)
    if resp.streaming:
        headers.append(("Transfer-Encoding", "chunked"))
    return headers


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serve httpx requests from the emulator core, in-process and without sockets.

    Streaming bodies are lazy: a client that stops reading stops the generation, and
    a stop call issued mid-stream takes effect at the next delta. ``Sleep`` markers
    sleep, ``Drop`` raises ``httpx.RemoteProtocolError`` from the body stream.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Sync httpx entry point."""
        resp = self._core.handle(_request(request, request.read()))
        if resp.pre_delay:
            time.sleep(resp.pre_delay)
        if isinstance(resp.body, bytes):
            return httpx.Response(resp.status, headers=resp.headers, content=resp.body)
        return httpx.Response(resp.status, headers=_headers(resp), stream=_SyncBody(resp.body))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Async httpx entry point."""
        resp = self._core.handle(_request(request, await request.aread()))
        if resp.pre_delay:
            await asyncio.sleep(resp.pre_delay)
        if isinstance(resp.body, bytes):
            return httpx.Response(resp.status, headers=resp.headers, content=resp.body)
        return httpx.Response(resp.status, headers=_headers(resp), stream=_AsyncBody(resp.body))
