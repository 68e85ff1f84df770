"""Dify apps as LlamaIndex components, over the shared ``dify_transport``.

* :class:`DifyLLM`: a Dify chat app (chat, chatflow, agent) as an ``LLM``.
* :class:`DifyChatEngine`: a chat engine whose memory is the Dify conversation.
* :class:`DifyRetriever`: the passages a Dify app cites for a query.
* :class:`DifyKnowledgeRetriever`: a Dify knowledge base (Knowledge API; ``filters=``).
* :class:`DifyKnowledgeIndex`: a knowledge base as a managed index (``insert``,
  ``from_documents``: metadata kept, indexing awaited; ``delete_ref_doc``).
* :func:`arun_dify_workflow`: a Dify workflow in a ``Workflow`` step; human-input
  pauses become ``InputRequiredEvent`` / ``HumanResponseEvent``.
* :class:`DifyChatTool` / :class:`DifyQueryEngine`: a chat app as an agent tool or a
  query engine (``DifyLLM.as_tool()``, ``.as_query_engine()``).
* :class:`DifyChatStore`: a user's Dify conversations as a (read-only) chat store.
* :func:`display_sources`: a notebook table of a response's or a retriever's passages.

Errors are ``dify_transport``'s, re-raised as they are; this package adds only
:class:`DifyReadOnlyHistoryError`. This package never imports ``langchain_core``.
"""

from __future__ import annotations

try:
    import llama_index.core  # noqa: F401  # the framework this package adapts to
except ModuleNotFoundError as _missing:  # pragma: no cover - tested in a subprocess
    if _missing.name not in ("llama_index", "llama_index.core"):
        raise
    raise ImportError(
        "llama_index_dify needs llama-index-core: pip install 'dify-integrations[llama-index]'"
    ) from _missing

from llama_index_dify._agent_steps import DifyAgentToolResultEvent
from llama_index_dify._app_tools import DifyChatTool, DifyQueryEngine
from llama_index_dify._clients import DEFAULT_USER
from llama_index_dify._errors import DifyReadOnlyHistoryError
from llama_index_dify._human_input import (
    DifyHumanResponseEvent,
    DifyInputRequiredEvent,
    arun_dify_workflow,
)
from llama_index_dify.chat_engine import DifyChatEngine, DifyStreamingChatResponse
from llama_index_dify.chat_store import DifyChatStore
from llama_index_dify.completion import DifyCompletionLLM
from llama_index_dify.display import display_sources
from llama_index_dify.knowledge_index import DifyKnowledgeIndex
from llama_index_dify.llms import DifyLLM
from llama_index_dify.retrievers import DifyKnowledgeRetriever, DifyRetriever
from llama_index_dify.tools import DifyWorkflowTool

__all__ = [
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
