"""langchain-tests standard suites against the emulator, in-process and over 127.0.0.1."""

from __future__ import annotations

from typing import Any

from _lc_wiring import EmulatorWiring
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import ChatModelIntegrationTests, RetrieversIntegrationTests

from langchain_dify import ChatDify, DifyKnowledgeRetriever, DifyRetriever


class _ChatSuite(EmulatorWiring, ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatDify]:
        return ChatDify

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "emulator-chat", **self.connection(self.emu.keys.chat)}

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


class TestChatDifyInProcess(_ChatSuite):
    inprocess = True


class TestChatDifyLoopback(_ChatSuite):
    inprocess = False


class _AppRetrieverSuite(EmulatorWiring, RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return DifyRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return self.connection(self.emu.keys.chat)

    @property
    def retriever_query_example(self) -> str:
        return "What does the warranty cover?"


class TestDifyRetrieverInProcess(_AppRetrieverSuite):
    inprocess = True


class TestDifyRetrieverLoopback(_AppRetrieverSuite):
    inprocess = False


class _KnowledgeRetrieverSuite(EmulatorWiring, RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return DifyKnowledgeRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"dataset_id": self.emu.dataset_id, **self.connection(self.emu.keys.dataset)}

    @property
    def retriever_query_example(self) -> str:
        return "What does the warranty cover?"

    @property
    def num_results_arg_name(self) -> str:
        return "top_k"


class TestDifyKnowledgeRetrieverInProcess(_KnowledgeRetrieverSuite):
    inprocess = True


class TestDifyKnowledgeRetrieverLoopback(_KnowledgeRetrieverSuite):
    inprocess = False
