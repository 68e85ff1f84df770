"""MetadataFilters -> Dify metadata_filtering_conditions, and metadata on retrieved nodes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from dify_transport import DifyKnowledgeClient, MetadataFilterError
from llama_index_dify import DifyKnowledgeRetriever
from llama_index_dify._filters import dify_filter

DS = "d0000000-0000-4000-8000-00000000000d"


def _f(key: str, value: Any, op: FilterOperator = FilterOperator.EQ) -> MetadataFilter:
    return MetadataFilter(key=key, value=value, operator=op)


def test_operators_map_onto_dify_characters() -> None:
    filters = MetadataFilters(
        filters=[_f("y", 1, FilterOperator.NE), _f("y", 2, FilterOperator.GTE),
                 _f("y", 3, FilterOperator.LTE), _f("l", "en"), _f("l", ["a"], FilterOperator.NIN),
                 _f("t", "ea", FilterOperator.TEXT_MATCH), _f("t", None, FilterOperator.IS_EMPTY),
                 MetadataFilters(filters=[_f("g", 1.5, FilterOperator.GT)])],
        condition=FilterCondition.OR,
    )  # fmt: skip
    assert dify_filter(filters) == {
        "logical_operator": "or",
        "conditions": [
            {"name": "y", "comparison_operator": "≠", "value": 1},
            {"name": "y", "comparison_operator": "≥", "value": 2},
            {"name": "y", "comparison_operator": "≤", "value": 3},
            {"name": "l", "comparison_operator": "is", "value": "en"},
            {"name": "l", "comparison_operator": "not in", "value": ["a"]},
            {"name": "t", "comparison_operator": "contains", "value": "ea"},
            {"name": "t", "comparison_operator": "empty"},
            {"name": "g", "comparison_operator": ">", "value": 1.5},
        ],
    }


@pytest.mark.parametrize(
    ("filters", "needle"),
    [
        (MetadataFilters(filters=[_f("a", ["x"], FilterOperator.ALL)]), "FilterOperator.ALL"),
        (MetadataFilters(filters=[_f("a", "x", FilterOperator.TEXT_MATCH_INSENSITIVE)]),
         "TEXT_MATCH_INSENSITIVE"),
        (MetadataFilters(filters=[_f("a", 1)], condition=FilterCondition.NOT), "not NOT"),
        (MetadataFilters(filters=[MetadataFilters(filters=[_f("a", 1), _f("b", 2)])]),
         "cannot nest"),
    ],
)  # fmt: skip
def test_what_dify_lacks_is_a_clear_error(filters: MetadataFilters, needle: str) -> None:
    with pytest.raises(MetadataFilterError, match=needle):
        dify_filter(filters)


def test_retriever_sends_filter_and_nodes_carry_dify_metadata() -> None:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"data": [], "has_more": False})
        sent.append(json.loads(request.read()))
        record = {
            "segment": {
                "id": "s1",
                "content": "tea",
                "document_id": "doc1",
                "document": {"id": "doc1", "name": "a.txt", "doc_metadata": {"year": 2024}},
            },
            "score": 0.5,
        }
        return httpx.Response(200, json={"query": {"content": "q"}, "records": [record]})

    client = DifyKnowledgeClient(
        api_key="dataset-x",
        base_url="http://dify.test/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    retriever = DifyKnowledgeRetriever(
        dataset_id=DS, client=client, filters=MetadataFilters(filters=[_f("year", 2024)])
    )
    nodes = retriever.retrieve("tea")  # fmt: skip
    assert sent[0]["retrieval_model"]["metadata_filtering_conditions"] == {
        "logical_operator": "and",
        "conditions": [{"name": "year", "comparison_operator": "=", "value": 2024}],
    }
    assert nodes[0].node.metadata["year"] == 2024
    assert "year" not in nodes[0].node.excluded_llm_metadata_keys
    assert "document_id" in nodes[0].node.excluded_llm_metadata_keys
