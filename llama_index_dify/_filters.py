"""LlamaIndex ``MetadataFilters`` -> Dify's ``metadata_filtering_conditions`` (pure).

Dify has one level of conditions joined by ``and`` / ``or``; its operators and value
rules live in ``dify_transport.metadata_filter``. Operators Dify lacks (``ANY``,
``ALL``, ``TEXT_MATCH_INSENSITIVE``), ``NOT`` and nested filter groups raise
``MetadataFilterError`` before anything is sent.
"""

from __future__ import annotations

from typing import Any, Final

from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from dify_transport.metadata_filter import Condition, MetadataFilterError, conditions

__all__ = ["dify_filter"]

_OPERATORS: Final = {
    **{  # the operators Dify names as LlamaIndex does (lowercased)
        FilterOperator[name]: name.lower()
        for name in ("EQ", "NE", "GT", "GTE", "LT", "LTE", "IN", "NIN", "CONTAINS")
    },
    FilterOperator.TEXT_MATCH: "contains",
    FilterOperator.IS_EMPTY: "empty",
}


def _condition(item: MetadataFilter) -> Condition:
    op = _OPERATORS.get(FilterOperator(item.operator))
    if op is None:
        known = ", ".join(o.name for o in _OPERATORS)
        msg = (
            f"Dify has no metadata filter operator for FilterOperator.{item.operator.name} "
            f"(key {item.key!r}); use one of: {known}."
        )
        raise MetadataFilterError(msg)
    return Condition(item.key, op, None if op == "empty" else item.value)


def dify_filter(filters: MetadataFilters) -> dict[str, Any]:
    """Dify's ``metadata_filtering_conditions`` for LlamaIndex filters."""
    condition = filters.condition or FilterCondition.AND
    if condition not in (FilterCondition.AND, FilterCondition.OR):
        msg = f"Dify combines metadata conditions with AND or OR, not {condition.name}."
        raise MetadataFilterError(msg)
    items = []
    for item in filters.filters:
        if isinstance(item, MetadataFilters):
            if len(item.filters) == 1 and isinstance(item.filters[0], MetadataFilter):
                items.append(_condition(item.filters[0]))  # a group of one is just the one
                continue
            raise MetadataFilterError(
                "Dify cannot nest metadata filters: use one MetadataFilters (AND or OR) "
                "holding MetadataFilter items."
            )
        items.append(_condition(item))
    return conditions(items, condition.value)
