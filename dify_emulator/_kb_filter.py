"""``metadata_filtering_conditions`` of a retrieve: validation and matching (Dify's rules)."""

from __future__ import annotations

from typing import Any, Final

from dify_emulator._wire import ApiError

__all__ = ["OPERATORS", "check_filter", "matches"]

OPERATORS: Final = frozenset({
    "contains", "not contains", "start with", "end with", "is", "is not", "empty",
    "not empty", "in", "not in", "=", "≠", ">", "<", "≥", "≤", "before", "after",
})  # fmt: skip


def check_filter(raw: Any) -> dict[str, Any] | None:
    """The validated filter (None: no filter); 400 ``invalid_param`` when malformed."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid_param", "metadata_filtering_conditions must be an object")
    logical = raw.get("logical_operator") or "and"
    conditions = raw.get("conditions") or []
    if logical not in ("and", "or") or not isinstance(conditions, list):
        raise ApiError(400, "invalid_param", "Invalid metadata_filtering_conditions")
    for c in conditions:
        if not isinstance(c, dict) or not isinstance(c.get("name"), str):
            raise ApiError(400, "invalid_param", "Each condition needs a name")
        if c.get("comparison_operator") not in OPERATORS:
            op = c.get("comparison_operator") if isinstance(c, dict) else None
            raise ApiError(400, "invalid_param", f"Invalid comparison_operator: {op!r}")
    return {"logical_operator": logical, "conditions": conditions}


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _one(op: str, have: Any, want: Any) -> bool:
    if op == "empty":
        return have is None or have == ""
    if op == "not empty":
        return not (have is None or have == "")
    if have is None:
        return False
    if op in ("=", "≠", ">", "<", "≥", "≤", "before", "after"):
        a, b = _num(have), _num(want)
        if a is None or b is None:
            return False
        return {"=": a == b, "≠": a != b, ">": a > b, "<": a < b, "≥": a >= b, "≤": a <= b,
                "before": a < b, "after": a > b}[op]  # fmt: skip
    text, target = str(have), want
    if op == "in":
        return isinstance(target, list) and text in [str(t) for t in target]
    if op == "not in":
        return isinstance(target, list) and text not in [str(t) for t in target]
    target = "" if target is None else str(target)
    return {"contains": target in text, "not contains": target not in text,
            "start with": text.startswith(target), "end with": text.endswith(target),
            "is": text == target, "is not": text != target}[op]  # fmt: skip


def matches(flt: dict[str, Any], values: dict[str, Any]) -> bool:
    """Whether a document's metadata ``{name: value}`` passes the filter."""
    results = [
        _one(c["comparison_operator"], values.get(c["name"]), c.get("value"))
        for c in flt["conditions"]
    ]
    if not results:
        return True
    return all(results) if flt["logical_operator"] == "and" else any(results)
