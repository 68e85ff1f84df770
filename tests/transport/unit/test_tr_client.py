"""Client configuration, request shapes, error mapping and the public surface."""

from __future__ import annotations

import io
import json
import mimetypes
from typing import Any

import httpx
import pytest
from _tr_support import KEY, USER, Server, aclient, client, json_response

import dify_transport
from dify_transport import (
    APIResponseValidationError,
    AsyncDifyClient,
    AsyncDifyKnowledgeClient,
    BadRequestError,
    ConversationNotFoundError,
    CursorNotFoundError,
    DifyClient,
    DifyConfigError,
    DifyKnowledgeClient,
    InternalServerError,
    InvalidParamError,
    MessageNotFoundError,
    NotFoundError,
    TooManyRequestsError,
    make_status_error,
)
from dify_transport._constants import DEFAULT_BASE_URL


def test_public_names():
    for name in dify_transport.__all__:
        assert hasattr(dify_transport, name), name
    assert len(set(dify_transport.__all__)) == len(dify_transport.__all__)


def test_transport_never_imports_frameworks():
    import sys

    assert not any(m.startswith(("langchain", "llama_index")) for m in dify_transport.__dict__)
    src = " ".join(
        p.read_text()
        for p in __import__("pathlib").Path(dify_transport.__file__).parent.glob("*.py")
    )
    assert "import langchain" not in src
    assert "import llama_index" not in src
    assert "dify_transport" in sys.modules


def test_missing_key_is_config_error(monkeypatch):
    with pytest.raises(DifyConfigError, match="DIFY_API_KEY"):
        DifyClient()
    with pytest.raises(ValueError, match="DIFY_DATASET_API_KEY"):
        DifyKnowledgeClient()
    monkeypatch.setenv("DIFY_API_KEY", "app-from-env")
    monkeypatch.setenv("DIFY_BASE_URL", "http://env.test/v1/")
    c = DifyClient()
    assert c.base_url == "http://env.test/v1"
    assert c._secret == "app-from-env"
    monkeypatch.setenv("DIFY_DATASET_API_KEY", "dataset-env")
    assert DifyKnowledgeClient()._secret == "dataset-env"


def test_defaults_and_no_io_in_constructor():
    c = DifyClient(api_key=KEY)
    assert c.base_url == DEFAULT_BASE_URL
    # Built at construction (the first call pays no setup), without opening a connection.
    assert c._client is not None
    assert c.max_connections == 1000
    assert all(not s._pool.connections for s in c._client._transport._shards)
    assert c.timeout.connect == 5.0
    assert c.timeout.read == 60.0
    assert c.max_retries == 2
    a = AsyncDifyClient(api_key=KEY, timeout=120)
    assert a._client is not None
    assert a._loop is None
    assert a.timeout.read == 120.0
    assert a.timeout.connect == 5.0
    with pytest.raises(DifyConfigError):
        DifyClient(api_key=KEY, http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(DifyConfigError):
        DifyClient(api_key=KEY, max_retries=-1)


def test_injected_client_not_closed_and_own_client_closed():
    http = httpx.Client(transport=httpx.MockTransport(lambda r: json_response(200, {})))
    with DifyClient(api_key=KEY, http_client=http) as c:
        c.get_meta()
    assert not http.is_closed
    own = DifyClient(api_key=KEY)
    own._http()
    built = own._client
    own.close()
    assert built is not None
    assert built.is_closed


def test_per_call_timeout_and_headers():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(200, {})

    c = client(handler, timeout=httpx.Timeout(30, connect=2))
    c.get_info(timeout=7.5, extra_headers={"X-Emulator-Fault": "chunk=1"})
    c.get_info()
    first, second = (r.extensions["timeout"] for r in seen)
    assert first == {"connect": 5.0, "read": 7.5, "write": 7.5, "pool": 7.5}
    assert second["connect"] == 2.0
    assert second["read"] == 30.0
    assert seen[0].headers["x-emulator-fault"] == "chunk=1"
    assert seen[0].headers["authorization"] == f"Bearer {KEY}"


def test_request_shapes():
    s = Server()
    s.routes[("POST", "/chat-messages")] = json_response(200, {"answer": "a", "id": "m"})
    s.routes[("POST", "/completion-messages")] = json_response(200, {"answer": "a", "id": "m"})
    s.routes[("POST", "/workflows/*")] = json_response(200, {"data": {"status": "succeeded"}})
    s.routes[("POST", "/messages/*")] = json_response(200, {"result": "success"})
    s.routes[("POST", "/conversations/*")] = json_response(200, {"id": "c", "name": "n"})
    s.routes[("GET", "/messages/*")] = json_response(200, {"result": "success", "data": ["q?"]})
    c = client(s)
    files = [{"type": "image", "transfer_method": "remote_url", "url": "http://x/i.png"}]
    c.chat("hi", user=USER, conversation_id="c1", inputs={"a": 1}, files=files, workflow_id="w")
    c.chat("hi", user=USER, conversation_id="", auto_generate_name=False)
    c.completion(user=USER, inputs={"x": 1}, query="q")
    c.run_workflow(user=USER, inputs={}, workflow_id="wf 1")
    c.send_feedback("m/1", user=USER, rating=None)
    c.rename_conversation("c1", user=USER, auto_generate=True)
    assert c.get_suggested_questions("m1", user=USER) == ["q?"]
    bodies = [x.body for x in s.seen]
    assert bodies[0] == {
        "inputs": {"a": 1},
        "query": "hi",
        "user": USER,
        "response_mode": "blocking",
        "conversation_id": "c1",
        "files": files,
        "workflow_id": "w",
    }
    assert "conversation_id" not in bodies[1]
    assert bodies[1]["auto_generate_name"] is False
    assert bodies[2] == {
        "inputs": {"x": 1, "query": "q"},
        "user": USER,
        "response_mode": "blocking",
    }
    assert s.seen[3].raw_path == "/v1/workflows/wf%201/run"
    assert s.seen[4].raw_path == "/v1/messages/m%2F1/feedbacks"
    assert bodies[4] == {"rating": None, "user": USER}
    assert bodies[5] == {"user": USER, "auto_generate": True}
    assert s.seen[6].params == {"user": USER}


def test_upload_and_audio_multipart(tmp_path):
    s = Server()
    s.routes[("POST", "/files/upload")] = json_response(201, {"id": "f1", "name": "a.png"})
    s.routes[("POST", "/audio-to-text")] = json_response(200, {"text": "hello"})
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return s(request)

    c = client(handler)
    path = tmp_path / "a.png"
    path.write_bytes(b"\x89PNG")
    assert c.upload_file(path, user=USER).id == "f1"
    assert c.upload_file(io.BytesIO(b"x"), user=USER, filename="n.txt").id == "f1"
    assert c.audio_to_text(b"ID3", user=USER, filename="speech.mp3") == "hello"
    bodies = [r.content for r in seen]
    assert b'filename="a.png"' in bodies[0]
    assert b"Content-Type: image/png" in bodies[0]
    assert b'name="user"' in bodies[0]
    assert b"Content-Type: text/plain" in bodies[1]
    assert b"Content-Type: audio/mp3" in bodies[2]  # not audio/mpeg (docs/wire-traps.md T23)


@pytest.mark.parametrize(
    ("mime_type", "filename", "expected"),
    [
        ("audio/mpeg", "a.bin", "audio/mp3"),
        ("audio/x-wav", None, "audio/wav"),
        ("audio/wave", None, "audio/wav"),
        ("audio/vnd.wave", None, "audio/wav"),
        ("audio/mp4", None, "audio/m4a"),
        ("audio/x-m4a", None, "audio/m4a"),
        ("Audio/MPEG; charset=binary", None, "audio/mp3"),
        ("audio/webm", "a.webm", "audio/webm"),  # unknown to Dify: passed through
        (None, "take.wav", "audio/wav"),
        (None, "memo.M4A", "audio/m4a"),
        (None, "voice.amr", "audio/amr"),
        (None, "clip.webm", mimetypes.guess_type("clip.webm")[0]),  # guessed, passed through
        (None, None, "audio/mp3"),
    ],
)
def test_audio_to_text_declares_a_mime_type_dify_accepts(mime_type, filename, expected):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"text": "ok"})

    c = client(handler)
    assert c.audio_to_text(b"RIFF", user=USER, filename=filename, mime_type=mime_type) == "ok"
    assert f"Content-Type: {expected}\r\n".encode() in seen[0].content


def test_text_to_audio_bytes_and_null():
    s = Server()
    s.routes[("POST", "/text-to-audio")] = [
        httpx.Response(200, content=b"ID3audio", headers={"content-type": "audio/mpeg"}),
        httpx.Response(200, content=b"null", headers={"content-type": "application/json"}),
    ]
    c = client(s)
    assert c.text_to_audio(user=USER, text="hi") == b"ID3audio"
    with pytest.raises(APIResponseValidationError):
        c.text_to_audio(user=USER, message_id="nope")


@pytest.mark.parametrize(
    "response",
    [
        json_response(200, {"id": None, "status": None, "inputs": None, "outputs": None}),
        json_response(
            404, {"code": "not_found", "message": "Workflow run not found.", "status": 404}
        ),
    ],
    ids=["1.12-all-null-200", "newer-404"],
)
def test_unknown_workflow_run_is_not_found_on_every_version(response):
    s = Server()
    s.routes[("GET", "/workflows/run/*")] = response
    with pytest.raises(NotFoundError):
        client(s).get_workflow_run("r1")


def test_workflow_run_1x_shape():
    body = {
        "id": "r1",
        "status": "succeeded",
        "inputs": '{"text": "x"}',
        "outputs": {"result": "y"},
        "created_at": 1760000000,
        "finished_at": "1760000001",
    }
    s = Server()
    s.routes[("GET", "/workflows/run/r1")] = json_response(200, body)
    run = client(s).get_workflow_run("r1")
    assert run.inputs == {"text": "x"}
    assert run.outputs == {"result": "y"}
    assert (run.created_at, run.finished_at) == (1760000000, 1760000001)


def test_models_keep_unknown_fields():
    s = Server()
    s.routes[("GET", "/info")] = json_response(200, {"name": "n", "brand_new": {"x": 1}})
    info = client(s).get_info()
    assert info.model_extra == {"brand_new": {"x": 1}}


def test_non_json_success_body_is_validation_error():
    s = Server()
    s.routes[("GET", "/meta")] = httpx.Response(200, text="<html>proxy page</html>")
    with pytest.raises(APIResponseValidationError):
        client(s).get_meta()


def test_knowledge_retrieve_bodies():
    s = Server()
    s.routes[("POST", "/datasets/*")] = json_response(
        200, {"query": {"content": "q"}, "records": []}
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return s(request)

    kc = DifyKnowledgeClient(
        api_key="dataset-k", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    kc.retrieve("d1", "q")
    kc.retrieve("d1", "q", top_k=3, score_threshold=0.5)
    kc.retrieve("d1", "q", retrieval_model={"search_method": "hybrid_search"})
    # No GET /datasets route here (404): the options fall back to Dify's defaults.
    bodies = [json.loads(r.content) for r in seen if r.method == "POST"]
    assert bodies[0] == {"query": "q"}
    assert bodies[1]["retrieval_model"] == {
        "search_method": "semantic_search",
        "reranking_enable": False,
        "score_threshold_enabled": True,
        "score_threshold": 0.5,
        "top_k": 3,
    }
    assert bodies[2]["retrieval_model"] == {"search_method": "hybrid_search"}
    assert seen[0].headers["authorization"] == "Bearer dataset-k"


async def test_async_knowledge_and_app_misc():
    s = Server()
    s.routes[("POST", "/datasets/d1/retrieve")] = json_response(
        200, {"records": [{"segment": {"id": "s", "content": "c"}, "score": 0.9}]}
    )
    kc = AsyncDifyKnowledgeClient(
        api_key="dataset-k", http_client=httpx.AsyncClient(transport=httpx.MockTransport(s))
    )
    hits = await kc.retrieve("d1", "q")
    assert hits.records[0].score == 0.9
    await kc.aclose()
    s.routes[("GET", "/parameters")] = json_response(200, {"opening_statement": "hi"})
    async with aclient(s) as c:
        assert (await c.get_parameters()).opening_statement == "hi"


# -- error mapping ---------------------------------------------------------------------


def test_three_error_envelopes_and_html():
    e1 = make_status_error(400, b'{"status": 400, "code": "invalid_param", "message": "m"}')
    assert type(e1) is InvalidParamError
    e2 = make_status_error(400, b'{"code":"invalid_param","message":"bad","params":"query"}')
    assert type(e2) is InvalidParamError
    assert "query" in str(e2)
    e3 = make_status_error(
        400, b'{"errors": {"query": "Missing"}, "message": "Input payload validation failed"}'
    )
    assert type(e3) is InvalidParamError
    assert e3.code == "invalid_param"
    assert "query: Missing" in str(e3)
    e4 = make_status_error(404, b"<!doctype html><title>404 Not Found</title>")
    assert type(e4) is NotFoundError
    assert e4.code is None
    assert "base_url" in str(e4)
    e5 = make_status_error(400, b'{"code": "weird_new_code", "message": ""}')
    assert type(e5) is BadRequestError
    e6 = make_status_error(503, b"")
    assert type(e6) is InternalServerError
    e7 = make_status_error(429, b'{"code": "too_many_requests", "message": "x", "status": 429}')
    assert type(e7) is TooManyRequestsError  # a RateLimitError (issue 11: 429 is two things)
    assert e7.retry_after is None
    e8 = make_status_error(
        404,
        b'{"code": "not_found", "message": "Conversation Not Exists. You have requested this URI '
        b'[/v1/chat-messages] but did you mean /v1/chat-messages ?", "status": 404}',
        user="bob",
    )
    assert "user='bob'" in str(e8)
    assert e8.partial_answer is None
    assert e8.in_stream is False


_DID_YOU_MEAN = (
    " You have requested this URI [/v1/conversations] but did you mean /v1/conversations ?"
)


@pytest.mark.parametrize("suffix", ["", _DID_YOU_MEAN])
@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("Conversation Not Exists.", ConversationNotFoundError),
        ("Message Not Exists.", MessageNotFoundError),
        ("Last Conversation Not Exists.", CursorNotFoundError),
        ("First Message Not Exists.", CursorNotFoundError),
        ("Conversation Variable Not Exists.", NotFoundError),
        ("Workflow not found with id: w1", NotFoundError),
    ],
)
def test_404_classified_by_message_prefix(message, cls, suffix):
    body = json.dumps({"code": "not_found", "message": message + suffix, "status": 404})
    err = make_status_error(404, body.encode(), user="bob")
    assert type(err) is cls
    if cls is CursorNotFoundError:
        assert "paging cursor" in str(err)
        assert "user='bob'" not in str(err)  # not the misleading `user` hint
    elif cls is NotFoundError:
        assert "user='bob'" not in str(err)
    else:
        assert "user='bob'" in str(err)


def test_unknown_last_id_raises_cursor_not_found():
    def handler(request: httpx.Request) -> httpx.Response:
        message = "Last Conversation Not Exists." + _DID_YOU_MEAN
        return httpx.Response(404, json={"code": "not_found", "message": message, "status": 404})

    with pytest.raises(CursorNotFoundError) as info:
        client(handler).get_conversations(user=USER, last_id="nope")
    assert isinstance(info.value, NotFoundError)
    assert not isinstance(info.value, ConversationNotFoundError)
    assert "last_id" in str(info.value)


def _timeouts_seen() -> tuple[list[dict[str, float | None]], Any]:
    seen: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.extensions["timeout"]))
        if request.url.path.endswith("/workflows/run"):
            body = {"task_id": "t", "workflow_run_id": "w", "data": {"id": "w", "status": "x"}}
            return httpx.Response(200, json=body)
        if request.url.path.endswith("/parameters"):
            return httpx.Response(200, json={})
        return httpx.Response(200, json={"answer": "a", "message_id": "m", "task_id": "t"})

    return seen, handler


def test_blocking_generation_gets_a_long_read_timeout_by_default():
    seen, handler = _timeouts_seen()
    c = client(handler)
    c.chat("q", user=USER)
    c.completion(user=USER, query="q")
    c.run_workflow(user=USER, inputs={})
    c.get_parameters()  # not generation: the usual 60 s
    assert [t["read"] for t in seen] == [300.0, 300.0, 300.0, 60.0]
    assert all(t["connect"] == 5.0 for t in seen)


def test_blocking_timeout_overridden_per_call_and_by_explicit_client_timeout():
    seen, handler = _timeouts_seen()
    client(handler).chat("q", user=USER, timeout=12)
    client(handler, timeout=30).chat("q", user=USER)
    client(handler, timeout=httpx.Timeout(45.0)).run_workflow(user=USER, inputs={})
    assert [t["read"] for t in seen] == [12.0, 30.0, 45.0]


async def test_async_blocking_generation_gets_a_long_read_timeout():
    seen, handler = _timeouts_seen()
    async with aclient(handler) as c:
        await c.chat("q", user=USER)
        await c.completion(user=USER, query="q")
        await c.run_workflow(user=USER, inputs={})
        await c.chat("q", user=USER, timeout=7)
    async with aclient(handler, timeout=20) as c:
        await c.chat("q", user=USER)
    assert [t["read"] for t in seen] == [300.0, 300.0, 300.0, 7.0, 20.0]
