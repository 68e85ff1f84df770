"""Construction, configuration, payload hygiene and the public surface (no I/O)."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest
from llama_index.core.base.llms.base import BaseLLM
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.chat_engine.types import BaseChatEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.storage.chat_store.base import BaseChatStore

import llama_index_dify
from dify_transport import DifyConfigError
from llama_index_dify import (
    DifyChatEngine,
    DifyChatStore,
    DifyKnowledgeRetriever,
    DifyLLM,
    DifyReadOnlyHistoryError,
    DifyRetriever,
)

SECRET = "app-super-secret-key"


def test_public_surface() -> None:
    assert llama_index_dify.__all__ == [
        "DEFAULT_USER",
        "DifyAgentToolResultEvent",
        "DifyChatEngine",
        "DifyChatStore",
        "DifyChatTool",
        "DifyCompletionLLM",
        "DifyKnowledgeIndex",
        "DifyHumanResponseEvent",
        "DifyInputRequiredEvent",
        "DifyKnowledgeRetriever",
        "DifyLLM",
        "DifyQueryEngine",
        "DifyReadOnlyHistoryError",
        "DifyRetriever",
        "DifyStreamingChatResponse",
        "DifyWorkflowTool",
        "display_sources",
        "arun_dify_workflow",
    ]
    for name in llama_index_dify.__all__:
        assert getattr(llama_index_dify, name) is not None


def test_import_does_not_import_langchain_core() -> None:
    code = (
        "import sys, llama_index_dify; "
        "bad = sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('langchain_core', 'langchain'));"
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_bases_and_class_names() -> None:
    assert issubclass(DifyLLM, BaseLLM)
    assert issubclass(DifyChatEngine, BaseChatEngine)
    assert issubclass(DifyRetriever, BaseRetriever)
    assert issubclass(DifyKnowledgeRetriever, BaseRetriever)
    assert issubclass(DifyChatStore, BaseChatStore)
    assert issubclass(DifyReadOnlyHistoryError, NotImplementedError)
    for cls in (DifyLLM, DifyChatEngine, DifyRetriever, DifyKnowledgeRetriever, DifyChatStore):
        assert cls.class_name() == cls.__name__


def test_retrievers_have_native_async() -> None:
    for cls in (DifyRetriever, DifyKnowledgeRetriever):
        assert cls._aretrieve is not BaseRetriever._aretrieve
        assert inspect.iscoroutinefunction(cls._aretrieve)


def test_llm_defaults_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    llm = DifyLLM()
    assert llm.api_key is None
    assert llm.base_url == "https://api.dify.ai/v1"
    assert llm.user == "dify-integrations"
    # No key yet: nothing built (with a key the clients are built at construction), no I/O.
    assert llm._clients is not None
    assert llm._clients.client is None
    assert llm._clients.async_client is None
    monkeypatch.setenv("DIFY_API_KEY", SECRET)
    monkeypatch.setenv("DIFY_BASE_URL", "http://dify.local/v1")
    monkeypatch.setenv("DIFY_USER", "alice")
    llm = DifyLLM()
    assert llm.api_key is not None
    assert llm.api_key.get_secret_value() == SECRET
    assert (llm.base_url, llm.user) == ("http://dify.local/v1", "alice")


def test_llm_metadata() -> None:
    meta = DifyLLM(model="support-bot", context_window=8000).metadata
    assert meta.is_chat_model is True
    assert meta.is_function_calling_model is False
    assert meta.model_name == "support-bot"
    assert meta.context_window == 8000
    assert meta.system_role == MessageRole.SYSTEM


def test_the_key_is_never_in_payloads_reprs_or_dumps() -> None:
    llm = DifyLLM(api_key=SECRET, user="alice")
    store = DifyChatStore(api_key=SECRET)
    for text in (
        json.dumps(llm.to_payload()),
        repr(llm),
        str(llm),
        llm.model_dump_json(),
        json.dumps(llm.to_dict()),
        repr(store),
        store.model_dump_json(),
    ):
        assert SECRET not in text
    assert "api_key" not in llm.model_dump()


def test_chat_store_writes_raise_a_named_error_with_the_reason() -> None:
    store = DifyChatStore(api_key=SECRET)
    message = ChatMessage(role=MessageRole.USER, content="hi")
    calls = [
        lambda: store.set_messages("c1", [message]),
        lambda: store.add_message("c1", message),
        lambda: store.delete_message("c1", 0),
        lambda: store.delete_last_message("c1"),
    ]
    for call in calls:
        with pytest.raises(DifyReadOnlyHistoryError, match="records each turn itself"):
            call()


async def test_chat_store_async_writes_raise_too() -> None:
    store = DifyChatStore(api_key=SECRET)
    message = ChatMessage(role=MessageRole.USER, content="hi")
    with pytest.raises(DifyReadOnlyHistoryError, match="async_add_message"):
        await store.async_add_message("c1", message)
    with pytest.raises(DifyReadOnlyHistoryError):
        await store.aset_messages("c1", [message])
    with pytest.raises(DifyReadOnlyHistoryError):
        await store.adelete_message("c1", 0)
    with pytest.raises(DifyReadOnlyHistoryError):
        await store.adelete_last_message("c1")


def test_knowledge_retriever_needs_a_dataset(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DifyConfigError, match="DIFY_DATASET_ID"):
        DifyKnowledgeRetriever()
    monkeypatch.setenv("DIFY_DATASET_ID", "ds-1")
    assert DifyKnowledgeRetriever(similarity_top_k=3).dataset_id == "ds-1"


def test_top_k_alias() -> None:
    assert DifyRetriever(k=2).similarity_top_k == 2
    assert DifyRetriever(similarity_top_k=2, k=2).similarity_top_k == 2
    with pytest.raises(ValueError, match="disagree"):
        DifyRetriever(similarity_top_k=2, k=3)
    with pytest.raises(ValueError, match="at least 1"):
        DifyRetriever(k=0)


def test_engine_construction() -> None:
    llm = DifyLLM(conversation_id="c0")
    engine = DifyChatEngine(llm)
    assert engine.llm is llm
    assert engine.conversation_id == "c0"
    engine = DifyChatEngine.from_defaults(api_key=SECRET, user="bob")
    assert engine.llm.user == "bob"
    assert engine.conversation_id is None
    with pytest.raises(TypeError, match="either llm"):
        DifyChatEngine(llm, user="bob")


def test_unknown_keywords_are_refused_not_ignored() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="temprature"):
        DifyLLM(temprature=0.1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="top_k"):
        DifyChatEngine.from_defaults(api_key=SECRET, top_k=3)
    # One policy with ChatDify: the standard sampling fields are accepted, never sent.
    assert DifyLLM(temperature=0.1, max_tokens=5).temperature == 0.1
    llm = DifyLLM(api_key=SECRET, user="u")
    assert DifyLLM.from_dict(llm.to_dict()).user == "u"  # round trips still work
    assert DifyLLM.from_json(llm.to_json()).user == "u"


def test_engine_refuses_memory() -> None:
    from llama_index.core.memory import ChatMemoryBuffer

    for build in (DifyChatEngine, DifyChatEngine.from_defaults):
        with pytest.raises(TypeError, match="Dify keeps each conversation's memory"):
            build(api_key=SECRET, memory=ChatMemoryBuffer.from_defaults())
        with pytest.raises(TypeError, match="memory"):
            build(DifyLLM(), memory=None)


def test_engine_adopts_a_history() -> None:
    reply = ChatMessage(
        role=MessageRole.ASSISTANT, content="hi", additional_kwargs={"conversation_id": "c7"}
    )
    engine = DifyChatEngine.from_defaults(
        chat_history=[ChatMessage(role=MessageRole.USER, content="hello"), reply]
    )
    assert engine.conversation_id == "c7"
    engine.reset()
    assert engine.conversation_id is None


def test_default_user_is_the_transports_shared_one() -> None:
    import dify_transport

    assert llama_index_dify.DEFAULT_USER == dify_transport.DEFAULT_USER == "dify-integrations"
    assert DifyLLM().user == dify_transport.DEFAULT_USER
    assert DifyChatStore().user == dify_transport.DEFAULT_USER
    assert DifyRetriever().user == dify_transport.DEFAULT_USER
