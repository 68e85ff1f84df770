"""Realism: BM25 retrieval, question picking, JSON answers, token pacing, the CLI port."""

from __future__ import annotations

import itertools
import json
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from emu_helpers import Api, events

from dify_emulator import DEFAULT_PORT, start_emulator
from dify_emulator.__main__ import _parser
from dify_emulator._answers import question_of
from dify_emulator._schema import find_schema, instance

LC_RAG = (  # LangChain hub rlm/rag-prompt, filled in
    "You are an assistant for question-answering tasks. Use the following pieces of retrieved "
    "context to answer the question. If you don't know the answer, just say that you don't "
    "know.\nQuestion: Why is the sky blue? \nContext: The sky is blue because of scattering. "
    "\nAnswer:"
)
LI_QA = (  # LlamaIndex's default text_qa template, filled in
    "Context information is below.\n---------------------\nfile_path: tea.txt\n\n"
    "Green tea is brewed with water below boiling.\n---------------------\n"
    "Given the context information and not prior knowledge, answer the query.\n"
    "Query: How should green tea be brewed?\nAnswer: "
)
# LangChain's PydanticOutputParser format instructions (the example schema comes first).
LC_FORMAT = (
    "The output should be formatted as a JSON instance that conforms to the JSON schema below."
    '\n\nAs an example, for the schema {"properties": {"foo": {"title": "Foo", "description": '
    '"a list of strings", "type": "array", "items": {"type": "string"}}}, "required": ["foo"]}'
    '\nthe object {"foo": ["bar", "baz"]} is a well-formatted instance of the schema. The '
    'object {"properties": {"foo": ["bar", "baz"]}} is not well-formatted.\n\n'
    "Here is the output schema:\n```\n%s\n```"
)
SCHEMA: dict[str, Any] = {
    "$defs": {
        "Colour": {"enum": ["blue", "orange"], "title": "Colour", "type": "string"},
        "Source": {"properties": {"doc": {"type": "string"},
                                  "score": {"type": "number", "minimum": 0, "maximum": 1}},
                   "required": ["doc", "score"], "type": "object"},
    },
    "properties": {
        "answer": {"type": "string", "description": "the answer"},
        "colour": {"$ref": "#/$defs/Colour"},
        "sources": {"type": "array", "items": {"$ref": "#/$defs/Source"}, "minItems": 2},
        "confidence": {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}],
                       "default": None},
        "kind": {"const": "fact"},
        "count": {"type": "integer", "default": 3, "minimum": 1},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}},
        "when": {"type": "string", "format": "date-time"},
        "ok": {"type": ["boolean", "null"]},
    },
    "required": ["answer", "colour", "sources", "kind", "tags", "when", "ok"],
}  # fmt: skip


@pytest.mark.parametrize(("prompt", "question"), [
    ("Why is the sky blue?", "Why is the sky blue?"),
    (LC_RAG, "Why is the sky blue?"),
    (LI_QA, "How should green tea be brewed?"),
    ("Context:\nsome text\n\nQuestion:\nWhat is Dify?\n\nAnswer:", "What is Dify?"),
    ("system: Be brief.\nuser: What is LlamaIndex?", "What is LlamaIndex?"),
    ("first line\nTell me about tea\nHelpful Answer:", "Tell me about tea"),
    ("Answer:", ""),
])  # fmt: skip
def test_question_of(prompt: str, question: str) -> None:
    assert question_of(prompt) == question


def test_rag_prompts_get_real_answers(anyapi: Api) -> None:
    answer = anyapi.chat(LC_RAG).json()["answer"]
    assert answer == "From the context you gave me: The sky is blue because of scattering."
    body = anyapi.chat(LI_QA).json()
    assert body["answer"] == (
        "From the context you gave me: Green tea is brewed with water below boiling."
    )
    assert body["metadata"]["retriever_resources"][0]["document_name"] == "tea.txt"
    for prompt in (LC_RAG, LI_QA, "Answer:", "Question: \nAnswer:"):
        assert "You asked" not in anyapi.chat(prompt).json()["answer"]


def test_retrieval_ranks_by_relevance(anyapi: Api) -> None:
    for query, doc in (("Why is the sky blue?", "sky.txt"), ("What is LangChain?", "langchain.txt"),
                       ("How do server-sent events stay alive?", "sse.txt"),
                       ("brewing green tea", "tea.txt")):  # fmt: skip
        res = anyapi.chat(query).json()["metadata"]["retriever_resources"]
        assert res[0]["document_name"] == doc, query
        scores = [r["score"] for r in res]
        assert all(a > b > 0 for a, b in itertools.pairwise(scores))


def _validate(value: Any, schema: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(value, schema)


def test_json_schema_prompts_get_valid_json(anyapi: Api) -> None:
    prompt = "Why is the sky blue?\n\n" + LC_FORMAT % json.dumps(SCHEMA)
    answer = anyapi.chat(prompt).json()["answer"]
    value = json.loads(answer)
    _validate(value, SCHEMA)
    assert value["answer"].startswith("The sky is blue")
    assert value["colour"] == "blue"
    assert len(value["sources"]) == 2
    assert (value["count"], value["confidence"]) == (3, None)
    # LlamaIndex structured_predict: "Here's a JSON schema to follow:" with the schema inline,
    # also with template-escaped braces; streaming deltas join to the same JSON.
    li = f"Extract: What is Dify?\n\nHere's a JSON schema to follow:\n{json.dumps(SCHEMA)}\n\n" \
         "Output a valid JSON object but do not repeat the schema.\n"  # fmt: skip
    escaped = li.replace("{", "{{").replace("}", "}}")
    for app in ("chat", "chatflow", "completion"):
        for text in (li, escaped):
            if app == "completion":
                evs = anyapi.stream(app, "/completion-messages", {"inputs": {"query": text},
                                                                  "user": "u"})  # fmt: skip
            else:
                evs = anyapi.stream(app, "/chat-messages", {"inputs": {}, "query": text,
                                                            "user": "u"})  # fmt: skip
            answer = "".join(e["answer"] for e in evs if e["event"] in ("message", "message_file"))
            _validate(json.loads(answer), SCHEMA)


def test_schema_instance_edge_cases() -> None:
    cases: list[dict[str, Any]] = [
        {"type": "object", "properties": {"x": {"type": "integer", "exclusiveMinimum": 5,
                                                "multipleOf": 4}}},
        {"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 3, "maxItems": 3},
        {"allOf": [{"properties": {"a": {"type": "string", "minLength": 12}}},
                   {"properties": {"b": {"type": "number", "maximum": -2}}}]},
        {"oneOf": [{"type": "null"}, {"type": "string", "format": "email"}]},
        {"definitions": {"N": {"type": "object", "properties": {"next": {"$ref": "#"}}}},
         "$ref": "#/definitions/N"},
    ]  # fmt: skip
    for schema in cases:
        _validate(instance(schema), schema)
    assert find_schema("no schema here {not json}") is None
    assert find_schema('{"a": 1}') is None


def test_token_pacing_parameter() -> None:
    with start_emulator(delay_ms=60) as emu, httpx.Client(base_url=emu.base_url) as c:
        h = {"Authorization": f"Bearer {emu.keys.chat}"}
        body = {"inputs": {}, "query": "Why is the sky blue?", "user": "u",
                "response_mode": "streaming"}  # fmt: skip
        t0 = time.monotonic()
        with c.stream("POST", "/chat-messages", headers=h, json=body) as resp:
            raw = resp.read()
        elapsed = time.monotonic() - t0
        deltas = [e for e in events(raw) if e["event"] == "message" and e["answer"]]
        assert elapsed >= 0.06 * (len(deltas) - 1) * 0.9
        # A delay fault still wins over the default pacing.
        fast = {**h, "X-Emulator-Fault": "delay=0"}
        t0 = time.monotonic()
        assert c.post("/chat-messages", headers=fast, json=body).status_code == 200
        assert time.monotonic() - t0 < elapsed / 2
    assert _parser().parse_args([]).delay_ms == 30
    assert _parser().parse_args([]).port == DEFAULT_PORT == 5055


def test_cli_port_taken_is_one_line_and_non_zero() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "dify_emulator", "--port", str(port)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert proc.returncode != 0
    assert proc.stderr.strip() == (
        f"dify_emulator: cannot listen on 127.0.0.1:{port}: port already in use"
    )
    assert "Traceback" not in proc.stdout + proc.stderr
