"""Dify chat, chatflow and agent apps as tools for LangChain agents.

`DifyAppTool` is a ``StructuredTool``: a question in, the app's answer out. Its name
and description come from the app (``GET /info``). Conversations continue per
(end user, thread) only: give a `SessionStore` and the tool continues the Dify
conversation of the caller's ``configurable["thread_id"]`` (and
``configurable["dify_user"]`` or ``["user_id"]``, as ``ChatDify`` reads them, else the
model's ``user``); a call without a thread
starts a new conversation, so callers never share one. A failed run raises
``ToolException`` whose ``__cause__`` (and ``error``) is the typed Dify error.
Workflow apps: ``DifyWorkflow.as_tool()`` (or `DifyAppTool.from_workflow`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.runnables.config import ensure_config
from langchain_core.tools import StructuredTool, ToolException

from dify_transport import AppInfo, DifyError
from dify_transport.inputs import AppQuestion, chat_tool_meta
from langchain_dify._errors import translate_errors
from langchain_dify._request_user import config_user

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from langchain_dify._session_store import SessionStore
    from langchain_dify.chat_models import ChatDify
    from langchain_dify.workflows import DifyWorkflow

__all__ = ["DifyAppTool", "DifyToolException"]


class DifyToolException(ToolException):
    """A Dify run failed inside a tool; ``error`` is the typed Dify error."""

    def __init__(self, error: DifyError) -> None:
        super().__init__(str(error))
        self.error = error
        self.__cause__ = error


def _conversation_key(user: str, thread: object) -> str:
    return f"{user}\x1f{thread}"


class DifyAppTool(StructuredTool):
    """A Dify chat, chatflow or agent app as a tool (``query`` in, the answer out).

    ```python
    from langchain_dify import ChatDify, DifyAppTool, InMemorySessionStore

    tool = DifyAppTool.from_chat_model(ChatDify(), conversations=InMemorySessionStore())
    # or: ChatDify().as_tool(); await ChatDify().aas_tool()
    tool.invoke({"query": "What is Dify?"}, {"configurable": {"thread_id": "t1"}})
    ```
    """

    @classmethod
    def from_chat_model(
        cls,
        model: ChatDify,
        *,
        name: str | None = None,
        description: str | None = None,
        conversations: SessionStore | None = None,
        info: AppInfo | None = None,
    ) -> DifyAppTool:
        """Build the tool; reads ``GET /info`` now unless ``info`` (or name and description).

        Args:
            model: The app, as a chat model.
            name: Tool name (default: a slug of the app's name).
            description: Tool description (default: the app's description).
            conversations: Where each (user, thread) keeps its Dify conversation;
                None: every call starts a new conversation.
            info: The app's info, when already read (no I/O then).
        """
        if info is None and (name is None or description is None):
            with translate_errors():
                info = model._client.get_info()
        return cls._build(model, info, name, description, conversations)

    @classmethod
    async def afrom_chat_model(
        cls,
        model: ChatDify,
        *,
        name: str | None = None,
        description: str | None = None,
        conversations: SessionStore | None = None,
        info: AppInfo | None = None,
    ) -> DifyAppTool:
        """Async `from_chat_model` (reads ``GET /info`` without blocking)."""
        if info is None and (name is None or description is None):
            with translate_errors():
                info = await model._async_client.get_info()
        return cls._build(model, info, name, description, conversations)

    @classmethod
    def from_workflow(
        cls, workflow: DifyWorkflow, *, name: str | None = None, description: str | None = None
    ) -> StructuredTool:
        """A workflow app's tool (same as ``workflow.as_tool()``: schema from the app)."""
        return workflow.as_tool(name=name, description=description)

    @classmethod
    def _build(
        cls,
        model: ChatDify,
        info: AppInfo | None,
        name: str | None,
        description: str | None,
        conversations: SessionStore | None,
    ) -> DifyAppTool:
        slug, about = chat_tool_meta(info, name, description)

        def where() -> tuple[str, str | None, str | None]:
            configurable = ensure_config().get("configurable") or {}
            user = config_user(None) or model.user  # the same keys ChatDify reads
            thread = configurable.get("thread_id")
            if conversations is None or thread is None:
                return user, None, None
            key = _conversation_key(user, thread)
            return user, key, conversations.get(key)

        def remember(key: str | None, answer: BaseMessage) -> str:
            found = answer.response_metadata.get("conversation_id")
            if conversations is not None and key is not None and isinstance(found, str):
                conversations.set(key, found)
            return answer.text

        def run(query: str) -> str:
            user, key, conversation = where()
            try:
                answer = model.invoke(query, user=user, conversation_id=conversation)
            except DifyError as exc:
                raise DifyToolException(exc) from exc
            return remember(key, answer)

        async def arun(query: str) -> str:
            user, key, conversation = where()
            try:
                answer = await model.ainvoke(query, user=user, conversation_id=conversation)
            except DifyError as exc:
                raise DifyToolException(exc) from exc
            return remember(key, answer)

        return cls(
            name=slug,
            description=about,
            func=run,
            coroutine=arun,
            args_schema=AppQuestion,
            handle_tool_error=False,
        )
