"""The socket front-end: asyncio + h11 HTTP/1.1 on 127.0.0.1 (keep-alive, chunked SSE)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from email.utils import formatdate
from typing import Final

import h11

from dify_emulator._core import Core
from dify_emulator._http import Request, Response, Sleep

__all__ = ["Server", "ThreadedServer"]

_READ_SIZE: Final = 65536
_BATCH: Final = 64
IDLE_TIMEOUT: Final = 30.0
"""Seconds a connection may stay silent (between or inside requests) before it is closed."""


class _TooLargeError(Exception):
    """The request body exceeds the core's limit."""


class Server:
    """Serve the core over HTTP/1.1 on an asyncio event loop."""

    def __init__(
        self,
        core: Core,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.core = core
        self.host = host
        self.port = port
        self.idle_timeout = idle_timeout
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Bind and start accepting connections."""
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, backlog=4096, limit=_READ_SIZE
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop accepting and abort every open connection."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                try:
                    req = await self._read(conn, reader)
                except _TooLargeError:
                    await self._send(conn, writer, self._closing(self.core.too_large()))
                    break
                except TimeoutError:
                    break
                if req is None:
                    break
                resp = self.core.handle(req)
                if not await self._send(conn, writer, resp, reader):
                    return
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            if not writer.transport.is_closing():
                writer.close()

    async def _read(self, conn: h11.Connection, reader: asyncio.StreamReader) -> Request | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await asyncio.wait_for(reader.read(_READ_SIZE), self.idle_timeout)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                head = event
                length = dict(event.headers).get(b"content-length", b"0")
                if length.isdigit() and int(length) > self.core.max_body:
                    raise _TooLargeError
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.core.max_body:
                    raise _TooLargeError
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in head.headers}
                return Request(
                    head.method.decode("ascii"), head.target.decode("latin-1"), headers,
                    bytes(body),
                )  # fmt: skip
            else:  # ConnectionClosed / PAUSED
                return None

    @staticmethod
    def _closing(resp: Response) -> Response:
        resp.headers.append(("Connection", "close"))
        return resp

    @staticmethod
    async def _flush(writer: asyncio.StreamWriter, batch: list[bytes]) -> bool:
        """Write and clear ``batch``; False when the peer is gone."""
        if batch:
            writer.write(b"".join(batch))
            batch.clear()
            await writer.drain()
        return not writer.transport.is_closing()

    async def _send(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        resp: Response,
        reader: asyncio.StreamReader | None = None,
    ) -> bool:
        """Write one response; False when the connection was dropped or lost.

        A stream stops being generated as soon as the client hung up (checked before
        each next item), as Dify's does: a run stopped after its client left is never
        recorded as ``stopped`` (it stays ``running``), because that record is written
        with the ``workflow_finished`` event the client is no longer there to read.
        """
        try:
            if resp.pre_delay:
                await asyncio.sleep(resp.pre_delay)
            headers = [*resp.headers, ("Date", formatdate(usegmt=True))]
            reason = self.core.wire.reason(resp.status)
            body = resp.body
            if isinstance(body, bytes):
                if resp.status != 204:
                    headers.append(("Content-Length", str(len(body))))
                out = conn.send(h11.Response(status_code=resp.status, headers=headers,
                                             reason=reason))  # fmt: skip
                out = (out or b"") + (conn.send(h11.Data(data=body)) or b"") if body else out
                writer.write((out or b"") + (conn.send(h11.EndOfMessage()) or b""))
                await writer.drain()
                return True
            headers.append(("Transfer-Encoding", "chunked"))
            head = conn.send(h11.Response(status_code=resp.status, headers=headers,
                                          reason=reason)) or b""  # fmt: skip
            # One HTTP chunk per item; items produced back to back share one write
            # (headers go out with the first frame, as in Dify).
            batch: list[bytes] = [head]
            frames = 0
            for item in body:
                if reader is not None and reader.at_eof():
                    return False  # the client hung up: stop generating
                if isinstance(item, bytes):
                    if item:
                        batch.append(b"%x\r\n%b\r\n" % (len(item), item))
                        frames += 1
                        if frames % _BATCH == 0:
                            if not await self._flush(writer, batch):
                                return False
                            await asyncio.sleep(0)
                    continue
                if frames and len(batch) > 0 and not await self._flush(writer, batch):
                    return False
                if isinstance(item, Sleep):
                    await asyncio.sleep(item.seconds)
                else:
                    writer.transport.abort()
                    return False
            batch.append(conn.send(h11.EndOfMessage()) or b"")
            return await self._flush(writer, batch)
        finally:
            resp.close()


class ThreadedServer:
    """A :class:`Server` running its own event loop in a daemon thread."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dify-emulator", daemon=True)

    @property
    def port(self) -> int:
        """The bound port."""
        return self.server.port

    def start(self) -> None:
        """Start the thread and wait until the socket is bound."""
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as exc:  # noqa: BLE001 - re-raised in start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self.server.close())
            pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    def stop(self) -> None:
        """Stop the loop and join the thread."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
