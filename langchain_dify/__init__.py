"""Dify apps as LangChain components, over the shared ``dify_transport``.

- :class:`ChatDify`: a Dify chat / chatflow / agent app as a chat model.
- :class:`DifyChatMessageHistory`: a Dify conversation as chat history.
- :class:`DifyCompletion`: a completion app as a text LLM (``BaseLLM``).
- :class:`DifyWorkflow`: a workflow app as a ``Runnable[dict, dict]`` (``.as_tool()``).
- :class:`DifyAppTool`: a chat, chatflow or agent app as a tool (``ChatDify.as_tool()``).
- :class:`DifyRetriever`: the passages an app cites; :class:`DifyKnowledgeRetriever`:
  a knowledge base searched directly (metadata ``filter=``).
- :class:`DifyKnowledgeBase`: a knowledge base as a ``VectorStore`` (``add_documents``
  keeps metadata, waits for indexing; ``delete(ids)``).
- ``Dify*Error``: every Dify failure, typed both as the transport's error and as
  langchain-core's ``Model*Error``.
- :func:`display_sources`: a notebook table of an answer's or a retriever's passages.
"""

from __future__ import annotations

try:
    import langchain_core  # noqa: F401  # the framework this package adapts to
except ModuleNotFoundError as _missing:  # pragma: no cover - tested in a subprocess
    if _missing.name != "langchain_core":
        raise
    raise ImportError(
        "langchain_dify needs langchain-core: pip install 'dify-integrations[langchain]'"
    ) from _missing

from langchain_dify._chat_pause import DifyChatPausedError
from langchain_dify._errors import (
    DifyAPIConnectionError,
    DifyAPIError,
    DifyAPITimeoutError,
    DifyAuthenticationError,
    DifyBadRequestError,
    DifyContentTooLargeError,
    DifyIncompleteStreamError,
    DifyInternalServerError,
    DifyNotFoundError,
    DifyPermissionDeniedError,
    DifyRateLimitError,
    DifyUnsupportedMediaTypeError,
)
from langchain_dify._messages import DifyInputError
from langchain_dify._session_store import InMemorySessionStore, SessionStore
from langchain_dify.chat_history import DifyChatMessageHistory
from langchain_dify.chat_models import DEFAULT_USER, ChatDify
from langchain_dify.completion import DifyCompletion
from langchain_dify.display import display_sources
from langchain_dify.knowledge_base import DifyKnowledgeBase
from langchain_dify.retrievers import DifyKnowledgeRetriever, DifyRetriever
from langchain_dify.tools import DifyAppTool, DifyToolException
from langchain_dify.workflows import DifyWorkflow, DifyWorkflowPausedError

__all__ = [
    "DEFAULT_USER",
    "ChatDify",
    "DifyAPIConnectionError",
    "DifyAPIError",
    "DifyAPITimeoutError",
    "DifyAppTool",
    "DifyAuthenticationError",
    "DifyBadRequestError",
    "DifyChatPausedError",
    "DifyChatMessageHistory",
    "DifyCompletion",
    "DifyContentTooLargeError",
    "DifyIncompleteStreamError",
    "DifyInputError",
    "DifyInternalServerError",
    "DifyKnowledgeBase",
    "DifyKnowledgeRetriever",
    "DifyNotFoundError",
    "DifyPermissionDeniedError",
    "DifyRateLimitError",
    "DifyRetriever",
    "DifyToolException",
    "DifyUnsupportedMediaTypeError",
    "DifyWorkflow",
    "DifyWorkflowPausedError",
    "InMemorySessionStore",
    "SessionStore",
    "display_sources",
]
