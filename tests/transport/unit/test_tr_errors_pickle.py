"""Every transport error survives pickle (process pools, pytest-xdist) and copy.copy."""

from __future__ import annotations

import copy
import inspect
import pickle
from typing import Any

import httpx
import pytest
from _tr_support import CID, KEY, MID, TID, USER, Server, client, json_response, sse, sse_response

import dify_transport
from dify_transport import (
    APIConnectionError,
    APIError,
    APIStatusError,
    CompletionRequestError,
    ConversationNotFoundError,
    DifyConfigError,
    DifyError,
    RateLimitError,
    WorkflowFailedError,
)

URL = "http://dify.test/v1/chat-messages?user=u1"
ERROR_CLASSES = sorted(
    (
        obj
        for name in dify_transport.__all__
        if inspect.isclass(obj := getattr(dify_transport, name)) and issubclass(obj, BaseException)
    ),
    key=lambda c: c.__name__,
)


def _request() -> httpx.Request:
    return httpx.Request("POST", URL, headers={"Authorization": f"Bearer {KEY}"})


def build(cls: type[BaseException]) -> BaseException:
    """One instance of ``cls`` holding live httpx objects wherever it can."""
    body = {"code": "x_code", "message": "bad thing", "status": 429}
    if issubclass(cls, APIStatusError):
        response = httpx.Response(429, headers={"Retry-After": "7"}, json=body, request=_request())
        return cls("Dify said no", response=response, status_code=429, body=body, code="x_code")
    if issubclass(cls, WorkflowFailedError):
        return cls("run failed", workflow_run_id="run-1", outputs={"a": 1}, request=_request())
    if issubclass(cls, APIError):
        err = cls("went wrong", request=_request(), body="text body", code="c")
        err._attach(partial_answer="Hal", conversation_id=CID, message_id=MID, task_id=TID)
        return err
    return cls("configure DIFY_API_KEY")


def plain_state(err: BaseException) -> dict[str, Any]:
    """Attributes that must survive as they are (httpx objects and their strings aside)."""
    skip = ("request", "response", "_request_method", "_request_url")
    return {k: v for k, v in vars(err).items() if k not in skip}


def assert_same(copied: BaseException, err: BaseException) -> None:
    assert type(copied) is type(err)
    assert str(copied) == str(err)
    assert copied.args == err.args
    for base in type(err).__mro__:
        assert isinstance(copied, base)
    assert plain_state(copied) == plain_state(err)


def test_every_exported_error_class_is_covered():
    names = {c.__name__ for c in ERROR_CLASSES}
    assert {"DifyError", "DifyConfigError", "APIError", "RateLimitError"} <= names
    assert len(ERROR_CLASSES) == 47  # 28 + 13 (issue 11) + 5 (issue 12) + PoolTimeoutError


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_pickle_round_trip(cls: type[BaseException]) -> None:
    err = build(cls)
    data = pickle.dumps(err)
    assert KEY.encode() not in data
    back = pickle.loads(data)
    assert_same(back, err)
    if isinstance(err, APIError):
        assert back.request is None
        assert back.request_method == err.request_method == "POST"
        assert back.request_url == err.request_url == URL
        assert back.code == err.code
        assert back.body == err.body
        assert back.in_stream is err.in_stream
        assert back.partial_answer == err.partial_answer
        # a second hop keeps what the first one kept
        assert_same(pickle.loads(pickle.dumps(back)), back)
        assert pickle.loads(pickle.dumps(back)).request_url == URL
    if isinstance(err, APIStatusError):
        assert back.response is None
        assert back.status_code == 429
    if isinstance(err, RateLimitError):
        assert back.retry_after == err.retry_after == 7.0
    if isinstance(err, WorkflowFailedError):
        assert (back.workflow_run_id, back.outputs) == ("run-1", {"a": 1})
    if isinstance(err, DifyConfigError):
        assert isinstance(back, ValueError)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_copy_keeps_everything_including_httpx_objects(cls: type[BaseException]) -> None:
    err = build(cls)
    shallow = copy.copy(err)
    assert shallow is not err
    assert_same(shallow, err)
    for name in ("request", "response"):
        if hasattr(err, name):
            assert getattr(shallow, name) is getattr(err, name)
    deep = copy.deepcopy(err)  # goes through __reduce__: httpx objects dropped
    assert_same(deep, err)


def test_in_stream_error_with_partial_answer_round_trips():
    events = [
        {"event": "message", "conversation_id": CID, "message_id": MID, "task_id": TID,
         "id": MID, "answer": "Partial text", "created_at": 1},
        {"event": "error", "conversation_id": CID, "message_id": MID, "task_id": TID,
         "status": 400, "code": "completion_request_error", "message": "provider down"},
    ]  # fmt: skip
    server = Server()
    server.routes[("POST", "/chat-messages")] = lambda _r: sse_response([sse(events)])
    with pytest.raises(CompletionRequestError) as info:
        client(server).stream_chat("q", user=USER).final()
    err = info.value
    assert isinstance(err.response, httpx.Response)
    data = pickle.dumps(err)
    assert KEY.encode() not in data
    back = pickle.loads(data)
    assert_same(back, err)
    assert back.in_stream is True
    assert back.partial_answer == "Partial text"
    assert (back.conversation_id, back.message_id, back.task_id) == (CID, MID, TID)
    assert (back.status_code, back.code) == (400, "completion_request_error")
    assert back.response is None
    assert back.request_method == "POST"
    assert back.request_url == "http://dify.test/v1/chat-messages"


def test_mapped_http_error_round_trips_without_the_key():
    server = Server()
    server.routes[("GET", "/messages")] = json_response(
        404, {"code": "not_found", "message": "Conversation Not Exists.", "status": 404}
    )
    with pytest.raises(ConversationNotFoundError) as info:
        client(server).get_messages("c1", user=USER)
    back = pickle.loads(pickle.dumps(info.value))
    assert_same(back, info.value)
    assert USER in str(back)
    assert KEY not in str(back)
    assert KEY not in repr(vars(back))


class _ForeignBaseError(Exception):
    """Stands in for an adapter's second parent (e.g. langchain-core's error classes)."""

    def __init__(self, *args: object, hint: str = "") -> None:
        super().__init__(*args)
        self.hint = hint


class DualRateLimitError(RateLimitError, _ForeignBaseError):
    """Defined outside dify_transport, like langchain_dify.DifyRateLimitError."""


class DualConnectionError(APIConnectionError, _ForeignBaseError):
    pass


@pytest.mark.parametrize("cls", [DualRateLimitError, DualConnectionError])
def test_subclasses_from_other_packages_round_trip(cls: type[APIError]) -> None:
    base = build(cls.__mro__[1])
    err = cls.__new__(cls)  # how the adapters re-type an error: no __init__ call
    err.args = base.args
    err.__dict__.update(vars(base), hint="h")
    back = pickle.loads(pickle.dumps(err))
    assert_same(back, err)
    assert isinstance(back, _ForeignBaseError)
    assert back.hint == "h"
    assert back.request_url == URL
    assert_same(copy.copy(err), err)


def test_base_dify_error_subclass_without_init():
    class LocalError(DifyError):
        pass

    err = DifyError("plain")
    assert_same(pickle.loads(pickle.dumps(err)), err)
    assert_same(copy.copy(LocalError("x")), LocalError("x"))
