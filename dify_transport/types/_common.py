"""The base of every response model and the wire-parsing helpers its validators share."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime

from pydantic import BaseModel, ConfigDict

__all__ = [
    "DifyModel",
]


def _to_timestamp(value: object) -> object:
    """Accept int seconds, numeric strings and RFC-822 dates (0.15 run detail)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(float(text))
        except ValueError:
            pass
        try:
            return int(parsedate_to_datetime(text).timestamp())
        except (TypeError, ValueError):
            return value
    if isinstance(value, float):
        return int(value)
    return value


def _from_json_text(value: object) -> object:
    """Decode a JSON-encoded string (1.12 run detail ``inputs``/``outputs``)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class DifyModel(BaseModel):
    """Base of every response model: unknown fields are kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
