"""Error re-typing and the stream-chunk builders (pure)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.outputs import ChatGenerationChunk

import dify_transport as dt
import langchain_dify as ld
from langchain_dify._errors import as_langchain_error, translate_errors
from langchain_dify._messages import final_chunk
from langchain_dify._results import aggregate_chunks as _aggregate


@pytest.mark.parametrize(
    ("status", "body", "dual", "lc_base", "transport_cls"),
    [
        (400, {"code": "invalid_param", "message": "bad"}, ld.DifyBadRequestError,
         ModelInvalidRequestError, dt.BadRequestError),
        (401, {"code": "unauthorized", "message": "no"}, ld.DifyAuthenticationError,
         ModelAuthenticationError, dt.AuthenticationError),
        (404, {"code": "not_found", "message": "Conversation Not Exists."},
         ld.DifyNotFoundError, ModelNotFoundError, dt.ConversationNotFoundError),
        (429, {"code": "too_many_requests", "message": "slow down"}, ld.DifyRateLimitError,
         ModelRateLimitError, dt.RateLimitError),
        (503, {"code": "unknown", "message": "down"}, ld.DifyInternalServerError,
         ModelAPIError, dt.InternalServerError),
    ],
)  # fmt: skip
def test_status_errors_get_both_parents(
    status: int, body: dict[str, Any], dual: type, lc_base: type, transport_cls: type
) -> None:
    original = dt.make_status_error(status, body, user="alice")
    with pytest.raises(dual) as info, translate_errors():
        raise original
    err = info.value
    assert isinstance(err, transport_cls)
    assert isinstance(err, lc_base)
    assert err.__cause__ is original
    assert err.code == original.code
    assert err.status_code == status  # type: ignore[attr-defined]
    assert str(err) == str(original)


def test_specific_transport_subclasses_are_kept() -> None:
    err = as_langchain_error(
        dt.make_status_error(404, {"code": "not_found", "message": "Conversation Not Exists."})
    )
    assert isinstance(err, dt.ConversationNotFoundError)
    assert isinstance(err, ld.DifyNotFoundError)
    assert type(err).__name__ == "ConversationNotFoundError"
    # The derived class is cached: one class per transport class.
    again = as_langchain_error(
        dt.make_status_error(404, {"code": "not_found", "message": "Conversation Not Exists."})
    )
    assert type(again) is type(err)


def test_connection_and_timeout_errors() -> None:
    conn = as_langchain_error(dt.APIConnectionError("dropped", partial_answer="half"))
    assert isinstance(conn, ld.DifyAPIConnectionError)
    assert isinstance(conn, ModelConnectionError)
    assert conn.partial_answer == "half"
    timeout = as_langchain_error(dt.APITimeoutError("slow"))
    assert isinstance(timeout, ModelTimeoutError)
    assert isinstance(timeout, ld.DifyAPIConnectionError)
    assert type(timeout).is_retryable


def test_config_errors_pass_through() -> None:
    with pytest.raises(dt.DifyConfigError), translate_errors():
        raise dt.DifyConfigError("no key")


def test_already_translated_errors_are_untouched() -> None:
    err = ld.DifyRateLimitError.__new__(ld.DifyRateLimitError)
    assert as_langchain_error(err) is err


def test_translated_error_pickles_like_the_original() -> None:
    err = as_langchain_error(dt.APIConnectionError("dropped"))
    assert pickle.loads(pickle.dumps(err)).args == err.args


def _all_api_errors() -> list[type[dt.APIError]]:
    found: list[type[dt.APIError]] = []
    stack: list[type[dt.APIError]] = [dt.APIError]
    while stack:
        cls = stack.pop()
        if cls.__module__.startswith("dify_transport"):
            found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("transport_cls", _all_api_errors(), ids=lambda c: c.__name__)
def test_every_langchain_error_is_importable_and_pickles(transport_cls: type[dt.APIError]) -> None:
    import importlib

    original = transport_cls.__new__(transport_cls)
    dt.APIError.__init__(
        original, "it failed", code="some_code", partial_answer="half", conversation_id="c1"
    )
    err = as_langchain_error(original)
    cls = type(err)
    assert isinstance(err, transport_cls)
    assert isinstance(err, ModelError)
    assert cls.__module__ == "langchain_dify._errors"
    assert getattr(importlib.import_module(cls.__module__), cls.__qualname__) is cls
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is cls
    assert again.args == err.args
    assert (again.code, again.partial_answer, again.conversation_id) == ("some_code", "half", "c1")


def test_a_raised_error_pickles_with_its_details() -> None:
    with pytest.raises(dt.ConversationNotFoundError) as info, translate_errors():
        raise dt.make_status_error(
            404, {"code": "not_found", "message": "Conversation Not Exists."}, user="alice"
        )
    again = pickle.loads(pickle.dumps(info.value))
    assert isinstance(again, ld.DifyNotFoundError)
    assert isinstance(again, dt.ConversationNotFoundError)
    assert str(again) == str(info.value)
    assert again.status_code == 404  # type: ignore[attr-defined]


def _result(**extra: Any) -> dt.Result:
    return dt.Result.model_validate(
        {
            "answer": "raw answer",
            "conversation_id": "c1",
            "message_id": "m1",
            "task_id": "t1",
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12,
                      "total_price": "0.0010330", "currency": "USD", "latency": 0.5},
            "metadata": {"usage": {"prompt_tokens": 5, "total_price": "0.0010330"},
                         "retriever_resources": [{"position": 1, "segment_id": "s1"}]},
            "finish_reason": "stop",
            **extra,
        }
    )  # fmt: skip


def test_final_chunk_carries_every_string_once() -> None:
    chunk = final_chunk("label", result=_result())
    message = chunk.message
    assert message.chunk_position == "last"  # type: ignore[attr-defined]
    assert message.usage_metadata == {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12}  # type: ignore[attr-defined]
    meta = message.response_metadata
    assert meta["model_name"] == "label"
    assert meta["model_provider"] == "dify"
    assert (meta["conversation_id"], meta["message_id"], meta["task_id"]) == ("c1", "m1", "t1")
    assert meta["retriever_resources"] == [{"position": 1, "segment_id": "s1"}]
    assert meta["usage"]["total_price"] == "0.0010330"
    assert meta["finish_reason"] == "stop"
    assert "agent_thoughts" not in meta


def test_invoke_returns_the_moderation_replacement() -> None:
    from langchain_core.messages import AIMessageChunk

    text = ChatGenerationChunk(message=AIMessageChunk(content="raw answer", id="m1"))
    last = final_chunk("label", result=_result(message_replace="[removed]"))
    result = _aggregate([text, last])
    message = result.generations[0].message
    assert message.content == "[removed]"
    assert message.response_metadata["message_replace"] == "[removed]"
    assert message.response_metadata["model_name"] == "label"
    assert message.id == "m1"
