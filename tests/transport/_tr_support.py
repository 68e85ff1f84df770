"""Helpers for transport tests: SSE builders, per-mode event scripts, mock servers, recordings."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11
import httpx

from dify_transport import AsyncDifyClient, DifyClient

KEY = "app-SuperSecretKey-0123456789"
USER = "tester-1"
RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"

CID = "c0000000-0000-4000-8000-000000000001"
MID = "m0000000-0000-4000-8000-000000000002"
TID = "t0000000-0000-4000-8000-000000000003"
RUN = "r0000000-0000-4000-8000-000000000004"

USAGE = {
    "prompt_tokens": 12,
    "prompt_unit_price": "0.001",
    "prompt_price_unit": "0.001",
    "prompt_price": "0.0000120",
    "completion_tokens": 7,
    "completion_unit_price": "0.002",
    "completion_price_unit": "0.001",
    "completion_price": "0.0000140",
    "total_tokens": 19,
    "total_price": "0.0000260",
    "currency": "USD",
    "latency": 0.42,
}
RESOURCES = [
    {
        "position": 1,
        "dataset_id": "d1",
        "dataset_name": "kb",
        "document_id": "doc1",
        "document_name": "sky.txt",
        "data_source_type": "upload_file",
        "segment_id": "s1",
        "retriever_from": "api",
        "score": 0.87,
        "content": "The sky is blue.",
    }
]


# -- SSE bytes -------------------------------------------------------------------------


def frame(event: dict[str, Any], *, compact: bool = True, ascii_only: bool = False) -> bytes:
    """One Dify data frame (1.x compact UTF-8, or 0.15 spaced ASCII)."""
    if compact:
        text = json.dumps(event, separators=(",", ":"), ensure_ascii=ascii_only)
    else:
        text = json.dumps(event)
    return b"data: " + text.encode() + b"\n\n"


PING = b"event: ping\n\n"


def sse(
    events: Sequence[dict[str, Any]],
    *,
    pings: Sequence[int] = (),
    compact: bool = True,
    crlf: bool = False,
) -> bytes:
    """Serialize events; ``pings`` lists indexes before which a ping frame goes."""
    out = bytearray()
    ping_at = list(pings)
    for i, event in enumerate(events):
        out += PING * ping_at.count(i)
        out += frame(event, compact=compact, ascii_only=not compact)
    out += PING * ping_at.count(len(events))
    data = bytes(out)
    return data.replace(b"\n", b"\r\n") if crlf else data


def split(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """Split ``data`` at the given offsets (any order, duplicates ignored)."""
    points = sorted({c for c in cuts if 0 < c < len(data)})
    pieces, start = [], 0
    for p in points:
        pieces.append(data[start:p])
        start = p
    pieces.append(data[start:])
    return pieces


# -- event scripts per app mode --------------------------------------------------------


@dataclass
class Script:
    """A mode's stream events and blocking body, with the expected aggregate."""

    mode: str
    events: list[dict[str, Any]]
    blocking: dict[str, Any]
    answer: str
    conversation_id: str | None
    message_id: str | None
    task_id: str
    usage: dict[str, Any] | None = None
    resources: list[dict[str, Any]] = field(default_factory=list)
    stop_path: str = "/chat-messages/{}/stop"


def _chat_env(extra: dict[str, Any], *, conversation: bool = True) -> dict[str, Any]:
    env: dict[str, Any] = {"event": extra.pop("event")}
    if conversation:
        env["conversation_id"] = CID
    env.update({"message_id": MID, "created_at": 1760000000, "task_id": TID})
    env.update(extra)
    return env


def _metadata() -> dict[str, Any]:
    return {"annotation_reply": None, "retriever_resources": RESOURCES, "usage": USAGE}


def chat_script(parts: Sequence[str], mode: str = "chat") -> Script:
    """chat / completion / agent-chat / advanced-chat / workflow scripts."""
    answer = "".join(parts)
    conv = mode != "completion"
    if mode == "workflow":
        events: list[dict[str, Any]] = [
            {
                "event": "workflow_started",
                "workflow_run_id": RUN,
                "task_id": TID,
                "data": {"id": RUN, "workflow_id": "w1", "inputs": {}, "created_at": 1},
            }
        ]
        events += [
            {
                "event": "text_chunk",
                "workflow_run_id": RUN,
                "task_id": TID,
                "data": {"text": p, "from_variable_selector": ["n", "text"]},
            }
            for p in parts
        ]
        events.append(
            {
                "event": "workflow_finished",
                "workflow_run_id": RUN,
                "task_id": TID,
                "data": {
                    "id": RUN,
                    "workflow_id": "w1",
                    "status": "succeeded",
                    "outputs": {"text": answer},
                    "error": None,
                    "elapsed_time": 0.1,
                    "total_tokens": 19,
                    "total_steps": 3,
                    "created_at": 1,
                    "finished_at": 2,
                },
            }
        )
        blocking = {
            "task_id": TID,
            "workflow_run_id": RUN,
            "data": events[-1]["data"],
        }
        return Script(
            mode,
            events,
            blocking,
            answer,
            None,
            None,
            TID,
            {"total_tokens": 19},
            [],
            "/workflows/tasks/{}/stop",
        )
    delta = "agent_message" if mode == "agent-chat" else "message"
    events = []
    if mode == "advanced-chat":
        events.append(
            _chat_env(
                {
                    "event": "workflow_started",
                    "workflow_run_id": RUN,
                    "data": {"id": RUN, "workflow_id": "w1", "created_at": 1},
                }
            )
        )
    if mode == "agent-chat":
        events.append(
            _chat_env({"event": "agent_thought", "id": "th1", "position": 1, "thought": ""})
        )
    for p in parts:
        extra: dict[str, Any] = {"event": delta, "id": MID, "answer": p}
        if delta == "message":
            extra["from_variable_selector"] = None
        events.append(_chat_env(extra, conversation=conv))
    if mode == "agent-chat":
        events.append(
            _chat_env({"event": "agent_thought", "id": "th1", "position": 1, "thought": answer})
        )
    end = _chat_env(
        {"event": "message_end", "id": MID, "metadata": _metadata(), "files": None},
        conversation=conv,
    )
    if mode == "advanced-chat":
        finished = _chat_env(
            {
                "event": "workflow_finished",
                "workflow_run_id": RUN,
                "data": {"id": RUN, "status": "succeeded", "outputs": {"answer": answer}},
            }
        )
        events += [finished, end]
    else:
        events.append(end)
    blocking = {
        "event": "message",
        "task_id": TID,
        "id": MID,
        "message_id": MID,
        "mode": mode,
        "answer": answer,
        "metadata": _metadata(),
        "created_at": 1760000000,
    }
    if conv:
        blocking["conversation_id"] = CID
    stop = "/completion-messages/{}/stop" if mode == "completion" else "/chat-messages/{}/stop"
    return Script(
        mode,
        events,
        blocking,
        answer,
        CID if conv else None,
        MID,
        TID,
        USAGE,
        RESOURCES,
        stop,
    )


MODES = ("chat", "agent-chat", "advanced-chat", "completion", "workflow")


# -- mock transport plumbing -----------------------------------------------------------


class ChunkStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body delivered exactly in the given chunks; optionally dropped at the end."""

    def __init__(self, chunks: Sequence[bytes], *, drop: bool = False) -> None:
        self.chunks = list(chunks)
        self.drop = drop
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.drop:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete body")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.drop:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete body")

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}


def sse_response(chunks: Sequence[bytes], *, drop: bool = False) -> httpx.Response:
    return httpx.Response(200, headers=SSE_HEADERS, stream=ChunkStream(chunks, drop=drop))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class Seen:
    """A request the mock server received."""

    method: str
    path: str
    params: dict[str, str]
    body: Any
    headers: httpx.Headers
    raw_path: str = ""


class Server:
    """Route table + request log for ``httpx.MockTransport``.

    ``routes`` maps ``(METHOD, path)`` to a response, a list of responses (served in
    order, the last repeated), or a callable ``(request) -> response``.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Any] = {}
        self.seen: list[Seen] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        try:
            body: Any = json.loads(content) if content else None
        except ValueError:
            body = content
        self.seen.append(
            Seen(
                request.method,
                request.url.path,
                dict(request.url.params),
                body,
                request.headers,
                request.url.raw_path.decode(),
            )
        )
        path = request.url.path.removeprefix("/v1")
        route = self.routes.get((request.method, path))
        if route is None:
            for (method, pattern), value in self.routes.items():
                wild = pattern.endswith("*") and path.startswith(pattern[:-1])
                if method == request.method and wild:
                    route = value
                    break
        if route is None:
            return httpx.Response(404, text="<html><title>404 Not Found</title></html>")
        if callable(route):
            result: httpx.Response = route(request)
            return result
        if isinstance(route, list):
            return route.pop(0) if len(route) > 1 else route[0]
        response: httpx.Response = route
        return response

    def calls(self, method: str, path_part: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and path_part in s.path]


def client(server: Callable[[httpx.Request], httpx.Response], **kw: Any) -> DifyClient:
    http = httpx.Client(transport=httpx.MockTransport(server))
    return DifyClient(api_key=KEY, base_url="http://dify.test/v1", http_client=http, **kw)


def aclient(server: Callable[[httpx.Request], httpx.Response], **kw: Any) -> AsyncDifyClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    return AsyncDifyClient(api_key=KEY, base_url="http://dify.test/v1", http_client=http, **kw)


# -- recordings ------------------------------------------------------------------------


@dataclass
class Recording:
    """One recorded exchange (body already de-chunked, or the raw chunks for raw_*)."""

    name: str
    request: dict[str, Any]
    status: int
    headers: list[tuple[str, str]]
    chunks: list[bytes]

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def response(self) -> httpx.Response:
        return httpx.Response(self.status, headers=self.headers, stream=ChunkStream(self.chunks))


_HOP = {"transfer-encoding", "content-length", "connection"}


def load_recording(name: str) -> Recording:
    folder = RECORDINGS / name
    if (folder / "response.bin").exists():
        return _load_raw(folder)
    request = json.loads((folder / "request.json").read_text())
    lines = (folder / "response_headers.txt").read_bytes().decode("latin-1").split("\r\n")
    blocks = [i for i, line in enumerate(lines) if line.startswith("HTTP/")]
    lines = lines[blocks[-1] :]  # skip any "100 Continue" block
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        if ": " in line:
            k, v = line.split(": ", 1)
            if k.lower() not in _HOP:
                headers.append((k, v))
    body = (folder / "body.bin").read_bytes() if (folder / "body.bin").exists() else b""
    return Recording(name, request, status, headers, [body])


def _load_raw(folder: Path) -> Recording:
    """Parse exact socket bytes with h11, keeping one body piece per HTTP chunk."""
    log = json.loads((folder / "recv_log.json").read_text())
    request = {"method": log["method"], "path": log["path"], "body": log.get("body"), "query": {}}
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method=log["method"], target=log["path"], headers=[("Host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data((folder / "response.bin").read_bytes())
    conn.receive_data(b"")
    status, headers, chunks = 0, [], []
    while True:
        event = conn.next_event()
        if isinstance(event, h11.Response):
            status = event.status_code
            headers = [
                (k.decode(), v.decode()) for k, v in event.headers if k.decode().lower() not in _HOP
            ]
        elif isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)) or event is h11.NEED_DATA:
            break
    return Recording(folder.name, request, status, headers, chunks)


def recording_names() -> list[str]:
    return sorted(p.name for p in RECORDINGS.iterdir() if p.is_dir() and not p.name.startswith("_"))
