"""JSON Schema in a prompt: find it and build an instance that validates against it.

Covers what LangChain's format instructions / ``with_structured_output`` prompts and
LlamaIndex's ``structured_predict`` prompts embed: objects, arrays, ``$defs``/``$ref``
(and ``definitions``), ``enum``/``const``, ``anyOf``/``oneOf``/``allOf``, ``default``,
type lists, string formats and numeric bounds. ``pattern`` is not honoured.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

__all__ = ["find_schema", "instance"]

_MAX_SCAN: Final = 200_000
_MAX_DEPTH: Final = 16
_OPTIONAL_DEPTH: Final = 4
_SCHEMA_KEYS: Final = frozenset({"properties", "$defs", "definitions", "anyOf", "oneOf",
                                 "allOf", "$schema", "$ref"})  # fmt: skip
_TYPES: Final = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})
_ANSWER_NAMES: Final = ("answer", "response", "summary", "explanation", "reason", "text",
                        "content", "description", "output", "result", "message")  # fmt: skip
_FORMATS: Final = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "hostname": "example.com",
}


def _looks_like_schema(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    props = obj.get("properties")
    if isinstance(props, dict):
        return all(isinstance(v, dict | bool) for v in props.values())
    if obj.keys() & (_SCHEMA_KEYS - {"properties"}):
        return True
    return obj.get("type") in _TYPES and bool(obj.keys() & {"items", "enum", "required"})


def find_schema(text: str) -> dict[str, Any] | None:
    """The last top-level JSON object in ``text`` that looks like a JSON Schema.

    Template-escaped braces (``{{ ... }}``, as an unformatted LlamaIndex prompt has them)
    are read as single braces first.
    """
    if "{" not in text or ('"properties"' not in text and '"type"' not in text):
        return None
    found = _scan(text.replace("{{", "{").replace("}}", "}")) if "{{" in text else None
    return found if found is not None else _scan(text)


def _scan(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    pos = text.find("{")
    while 0 <= pos < min(len(text), _MAX_SCAN):
        try:
            obj, end = decoder.raw_decode(text, pos)
        except ValueError:
            pos = text.find("{", pos + 1)
            continue
        if _looks_like_schema(obj):
            found = obj
        pos = text.find("{", end)
    return found


def _resolve(root: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for raw in ref.lstrip("#").strip("/").split("/"):
        if not raw:
            continue
        part = raw.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return node


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key == "properties" and isinstance(out.get(key), dict):
                out[key] = {**out[key], **value}
            elif key == "required" and isinstance(out.get(key), list):
                out[key] = [*out[key], *value]
            else:
                out[key] = value
    return out


def _string(schema: dict[str, Any], name: str, hints: dict[str, str]) -> str:
    lowered = name.lower()
    if schema.get("format") in _FORMATS:
        value = _FORMATS[str(schema["format"])]
    elif "question" in lowered or "query" in lowered:
        value = hints.get("question", "")
    elif any(word in lowered for word in _ANSWER_NAMES):
        value = hints.get("answer", "")
    else:
        value = f"example {name}".strip() if name else "example"
    value = value or "example"
    lo = int(schema.get("minLength", 0) or 0)
    hi = schema.get("maxLength")
    if len(value) < lo:
        value = value + "x" * (lo - len(value))
    if isinstance(hi, int) and len(value) > hi:
        value = value[:hi]
    return value


def _number(schema: dict[str, Any], *, integer: bool) -> int | float:
    lo = schema.get("minimum")
    hi = schema.get("maximum")
    xlo = schema.get("exclusiveMinimum")
    xhi = schema.get("exclusiveMaximum")
    step = 1 if integer else 0.5
    low = -math.inf
    if isinstance(lo, int | float):
        low = lo
    if isinstance(xlo, int | float) and not isinstance(xlo, bool):
        low = max(low, xlo + step)
    high = math.inf
    if isinstance(hi, int | float):
        high = hi
    if isinstance(xhi, int | float) and not isinstance(xhi, bool):
        high = min(high, xhi - step)
    value: float = 1.0
    value = max(value, low)
    if value > high:
        value = high if math.isfinite(high) else low
    mult = schema.get("multipleOf")
    if isinstance(mult, int | float) and mult > 0:
        value = math.ceil(value / mult) * mult
    return math.ceil(value) if integer else float(value)


def instance(
    schema: Any,
    *,
    hints: dict[str, str] | None = None,
    root: dict[str, Any] | None = None,
    name: str = "",
    depth: int = 0,
) -> Any:
    """A value that validates against ``schema`` (defaults and first choices preferred)."""
    hints = hints or {}
    if not isinstance(schema, dict):
        return None
    root = root if root is not None else schema
    if depth > _MAX_DEPTH:
        return None

    def sub(s: Any, n: str = name) -> Any:
        return instance(s, hints=hints, root=root, name=n, depth=depth + 1)

    if "$ref" in schema:
        target = _resolve(root, str(schema["$ref"]))
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return sub(_merge([target, rest]) if isinstance(target, dict) else rest)
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if isinstance(schema.get("allOf"), list):
        parts = [_resolve(root, p["$ref"]) if isinstance(p, dict) and "$ref" in p else p
                 for p in schema["allOf"]]  # fmt: skip
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return sub(_merge([p for p in parts if isinstance(p, dict)] + [rest]))
    for key in ("anyOf", "oneOf"):
        choices = schema.get(key)
        if isinstance(choices, list) and choices:
            real = [c for c in choices if not (isinstance(c, dict) and c.get("type") == "null")]
            rest = {k: v for k, v in schema.items() if k != key}
            return sub(_merge([rest, real[0]]) if real and isinstance(real[0], dict) else rest)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        props = schema.get("properties") or {}
        required = schema.get("required") or []
        # Optional properties too, except deep down (recursive models end there).
        out = {key: sub(value, key) for key, value in props.items()
               if key in required or depth < _OPTIONAL_DEPTH}  # fmt: skip
        for key in required:
            if key not in out:
                out[key] = sub(schema.get("additionalProperties") or {}, key)
        return out
    if kind == "array":
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            return [sub(p) for p in prefix]
        count = max(1, int(schema.get("minItems", 0) or 0))
        top = schema.get("maxItems")
        if isinstance(top, int):
            count = min(count, top)
        values = [sub(items if isinstance(items, dict) else {}, name) for _ in range(count)]
        if schema.get("uniqueItems") and count > 1:
            values = [v if i == 0 else f"{v} {i + 1}" for i, v in enumerate(values)]
        return values
    if kind == "string":
        return _string(schema, name, hints)
    if kind in ("integer", "number"):
        return _number(schema, integer=kind == "integer")
    if kind == "boolean":
        return True
    return None
