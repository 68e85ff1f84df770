"""Process-isolated HTTP/1.1 server for the benchmarks (127.0.0.1 only).

Run as a subprocess (``python benchmarks/_server.py``); it binds port 0, prints
``PORT <n>`` on stdout and serves until killed. The parent uses ``serve()``.

Routes (keep-alive, pre-rendered bytes from ``_payloads``):

* ``POST /v1/chat-messages`` -> Dify chat SSE stream with n deltas
* ``POST /v1/chat-messages/{task_id}/stop`` -> ``{"result":"success"}``
* ``POST /v1/chat/completions`` -> OpenAI ``chat.completion.chunk`` stream (n tokens)
* ``GET /_bench/stats`` -> request counts per route (to prove peers hit this server)
* ``POST /_bench/release`` -> let every held stream continue (see below)

The size n comes from ``?n=``, the ``X-Bench-N`` header, or the first ``n=<digits>``
in the request body (e.g. the Dify ``query`` or the OpenAI user message ``"n=5000"``).
A body containing ``hold=1`` (or ``X-Bench-Hold: 1``) gets its headers and first frame,
then the rest only after ``/_bench/release`` (or 60 s): streams held open mid-stream.
A Dify chat body containing ``pace=<ms>`` gets one frame every ``ms`` milliseconds
(realistic pacing; one shared ticker writes every paced stream's next frame).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _payloads

DEFAULT_N = 100
_N_IN_BODY = re.compile(rb"\bn=(\d+)")
_STOP = re.compile(r"^/v1/(chat-messages|completion-messages|workflows/tasks)/[^/]+/stop$")
_HOLD_IN_BODY = re.compile(rb"\bhold=1")
_PACE_IN_BODY = re.compile(rb"\bpace=(\d+)")
_PACED: dict[int, list[tuple[asyncio.StreamWriter, list[bytes], asyncio.Future[None]]]] = {}
_STATS: Counter[str] = Counter()
_RELEASE: list[asyncio.Event] = []
_NOT_FOUND = _payloads.json_response(
    {"code": "not_found", "message": "no such route", "status": 404}, "404 Not Found"
)
_STOP_OK = _payloads.json_response({"result": "success"})


def _size(query: str, headers: dict[bytes, bytes], body: bytes) -> int:
    if query:
        values = parse_qs(query).get("n")
        if values:
            return int(values[0])
    if b"x-bench-n" in headers:
        return int(headers[b"x-bench-n"])
    m = _N_IN_BODY.search(body)
    return int(m.group(1)) if m else DEFAULT_N


def _split_first_frame(response: bytes) -> int:
    """Offset just past the first HTTP chunk of a pre-rendered chunked response."""
    start = response.index(b"\r\n\r\n") + 4
    eol = response.index(b"\r\n", start)
    return eol + 2 + int(response[start:eol], 16) + 2


def _route(method: bytes, target: bytes, headers: dict[bytes, bytes], body: bytes) -> bytes:
    parts = urlsplit(target.decode("latin-1"))
    path = parts.path
    if method == b"POST" and path == "/v1/chat-messages":
        _STATS["chat-messages"] += 1
        return _payloads.dify_stream_response(_size(parts.query, headers, body))
    if method == b"POST" and path == "/v1/chat/completions":
        _STATS["chat/completions"] += 1
        n = _size(parts.query, headers, body)
        if re.search(rb'"stream"\s*:\s*true', body):
            usage = re.search(rb'"include_usage"\s*:\s*true', body) is not None
            return _payloads.openai_stream_response(n, include_usage=usage)
        return _payloads.openai_blocking_response(n)
    if method == b"POST" and _STOP.match(path):
        _STATS["stop"] += 1
        return _STOP_OK
    if method == b"GET" and path == "/_bench/stats":
        return _payloads.json_response(dict(_STATS))
    if method == b"POST" and path == "/_bench/release":
        _RELEASE[0].set()
        _RELEASE[0] = asyncio.Event()
        return _payloads.json_response({"result": "success"})
    if method == b"POST" and path == "/_bench/reset":
        _STATS.clear()
        return _payloads.json_response({"result": "success"})
    _STATS["404"] += 1
    return _NOT_FOUND


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            method, target, _version = line.rstrip(b"\r\n").split(b" ", 2)
            headers: dict[bytes, bytes] = {}
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.partition(b":")
                headers[k.strip().lower()] = v.strip()
            length = int(headers.get(b"content-length", b"0"))
            body = await reader.readexactly(length) if length else b""
            paced = _PACE_IN_BODY.search(body)
            if paced and method == b"POST" and target.startswith(b"/v1/chat-messages"):
                _STATS["chat-messages"] += 1
                parts = _payloads.dify_stream_parts(_size("", headers, body))
                if not await _paced(writer, list(parts), int(paced.group(1))):
                    break
                continue
            response = _route(method, target, headers, body)
            if headers.get(b"x-bench-hold") == b"1" or _HOLD_IN_BODY.search(body):
                cut = _split_first_frame(response)
                writer.write(response[:cut])
                await writer.drain()
                release = _RELEASE[0]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(release.wait(), 60)
                if writer.transport.is_closing():
                    break
                response = response[cut:]
            writer.write(response)
            await writer.drain()
            if headers.get(b"connection", b"").lower() == b"close":
                break
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def _paced(writer: asyncio.StreamWriter, parts: list[bytes], ms: int) -> bool:
    """Write ``parts`` one per tick of the ``ms`` ticker; False when the client left."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    writer.write(parts.pop(0))
    if ms not in _PACED:
        _PACED[ms] = []
        asyncio.get_running_loop().create_task(_ticker(ms))
    _PACED[ms].append((writer, parts, done))
    await done
    await writer.drain()
    return not writer.transport.is_closing()


async def _ticker(ms: int) -> None:
    """Every ``ms`` milliseconds, each paced stream gets its next frame."""
    loop = asyncio.get_running_loop()
    next_tick = loop.time()
    while True:
        next_tick += ms / 1000
        await asyncio.sleep(max(next_tick - loop.time(), 0))
        streams, _PACED[ms] = _PACED[ms], []
        for writer, parts, done in streams:
            if writer.transport.is_closing():
                done.set_result(None)
                continue
            writer.write(parts.pop(0))
            if parts:
                _PACED[ms].append((writer, parts, done))
            else:
                done.set_result(None)


async def _main() -> None:
    _RELEASE.append(asyncio.Event())
    server = await asyncio.start_server(_handle, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    # Pre-render the common sizes before announcing the port.
    for n in (200, 5000, 20000):
        _payloads.dify_stream_response(n)
        _payloads.openai_stream_response(n, include_usage=False)
        _payloads.openai_stream_response(n, include_usage=True)
    print(f"PORT {port}", flush=True)
    async with server:
        await server.serve_forever()


@dataclass
class ServerHandle:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def stats(self) -> dict[str, int]:
        return json.loads(self._get("/_bench/stats"))

    def release(self) -> None:
        self._get("/_bench/release", "POST")

    def _get(self, path: str, method: str = "GET") -> bytes:
        import socket

        request = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(f"{request}Connection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return data.split(b"\r\n\r\n", 1)[1]


def isolate_env() -> None:
    """Nothing leaves 127.0.0.1: drop proxies, pin NO_PROXY, no provider env."""
    for name in list(os.environ):
        if name.lower() in {"http_proxy", "https_proxy", "all_proxy"} or name.startswith(
            ("OPENAI_", "DIFY_")
        ):
            del os.environ[name]
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


@contextlib.contextmanager
def serve() -> Iterator[ServerHandle]:
    """Start the server in its own process; yield its handle; stop it on exit."""
    isolate_env()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve())],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        yield ServerHandle(int(line.split()[1]), proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
