"""Structured output's shared pieces: the answer-format block and reading JSON answers."""

from __future__ import annotations

import pickle

import pytest
from pydantic import BaseModel

from dify_transport import DifyConfigError, DifyError
from dify_transport.answers import answer_target, check_rating
from dify_transport.structured import (
    StructuredOutputError,
    check_required,
    extract_json,
    parse_model,
)
from dify_transport.turns import Turn, answer_format, plan_turn, strip_transcript

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}


class Thing(BaseModel):
    a: str


def test_the_block_goes_at_the_end_of_the_query_and_strips_back() -> None:
    block = answer_format(SCHEMA)
    plan = plan_turn([Turn("user", "Name a thing.", "Human")], answer_format=block)
    assert plan.query.startswith("Name a thing.\n\n## Answer format\n")
    assert plan.query.endswith(
        '{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}'
    )
    assert strip_transcript(plan.query) == "Name a thing."
    assert strip_transcript("no block here") == "no block here"
    assert "JSON Schema" not in answer_format(None)
    assert strip_transcript("Q" + answer_format(None)) == "Q"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": "x"}', {"a": "x"}),
        ('  ```json\n{"a": "x"}\n```  ', {"a": "x"}),
        ('Here you go: {"a": "x"} hope it helps', {"a": "x"}),
        ("[1, 2]", [1, 2]),
    ],
)
def test_extract_json_reads_what_models_send(text: str, value: object) -> None:
    assert extract_json(text) == value


def test_a_malformed_answer_raises_with_the_raw_text() -> None:
    raw = 'Sure! {"a": "x'
    with pytest.raises(StructuredOutputError) as info:
        extract_json(raw)
    err = info.value
    assert isinstance(err, DifyError)
    assert isinstance(err, ValueError)
    assert err.raw == raw
    assert "no JSON object found" in str(err)
    again = pickle.loads(pickle.dumps(err))
    assert (again.raw, again.reason) == (raw, err.reason)


def test_required_fields_and_pydantic_validation() -> None:
    assert check_required({"a": "x"}, SCHEMA, "raw") == {"a": "x"}
    with pytest.raises(StructuredOutputError, match="required field"):
        check_required({"b": 1}, SCHEMA, "raw")
    with pytest.raises(StructuredOutputError, match="expected a JSON object"):
        check_required([1], SCHEMA, "raw")
    assert parse_model(Thing, '{"a": "x"}') == Thing(a="x")
    with pytest.raises(StructuredOutputError, match="does not validate as Thing"):
        parse_model(Thing, '{"a": 1}')


def test_answer_target_user_order_and_missing_id() -> None:
    def target(call: str | None, recorded: str | None) -> str:
        return answer_target("m1", call_user=call, answer_user=recorded, default_user="d").user

    assert target("c", "r") == "c"
    assert target(None, "r") == "r"
    assert target(None, None) == "d"
    with pytest.raises(DifyConfigError, match="no Dify message_id"):
        answer_target(None, call_user=None, answer_user=None, default_user="d")
    assert check_rating(None) is None
    with pytest.raises(DifyConfigError, match="rating must be"):
        check_rating("love")
