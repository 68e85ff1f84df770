"""Pre-rendered HTTP responses for the benchmark server.

Every response is rendered once per size (status line, headers and the whole
chunked body) so the server only has to ``write()`` bytes. Framing follows
Dify 1.x: one HTTP chunk per SSE frame, each frame
``data: {compact json}\\n\\n``, no ``[DONE]``; the OpenAI-compatible stream is
``data: {chat.completion.chunk}\\n\\n`` ... ``data: [DONE]\\n\\n``, also one chunk
per frame.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

CONVERSATION_ID = "e7d8d8da-32dc-4db5-8566-cb0d3df1ae15"
MESSAGE_ID = "bb162c58-ae9e-4622-87e6-6e15c3f9027e"
TASK_ID = "2b351ed3-b19d-41e3-b7d7-a13e232170d5"
CREATED_AT = 1795249079

# A realistic token mix: mostly short ASCII word pieces, some punctuation, a few
# multi-byte UTF-8 pieces (Dify 1.8.1+ sends non-ASCII raw, orjson style).
_WORDS = (
    "Dify",
    " is",
    " an",
    " open",
    "-source",
    " platform",
    " for",
    " building",
    " LLM",
    " applications",
    ".",
    " It",
    " offers",
    " chat",
    " apps",
    ",",
    " agents",
    " and",
    " work",
    "flows",
    " café",
    " 数据",
    "\n",
    " the",
)


def token(i: int) -> str:
    """The i-th streamed text piece (deterministic)."""
    return _WORDS[i % len(_WORDS)]


def _dumps(obj: Any) -> bytes:
    # Dify >= 1.8.1 serialises with orjson: compact separators, raw UTF-8.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _chunk(frame: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(frame), frame)


def _sse_head() -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: text/event-stream; charset=utf-8\r\n"
        b"Transfer-Encoding: chunked\r\n"
        b"Connection: keep-alive\r\n"
        b"Cache-Control: no-cache\r\n"
        b"X-Version: 1.12.0\r\n"
        b"\r\n"
    )


def json_response(obj: Any, status: str = "200 OK") -> bytes:
    body = _dumps(obj)
    return (
        b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        b"Connection: keep-alive\r\n\r\n%s" % (status.encode(), len(body), body)
    )


def _retriever_resources() -> list[dict[str, Any]]:
    return [
        {
            "position": 1,
            "dataset_id": "51b6263a-1dd2-46ab-9fb4-e57b0d627db8",
            "dataset_name": "realdify-kb",
            "document_id": "9ffd55e5-575c-423e-bbd0-ce13f217cc59",
            "document_name": "dify.txt",
            "data_source_type": "upload_file",
            "segment_id": "5858f810-8f3d-44a7-bc78-1651a523a3ce",
            "retriever_from": "api",
            "score": 0.17609043944151526,
            "hit_count": 3,
            "word_count": 34,
            "segment_position": 1,
            "index_node_hash": "3f6a5f0cba7e0e29a6b8e8b2a7c5d2f4",
            "content": (
                "Dify is an open-source platform for building LLM applications. It offers "
                "chat apps, agents, chatflows, workflows and knowledge bases, and exposes a "
                "Service API authenticated by app keys."
            ),
            "page": None,
            "doc_metadata": None,
        },
        {
            "position": 2,
            "dataset_id": "51b6263a-1dd2-46ab-9fb4-e57b0d627db8",
            "dataset_name": "realdify-kb",
            "document_id": "016ee94c-7614-4061-a142-48566a973f2f",
            "document_name": "sky.txt",
            "data_source_type": "upload_file",
            "segment_id": "dc25a06c-e0e2-4f3f-9e97-909f84780d54",
            "retriever_from": "api",
            "score": 0.16666652758915812,
            "hit_count": 1,
            "word_count": 27,
            "segment_position": 1,
            "index_node_hash": "9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
            "content": (
                "The sky is blue on a clear day because air molecules scatter blue sunlight "
                "more than red sunlight. At sunset the sky turns orange and red."
            ),
            "page": None,
            "doc_metadata": None,
        },
    ]


def dify_frames(n: int) -> list[bytes]:
    """The SSE frames (without chunk framing) of an n-delta Dify chat stream."""
    head = {
        "event": "message",
        "conversation_id": CONVERSATION_ID,
        "message_id": MESSAGE_ID,
        "created_at": CREATED_AT,
        "task_id": TASK_ID,
        "id": MESSAGE_ID,
    }
    frames = []
    for i in range(n):
        event = {**head, "answer": token(i), "from_variable_selector": None}
        frames.append(b"data: " + _dumps(event) + b"\n\n")
    end = {
        **head,
        "event": "message_end",
        "metadata": {
            "annotation_reply": None,
            "retriever_resources": _retriever_resources(),
            "usage": {
                "prompt_tokens": 129,
                "prompt_unit_price": "0.15",
                "prompt_price_unit": "0.000001",
                "prompt_price": "0.0000194",
                "completion_tokens": n,
                "completion_unit_price": "0.6",
                "completion_price_unit": "0.000001",
                "completion_price": f"{n * 0.0000006:.7f}",
                "total_tokens": 129 + n,
                "total_price": f"{0.0000194 + n * 0.0000006:.7f}",
                "currency": "USD",
                "latency": 1.2345,
                "time_to_first_token": 0.2345,
                "time_to_generate": 1.0,
            },
        },
        "files": None,
    }
    frames.append(b"data: " + _dumps(end) + b"\n\n")
    return frames


@lru_cache(maxsize=32)
def dify_stream_response(n: int) -> bytes:
    """Full HTTP/1.1 response: n ``message`` deltas then ``message_end``."""
    return _sse_head() + b"".join(_chunk(f) for f in dify_frames(n)) + b"0\r\n\r\n"


@lru_cache(maxsize=32)
def dify_stream_parts(n: int) -> tuple[bytes, ...]:
    """``dify_stream_response(n)`` cut into head + first frame, then one part per frame."""
    chunks = [_chunk(f) for f in dify_frames(n)]
    return (_sse_head() + chunks[0], *chunks[1:-1], chunks[-1] + b"0\r\n\r\n")


def openai_frames(
    n: int, *, include_usage: bool = False, model: str = "bench-model"
) -> list[bytes]:
    """The SSE frames of an n-token OpenAI ``chat.completion.chunk`` stream."""
    base = {
        "id": "chatcmpl-BENCH0123456789abcdefghijkl",
        "object": "chat.completion.chunk",
        "created": CREATED_AT,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": "fp_bench0001",
    }

    def frame(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        return b"data: " + _dumps({**base, "choices": choices, **extra}) + b"\n\n"

    def choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    frames = [frame([choice({"role": "assistant", "content": "", "refusal": None})])]
    frames.extend(frame([choice({"content": token(i)})]) for i in range(n))
    frames.append(frame([choice({}, "stop")]))
    if include_usage:
        usage = {
            "prompt_tokens": 12,
            "completion_tokens": n,
            "total_tokens": 12 + n,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        frames.append(frame([], usage=usage))
    frames.append(b"data: [DONE]\n\n")
    return frames


@lru_cache(maxsize=32)
def openai_stream_response(n: int, *, include_usage: bool = False) -> bytes:
    """Full HTTP/1.1 response for ``/v1/chat/completions`` with ``stream=true``."""
    frames = openai_frames(n, include_usage=include_usage)
    return _sse_head() + b"".join(_chunk(f) for f in frames) + b"0\r\n\r\n"


@lru_cache(maxsize=32)
def openai_blocking_response(n: int) -> bytes:
    text = "".join(token(i) for i in range(n))
    return json_response(
        {
            "id": "chatcmpl-BENCH0123456789abcdefghijkl",
            "object": "chat.completion",
            "created": CREATED_AT,
            "model": "bench-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": n, "total_tokens": 12 + n},
        }
    )


def expected_answer(n: int) -> str:
    return "".join(token(i) for i in range(n))
