"""Replay the exact socket bytes of the raw_* recordings through a loopback server.

The responses (status line, headers, chunked framing) are written to the socket as
recorded, split as the recording's ``recv()`` log says, so httpx/h11 de-chunk them.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from _tr_support import RECORDINGS

from dify_transport import CompletionRequestError, ConversationNotFoundError, DifyClient

pytestmark = pytest.mark.timeout(60)


@contextmanager
def replay_server(name: str) -> Iterator[str]:
    folder = RECORDINGS / name
    response = (folder / "response.bin").read_bytes()
    sizes = [size for _, size in json.loads((folder / "recv_log.json").read_text())["recv"]]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(rest) < length:
                rest += conn.recv(65536)
            offset = 0
            try:
                for size in sizes or [len(response)]:
                    conn.sendall(response[offset : offset + size])
                    offset += size
                conn.sendall(response[offset:])
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client may hang up after a terminal event, as it should

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        thread.join(timeout=5)
        listener.close()


def client(base_url: str) -> DifyClient:
    return DifyClient(api_key="app-raw", base_url=base_url, max_retries=0)


def frames_answer(name: str) -> str:
    data = (RECORDINGS / name / "response.bin").read_bytes()
    answer = ""
    for line in data.split(b"\n"):
        if line.startswith(b"data: {"):
            event = json.loads(line[6:])
            if event["event"] in ("message", "agent_message"):
                answer += event["answer"]
            elif event["event"] == "text_chunk":
                answer += event["data"]["text"]
    return answer


@pytest.mark.parametrize(
    "name", ["raw_chat_streaming", "raw_agent_streaming", "raw_chatflow_streaming"]
)
def test_raw_chat_family_streams(name):
    with replay_server(name) as url, client(url) as c:
        result = c.stream_chat("What is Dify?", user="realdify-raw").final()
    assert result.answer == frames_answer(name)
    assert result.conversation_id
    assert result.task_id
    assert result.usage is not None


def test_raw_workflow_stream():
    with replay_server("raw_workflow_streaming") as url, client(url) as c:
        result = c.stream_workflow(user="realdify-raw", inputs={"text": "x"}).final()
    assert result.answer == frames_answer("raw_workflow_streaming")
    assert result.status == "succeeded"


def test_raw_chat_blocking():
    with replay_server("raw_chat_blocking") as url, client(url) as c:
        result = c.chat("What is Dify?", user="realdify-raw")
    assert result.answer
    assert result.message_id


def test_raw_404_and_in_stream_error():
    with replay_server("raw_error_unknown_conversation") as url, client(url) as c:
        with pytest.raises(ConversationNotFoundError) as info:
            c.stream_chat("x", user="realdify-raw", conversation_id="c")
    assert "realdify-raw" in str(info.value)
    with replay_server("raw_llm_failure_streaming") as url, client(url) as c:
        with pytest.raises(CompletionRequestError) as info2:
            c.stream_chat("x", user="realdify-raw").final()
    assert info2.value.in_stream
