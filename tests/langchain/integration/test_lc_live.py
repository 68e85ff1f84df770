"""The standard suites against a real Dify (``DIFY_BASE_URL`` + ``DIFY_API_KEY``).

Skipped unless both are set (root conftest). The knowledge suite also needs
``DIFY_DATASET_API_KEY`` and ``DIFY_DATASET_ID``. The app should have citations on
and top-k >= 3 for the ``DifyRetriever`` count tests.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import ChatModelIntegrationTests, RetrieversIntegrationTests

from langchain_dify import ChatDify, DifyKnowledgeRetriever, DifyRetriever

pytestmark = pytest.mark.live


def _env(name: str) -> str:
    return os.environ.get(name, "")


class TestChatDifyLive(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatDify]:
        return ChatDify

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "model": "live-app",
            "api_key": _env("DIFY_API_KEY"),
            "base_url": _env("DIFY_BASE_URL"),
        }

    @property
    def supports_model_override(self) -> bool:
        return False

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def has_tool_calling(self) -> bool:  # bind_tools raises DifyToolCallingError
        return False

    @property
    def supports_json_mode(self) -> bool:
        return True


class TestDifyRetrieverLive(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return DifyRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"api_key": _env("DIFY_API_KEY"), "base_url": _env("DIFY_BASE_URL")}

    @property
    def retriever_query_example(self) -> str:
        return _env("DIFY_LIVE_QUERY") or "What is this knowledge base about?"


@pytest.mark.skipif(
    not (_env("DIFY_DATASET_API_KEY") and _env("DIFY_DATASET_ID")),
    reason="set DIFY_DATASET_API_KEY and DIFY_DATASET_ID for the knowledge suite",
)
class TestDifyKnowledgeRetrieverLive(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return DifyKnowledgeRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {
            "api_key": _env("DIFY_DATASET_API_KEY"),
            "dataset_id": _env("DIFY_DATASET_ID"),
            "base_url": _env("DIFY_BASE_URL"),
        }

    @property
    def retriever_query_example(self) -> str:
        return _env("DIFY_LIVE_QUERY") or "What is this knowledge base about?"

    @property
    def num_results_arg_name(self) -> str:
        return "top_k"
