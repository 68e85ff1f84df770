"""Structured output from a Dify answer: the JSON in it, checked against a JSON Schema.

A Dify chat app has no JSON mode: the adapters append :func:`dify_transport.turns.
answer_format` to the query and read the answer back here. Both frameworks raise
:class:`StructuredOutputError` (a `DifyError` and a ``ValueError``) with the raw
answer when it is not the JSON asked for; LangChain's twin is also an
``OutputParserException``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from dify_transport._errors import DifyError

__all__ = ["StructuredOutputError", "check_required", "extract_json", "parse_model"]

_M = TypeVar("_M", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_QUOTE = 200


class StructuredOutputError(DifyError, ValueError):
    """The app's answer is not the JSON that was asked for.

    Attributes:
        raw: The whole answer text as Dify sent it.
        reason: What is wrong with it (not JSON, a missing field, ...).
    """

    def __init__(self, reason: str, raw: str) -> None:
        self.raw = raw
        self.reason = reason
        shown = raw if len(raw) <= _QUOTE else raw[:_QUOTE] + "..."
        super().__init__(
            f"The Dify app's answer is not the JSON that was asked for: {reason}. "
            f"Answer: {shown!r}. Make sure the app's prompt does not override the answer "
            "format (the query ends with an 'Answer format' block), or use a model that "
            "follows JSON instructions."
        )


def extract_json(text: str) -> Any:
    """The JSON value in an answer: the whole text, a fenced block, or the first object.

    Raises:
        StructuredOutputError: No JSON value could be read.
    """
    stripped = text.strip()
    candidates = [stripped]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(stripped)]
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(stripped) if ch in "{["):
        try:
            value, _ = decoder.raw_decode(stripped, start)
        except ValueError:
            continue
        return value
    reason = "no JSON object found" if stripped else "the answer is empty"
    raise StructuredOutputError(reason, text)


def check_required(value: Any, schema: Mapping[str, Any], raw: str) -> dict[str, Any]:
    """``value`` if it is a JSON object holding the schema's required top-level fields.

    Raises:
        StructuredOutputError: Not an object, or a required field is missing.
    """
    if not isinstance(value, dict):
        raise StructuredOutputError(f"expected a JSON object, got {type(value).__name__}", raw)
    required = schema.get("required")
    missing = [k for k in required if k not in value] if isinstance(required, list) else []
    if missing:
        raise StructuredOutputError(f"required field(s) missing: {', '.join(missing)}", raw)
    return value


def parse_model(model: type[_M], text: str) -> _M:
    """The answer parsed and validated as the pydantic ``model``.

    Raises:
        StructuredOutputError: Not JSON, or it does not validate (the reason says why).
    """
    value = extract_json(text)
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        reason = f"it does not validate as {model.__name__}: {exc}"
        raise StructuredOutputError(reason, text) from exc
