"""Dify's knowledge metadata filters (``metadata_filtering_conditions``), built and checked once.

Dify filters a search by document metadata with
``{"logical_operator": "and" | "or", "conditions": [{"name", "comparison_operator", "value"}]}``
(one level: no nesting). Its operators: for strings and lists ``contains``,
``not contains``, ``start with``, ``end with``, ``is``, ``is not``, ``empty``,
``not empty``, ``in``, ``not in``; for numbers ``=``, ``≠``, ``>``, ``<``, ``≥``,
``≤`` (those Unicode characters, not ``!=`` / ``>=``); for times ``before``, ``after``.

Both frameworks' retrievers turn their own filters into neutral `Condition`s and call
`conditions`; `from_mongo` reads the dict form the LangChain retriever documents::

    {"category": "faq"}  # is / =
    {"year": {"$gte": 2020}, "lang": {"$in": ["en", "de"]}}  # implicit AND
    {"$or": [{"category": "faq"}, {"year": {"$lt": 2000}}]}

Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $contains $not_contains $starts_with
$ends_with $exists $before $after``. Anything Dify cannot express (nesting ``$and``
inside ``$or``, ``$not``, regexes, ...) raises `MetadataFilterError` before sending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from dify_transport._errors import DifyConfigError

__all__ = [
    "DIFY_OPERATORS",
    "NEUTRAL_OPERATORS",
    "Condition",
    "MetadataFilterError",
    "check_conditions",
    "conditions",
    "from_mongo",
]

DIFY_OPERATORS: Final = frozenset({
    "contains", "not contains", "start with", "end with", "is", "is not", "empty",
    "not empty", "in", "not in", "=", "≠", ">", "<", "≥", "≤", "before", "after",
})  # fmt: skip
"""Every ``comparison_operator`` Dify accepts."""

_BY_TYPE: Final[Mapping[str, tuple[str, str]]] = {
    # neutral: (operator for a number value, operator for any other value)
    "eq": ("=", "is"),
    "ne": ("≠", "is not"),
}
_SIMPLE: Final[Mapping[str, str]] = {
    "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "in", "nin": "not in",
    "contains": "contains", "not_contains": "not contains", "starts_with": "start with",
    "ends_with": "end with", "empty": "empty", "not_empty": "not empty",
    "before": "before", "after": "after",
}  # fmt: skip
NEUTRAL_OPERATORS: Final = frozenset({*_BY_TYPE, *_SIMPLE})
"""The neutral operator names `Condition` takes."""

_NO_VALUE: Final = frozenset({"empty", "not empty"})
_LISTS: Final = frozenset({"in", "not in"})


class MetadataFilterError(DifyConfigError):
    """A metadata filter Dify cannot express (raised before anything is sent)."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One neutral condition: a metadata field, a neutral operator, a value."""

    name: str
    operator: str
    value: Any = None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dify(cond: Condition) -> dict[str, Any]:
    if not isinstance(cond.name, str) or not cond.name:
        raise MetadataFilterError("A metadata filter needs a field name (a non-empty string).")
    op = cond.operator
    if op in _BY_TYPE:
        dify_op = _BY_TYPE[op][0 if _is_number(cond.value) else 1]
    elif op in _SIMPLE:
        dify_op = _SIMPLE[op]
    else:
        raise _unknown(op, cond.name, sorted(NEUTRAL_OPERATORS))
    out: dict[str, Any] = {"name": cond.name, "comparison_operator": dify_op}
    if dify_op in _NO_VALUE:
        return out
    out["value"] = _value(cond.name, dify_op, cond.value)
    return out


def _unknown(op: str, name: str, known: Sequence[str]) -> MetadataFilterError:
    msg = f"Dify has no metadata filter operator {op!r} (field {name!r}); use one of: "
    return MetadataFilterError(f"{msg}{', '.join(known)}.")


def _value(name: str, op: str, value: Any) -> Any:
    if op in _LISTS:
        if isinstance(value, str) or not isinstance(value, Sequence):
            msg = f"Metadata filter {op!r} on {name!r} needs a list of values, not {value!r}."
            raise MetadataFilterError(msg)
        return [str(v) for v in value]
    if op in {">", "<", "≥", "≤"} and not _is_number(value):
        msg = (
            f"Metadata filter {op!r} on {name!r} compares numbers; got {value!r} "
            "(for times use before/after)."
        )
        raise MetadataFilterError(msg)
    if value is None:
        msg = f"Metadata filter {op!r} on {name!r} needs a value."
        raise MetadataFilterError(msg)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        msg = (
            f"Metadata filter on {name!r}: Dify compares strings, numbers or times, not {value!r}."
        )
        raise MetadataFilterError(msg)
    return value


def conditions(items: Sequence[Condition], logical_operator: str = "and") -> dict[str, Any]:
    """Dify's ``metadata_filtering_conditions`` for some neutral conditions."""
    op = logical_operator.lower()
    if op not in {"and", "or"}:
        msg = f"Dify combines metadata conditions with 'and' or 'or', not {logical_operator!r}."
        raise MetadataFilterError(msg)
    if not items:
        raise MetadataFilterError("A metadata filter needs at least one condition.")
    return {"logical_operator": op, "conditions": [_dify(c) for c in items]}


def check_conditions(value: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a filter already in Dify's form (operators, values); return a copy."""
    op = str(value.get("logical_operator") or "and").lower()
    raw = value.get("conditions")
    if op not in {"and", "or"} or not isinstance(raw, Sequence) or isinstance(raw, str):
        raise MetadataFilterError(
            "metadata_filtering_conditions needs logical_operator 'and'/'or' "
            "and a list of conditions."
        )
    out = []
    for c in raw:
        if not isinstance(c, Mapping) or c.get("comparison_operator") not in DIFY_OPERATORS:
            bad = c.get("comparison_operator") if isinstance(c, Mapping) else c
            ops = ", ".join(sorted(DIFY_OPERATORS))
            raise MetadataFilterError(
                f"Dify has no metadata filter operator {bad!r}; use one of: {ops}."
            )
        out.append(dict(c))
    return {"logical_operator": op, "conditions": out}


_MONGO: Final[Mapping[str, str]] = {
    f"${op}": op for op in (*_BY_TYPE, *_SIMPLE) if op not in ("empty", "not_empty")
}


def _fields(spec: Mapping[str, Any]) -> list[Condition]:
    return [cond for name, value in spec.items() for cond in _field(name, value)]


def _field(name: str, spec: Any) -> list[Condition]:
    if name.startswith("$"):
        msg = f"Dify metadata filters cannot express {name!r} here (only one top-level $and/$or)."
        raise MetadataFilterError(msg)
    if not isinstance(spec, Mapping):
        return [Condition(name, "eq", spec)]
    out = []
    for op, value in spec.items():
        if op == "$exists":
            out.append(Condition(name, "not_empty" if value else "empty"))
        elif op in _MONGO:
            out.append(Condition(name, _MONGO[op], value))
        else:
            raise _unknown(op, name, [*_MONGO, "$exists"])
    return out


def from_mongo(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Dify's filter for the documented dict form (see the module docstring).

    A dict already in Dify's form (``conditions`` key) is checked and passed through.
    """
    if "conditions" in spec:
        return check_conditions(spec)
    if not isinstance(spec, Mapping) or not spec:
        raise MetadataFilterError("A metadata filter must be a non-empty dict.")
    logical = [k for k in spec if k in ("$and", "$or")]
    if logical:
        if len(spec) != 1:
            raise MetadataFilterError("Put every condition inside the one $and / $or list.")
        key = logical[0]
        parts = spec[key]
        if not isinstance(parts, Sequence) or isinstance(parts, str) or not parts:
            raise MetadataFilterError(f"{key} takes a non-empty list of conditions.")
        items: list[Condition] = []
        for part in parts:
            if not isinstance(part, Mapping):
                raise MetadataFilterError(f"Every item of {key} is a dict, not {part!r}.")
            if (
                key == "$or"
                and sum(len(v) if isinstance(v, Mapping) else 1 for v in part.values()) > 1
            ):
                raise MetadataFilterError(
                    "Dify cannot nest conditions: each $or item must be one condition."
                )
            items.extend(_fields(part))
        return conditions(items, key[1:])
    return conditions(_fields(spec), "and")
