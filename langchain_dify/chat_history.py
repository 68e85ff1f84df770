"""``DifyChatMessageHistory``: a read view of one Dify conversation as LangChain history."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import ConfigurableFieldSpec
from pydantic import SecretStr

from dify_transport import (
    DEFAULT_USER,
    AsyncDifyClient,
    AsyncHttpClient,
    Conversation,
    DifyClient,
    DifyConfigError,
    HttpClient,
    Message,
    NotFoundError,
    TimeoutTypes,
)
from dify_transport.turns import split_transcript
from langchain_dify._clients import (
    ClientOwner,
    ClientSettings,
    LazyClients,
    TransportClients,
    secret_value,
)
from langchain_dify._errors import translate_errors
from langchain_dify._messages import PROVIDER
from langchain_dify._session_store import InMemorySessionStore, SessionMap, SessionStoreLike

if TYPE_CHECKING:
    from langchain_dify.chat_models import ChatDify

__all__ = ["DifyChatMessageHistory", "messages_from_dify"]

logger = logging.getLogger(__name__)


_CLIENT_SETTINGS = frozenset({"api_key", *ClientOwner.model_fields})
"""The connection settings ``factory`` takes: ``api_key`` and the fields of `ClientOwner`."""


def messages_from_dify(message: Message) -> list[BaseMessage]:
    """One Dify message (a query and its answer) as a ``HumanMessage``/``AIMessage`` pair.

    The ``HumanMessage`` holds the user's words: system messages ``ChatDify`` resent as
    ``System:`` lines are decoded out of the stored query (``split_transcript``) and
    kept in ``additional_kwargs["system_text"]``. The ``AIMessage`` carries
    ``conversation_id``, ``message_id``, ``retriever_resources`` and ``feedback`` in
    ``response_metadata``, so putting it back into a ``ChatDify`` call continues the
    same conversation.
    """
    metadata: dict[str, Any] = {
        "model_provider": PROVIDER,
        "conversation_id": message.conversation_id,
        "message_id": message.id,
        "retriever_resources": [r.model_dump(mode="json") for r in message.retriever_resources],
        "feedback": message.feedback,
        "created_at": message.created_at,
    }
    if message.agent_thoughts:
        metadata["agent_thoughts"] = [t.model_dump(mode="json") for t in message.agent_thoughts]
    if message.message_files:
        metadata["message_files"] = list(message.message_files)
    words, system = split_transcript(message.query)
    return [
        HumanMessage(content=words, additional_kwargs={"system_text": system} if system else {}),
        AIMessage(content=message.answer, id=message.id, response_metadata=metadata),
    ]


class DifyChatMessageHistory(TransportClients[DifyClient, AsyncDifyClient], BaseChatMessageHistory):
    """One Dify conversation, read as LangChain chat history.

    Dify records every turn itself when ``ChatDify`` sends it, and has no endpoint to
    append a message. So this history is a *view*:

    - ``messages`` / ``aget_messages()`` read the whole conversation from Dify (every
      page, oldest first) as ``HumanMessage``/``AIMessage`` pairs; each
      ``AIMessage`` carries ``conversation_id``, ``message_id``,
      ``retriever_resources`` and ``feedback`` in ``response_metadata``.
    - ``add_messages`` / ``aadd_messages`` write nothing: they only learn the id of
      a conversation Dify just started from the ``AIMessage`` they are given (and
      record it in the session store).
    - ``clear`` / ``aclear`` delete the conversation on the server.

    Conversations are scoped by ``user``: use the same ``user`` as the ``ChatDify``
    that talks to the conversation.

    Reading back: each ``HumanMessage`` holds the user's words (system messages
    ``ChatDify`` resent as ``System:`` lines are decoded out, into
    ``additional_kwargs["system_text"]``), right before its ``AIMessage``; no turn is
    skipped when several share one second (Dify's clock), and such turns keep Dify's
    order. ``list_conversations`` / ``rename_conversation`` / ``delete_conversation``
    (and async forms) manage the user's other conversations.

    With ``RunnableWithMessageHistory`` (deprecated upstream, still supported):

    ```python
    from langchain_core.runnables.history import RunnableWithMessageHistory
    from langchain_dify import ChatDify, DifyChatMessageHistory

    llm = ChatDify()
    chain = RunnableWithMessageHistory(llm, DifyChatMessageHistory.factory(llm))
    config = {"configurable": {"session_id": "ada"}}
    chain.invoke("Hi, I'm Ada", config=config)
    chain.invoke("What's my name?", config=config)  # same Dify conversation
    ```

    The factory maps session ids to Dify conversation ids in a
    :class:`~langchain_dify.InMemorySessionStore` unless you pass your own
    ``session_store`` (any LangChain ``BaseStore[str, str]`` / ``ByteStore``, e.g. a
    Redis store shared by worker processes). One end user per session: pass
    ``history_factory_config=DifyChatMessageHistory.history_factory_config()`` and
    ``config={"configurable": {"user_id": ..., "session_id": ...}}`` (``ChatDify``
    sends the same ``user_id``).

    Keep output parsers outside ``RunnableWithMessageHistory``: the history learns a
    new conversation's id from the ``AIMessage`` the wrapped runnable returns, and a
    parser's plain string has none, so every turn would start a new conversation
    (a WARNING is logged when that happens). Wrap ``prompt | ChatDify()`` and pipe
    the parser after it:

    ```python
    from langchain_core.output_parsers import StrOutputParser

    chain = RunnableWithMessageHistory(prompt | llm, factory, ...) | StrOutputParser()
    ```
    """

    def __init__(
        self,
        conversation_id: str | None = None,
        *,
        user: str | None = None,
        session_id: str | None = None,
        session_store: SessionStoreLike | SessionMap | None = None,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int = 2,
        deadline: float | None = None,
        http_client: HttpClient | None = None,
        http_async_client: AsyncHttpClient | None = None,
        max_connections: int | None = None,
        client: DifyClient | None = None,
        async_client: AsyncDifyClient | None = None,
    ) -> None:
        """Create a view of ``conversation_id`` (None: a conversation not started yet).

        Args:
            conversation_id: The Dify conversation; when None and ``session_id`` is
                given, it is looked up in ``session_store``.
            user: End-user id owning the conversation (``$DIFY_USER``, else
                ``"dify-integrations"``).
            session_id: The caller's session id, recorded in ``session_store`` when
                a conversation id is learnt.
            session_store: Where ``(user, session id)`` maps to a conversation id: a
                LangChain ``BaseStore[str, str]`` / ``ByteStore`` (shared across
                processes when Redis- or SQL-backed) or a :class:`SessionStore`.
            api_key: App key (``$DIFY_API_KEY``).
            base_url: Service API root (``$DIFY_BASE_URL``, else Dify Cloud).
            timeout: Read timeout in seconds (None: the transport default).
            max_retries: Retries for safe-to-retry failures.
            deadline: Total seconds per call, retries included (None: none).
            http_client: An ``httpx.Client`` to use (you own it).
            http_async_client: An ``httpx.AsyncClient`` to use (you own it).
            max_connections: Connections each client built here may open (None: 1,000).
            client: A ready ``DifyClient`` to share (overrides the settings above).
            async_client: A ready ``AsyncDifyClient`` to share.
        """
        super().__init__()
        self.user = user or os.environ.get("DIFY_USER") or DEFAULT_USER
        self.session_id = session_id
        self._sessions: SessionMap | None = None
        if session_store is not None:
            sessions = session_store
            self._sessions = sessions if isinstance(sessions, SessionMap) else SessionMap(sessions)
        self.session_store = self._sessions.store if self._sessions is not None else None
        if conversation_id is None and session_id is not None and self._sessions is not None:
            conversation_id = self._sessions.get(self.user, session_id)
        self.conversation_id = conversation_id
        settings = ClientSettings(
            api_key=secret_value(api_key),
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            deadline=deadline,
            http_client=http_client,
            async_http_client=http_async_client,
            max_connections=max_connections,
            client=client,
            async_client=async_client,
        )
        self._clients = LazyClients(DifyClient, AsyncDifyClient, settings)

    @classmethod
    def factory(
        cls,
        chat_model: ChatDify | None = None,
        *,
        session_store: SessionStoreLike | None = None,
        user: str | None = None,
        **client_settings: Any,
    ) -> Callable[..., DifyChatMessageHistory]:
        """A ``get_session_history`` for ``RunnableWithMessageHistory``.

        The callable takes ``session_id`` and, optionally, the session's end user as
        ``user_id``: one Dify end user per session, so one chain serves many users.
        Pass :meth:`history_factory_config` as the chain's ``history_factory_config``
        and both keys in ``configurable``; ``ChatDify`` reads the same ``user_id``
        key, so the turn and the history use the same Dify user.

        Args:
            chat_model: Use this model's key, URL, HTTP clients and ``user`` (recommended: the
                history must read with the user that wrote).
            session_store: ``(user, session id)`` → conversation id: a LangChain
                ``BaseStore[str, str]`` / ``ByteStore`` or a :class:`SessionStore`
                (default: a new :class:`~langchain_dify.InMemorySessionStore`).
            user: End-user id of sessions that name none (default: the chat
                model's, else ``$DIFY_USER``).
            **client_settings: ``api_key``, ``base_url``, ``timeout``,
                ``max_retries``, ``deadline``, ``max_connections``, ``http_client``,
                ``http_async_client`` when no
                ``chat_model`` is given.

        Returns:
            A callable ``(session_id, user_id=None)`` returning the session's history.
        """
        store = session_store if session_store is not None else InMemorySessionStore()
        shared, per_user = SessionMap(store), SessionMap(store, per_user=True)
        if chat_model is not None:
            user = user or chat_model.user
            own = {name: getattr(chat_model, name) for name in _CLIENT_SETTINGS}
            client_settings = {**own, **client_settings}
        unknown = set(client_settings) - _CLIENT_SETTINGS
        if unknown:
            msg = f"Unknown settings for DifyChatMessageHistory: {sorted(unknown)}"
            raise TypeError(msg)
        settings = {**client_settings, "api_key": secret_value(client_settings.get("api_key"))}
        settings["async_http_client"] = settings.pop("http_async_client", None)
        clients = LazyClients(DifyClient, AsyncDifyClient, ClientSettings(**settings))

        def get_session_history(
            session_id: str, user_id: str | None = None
        ) -> DifyChatMessageHistory:
            sessions = per_user if user_id else shared
            history = cls(session_id=session_id, session_store=sessions, user=user_id or user)
            history._clients = clients  # share one connection pool across sessions
            return history

        return get_session_history

    @staticmethod
    def history_factory_config() -> list[ConfigurableFieldSpec]:
        """``history_factory_config`` for one Dify end user per session.

        ``RunnableWithMessageHistory(llm, DifyChatMessageHistory.factory(llm),
        history_factory_config=DifyChatMessageHistory.history_factory_config())``,
        invoked with ``config={"configurable": {"user_id": ..., "session_id": ...}}``.
        """
        specs = (
            ("user_id", "User ID", "The Dify end user of the session (one per real user)."),
            (
                "session_id",
                "Session ID",
                "The session, mapped to one Dify conversation of that user.",
            ),
        )
        return [
            ConfigurableFieldSpec(
                id=key, annotation=str, name=name, description=about, default="", is_shared=True
            )
            for key, name, about in specs
        ]

    # ---------------------------------------------------------------- reading

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The whole conversation, oldest first ([] before the first turn)."""
        if self.conversation_id is None:
            return []
        out: list[BaseMessage] = []
        with translate_errors():
            for message in self.client.iter_messages(self.conversation_id, user=self.user):
                out.extend(messages_from_dify(message))
        return out

    async def aget_messages(self) -> list[BaseMessage]:
        """Async :attr:`messages`."""
        if self.conversation_id is None:
            return []
        out: list[BaseMessage] = []
        with translate_errors():
            async for message in self.async_client.iter_messages(
                self.conversation_id, user=self.user
            ):
                out.extend(messages_from_dify(message))
        return out

    # ---------------------------------------------------------------- writing

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Learn the conversation id from the newest Dify ``AIMessage``; write nothing.

        Dify stores every turn when it answers it, and offers no append endpoint.
        """
        found = self._found(messages)
        if found is not None and self._sessions is not None and self.session_id is not None:
            self._sessions.set(self.user, self.session_id, found)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Async :meth:`add_messages` (only the session store does I/O)."""
        found = self._found(messages)
        if found is not None and self._sessions is not None and self.session_id is not None:
            await self._sessions.aset(self.user, self.session_id, found)

    def _found(self, messages: Sequence[BaseMessage]) -> str | None:
        """Follow the conversation of the newest Dify ``AIMessage``; return its id.

        None: nothing to learn.
        """
        answers = [m for m in messages if isinstance(m, AIMessage)]
        for message in reversed(answers):
            conversation_id = message.response_metadata.get("conversation_id")
            if isinstance(conversation_id, str) and conversation_id:
                if conversation_id != self.conversation_id:
                    logger.debug("History now follows Dify conversation %s", conversation_id)
                    self.conversation_id = conversation_id
                return conversation_id
        if answers and self.conversation_id is None:
            # The usual cause: ``RunnableWithMessageHistory(prompt | llm | parser, ...)``
            # hands us the parser's string, so the next turn starts a new conversation.
            logger.warning(
                "DifyChatMessageHistory (session %r) got an AI message without a Dify "
                "conversation_id, so it cannot follow the conversation: the next turn "
                "starts a new one and the memory is lost. Put output parsers outside "
                "RunnableWithMessageHistory: wrap `prompt | ChatDify()` and pipe the "
                "parser after it.",
                self.session_id,
            )
            return None
        logger.debug("add_messages: no Dify AIMessage among %d message(s)", len(messages))
        return None

    def clear(self) -> None:
        """Delete the conversation on the server (no error if it is already gone)."""
        if self.conversation_id is not None:
            try:
                with translate_errors():
                    self.client.delete_conversation(self.conversation_id, user=self.user)
            except NotFoundError:
                logger.debug("Conversation %s was already gone", self.conversation_id)
        self.conversation_id = None
        if self._sessions is not None and self.session_id is not None:
            self._sessions.delete(self.user, self.session_id)

    async def aclear(self) -> None:
        """Async :meth:`clear`."""
        if self.conversation_id is not None:
            try:
                with translate_errors():
                    await self.async_client.delete_conversation(
                        self.conversation_id, user=self.user
                    )
            except NotFoundError:
                logger.debug("Conversation %s was already gone", self.conversation_id)
        self.conversation_id = None
        if self._sessions is not None and self.session_id is not None:
            await self._sessions.adelete(self.user, self.session_id)

    # ------------------------------------------------- the user's conversations

    def list_conversations(self) -> list[Conversation]:
        """This user's conversations (id, ``name``, times), most recently updated first."""
        with translate_errors():
            return list(self.client.iter_conversations(user=self.user))

    async def alist_conversations(self) -> list[Conversation]:
        """Async :meth:`list_conversations`."""
        with translate_errors():
            return [c async for c in self.async_client.iter_conversations(user=self.user)]

    def rename_conversation(
        self,
        name: str | None = None,
        *,
        conversation_id: str | None = None,
        auto_generate: bool = False,
    ) -> Conversation:
        """Rename this history's conversation (or ``conversation_id``, another of the user's).

        ``auto_generate=True`` lets Dify name it from its first question instead.
        """
        with translate_errors():
            return self.client.rename_conversation(
                self._target(conversation_id), user=self.user, name=name,
                auto_generate=auto_generate,
            )  # fmt: skip

    async def arename_conversation(
        self,
        name: str | None = None,
        *,
        conversation_id: str | None = None,
        auto_generate: bool = False,
    ) -> Conversation:
        """Async :meth:`rename_conversation`."""
        with translate_errors():
            return await self.async_client.rename_conversation(
                self._target(conversation_id), user=self.user, name=name,
                auto_generate=auto_generate,
            )  # fmt: skip

    def delete_conversation(self, conversation_id: str) -> None:
        """Delete one of this user's conversations (its own: as :meth:`clear`)."""
        if conversation_id == self.conversation_id:
            self.clear()
            return
        with translate_errors():
            self.client.delete_conversation(conversation_id, user=self.user)

    async def adelete_conversation(self, conversation_id: str) -> None:
        """Async :meth:`delete_conversation`."""
        if conversation_id == self.conversation_id:
            await self.aclear()
            return
        with translate_errors():
            await self.async_client.delete_conversation(conversation_id, user=self.user)

    def _target(self, conversation_id: str | None) -> str:
        target = conversation_id or self.conversation_id
        if not target:
            msg = (
                "This history has no Dify conversation yet (no turn was answered): pass "
                "conversation_id= to name one of the user's conversations."
            )
            raise DifyConfigError(msg)
        return target

    # -------------------------------------------------------------- lifecycle

    def _lazy_clients(self) -> LazyClients[DifyClient, AsyncDifyClient]:
        """This history's clients.

        Histories made by one :meth:`factory` share them: closing one closes the pool
        for all, and the next read builds a new one.
        """
        return self._clients

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(conversation_id={self.conversation_id!r}, "
            f"user={self.user!r}, session_id={self.session_id!r})"
        )
