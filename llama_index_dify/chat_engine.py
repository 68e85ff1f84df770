"""`DifyChatEngine`: a chat engine whose memory is the Dify conversation itself."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    MessageRole,
)
from llama_index.core.callbacks import CallbackManager, trace_method
from llama_index.core.chat_engine.types import (
    AgentChatResponse,
    BaseChatEngine,
    StreamingAgentChatResponse,
)

from dify_transport import APIError, AsyncDifyClient, DifyClient
from llama_index_dify._answers import AnswerActions
from llama_index_dify._app_tools import DifyChatTool, DifyQueryEngine
from llama_index_dify._clients import ClientsOwner, LazyClients
from llama_index_dify._messages import conversation_anchor, messages_from_history
from llama_index_dify._nodes import nodes_from_resources
from llama_index_dify.llms import DifyLLM

__all__ = ["DifyChatEngine", "DifyStreamingChatResponse"]


@dataclass
class DifyStreamingChatResponse(StreamingAgentChatResponse):
    """A ``StreamingAgentChatResponse`` that completes itself when the stream ends.

    Iterate ``response_gen`` (or ``async_response_gen()``) for the text deltas. When
    the stream ends, ``source_nodes`` holds the cited passages, ``metadata`` the
    ids, usage, retriever_resources and finish_reason, ``message`` the final assistant
    message (with its ``conversation_id``) and ``response`` the final text (the
    moderation replacement when Dify sent ``message_replace``).
    """

    metadata: dict[str, Any] = field(default_factory=dict)
    message: ChatMessage | None = None

    def _complete(self, final: ChatResponse) -> None:
        self.message = final.message
        self.metadata.update(final.additional_kwargs)
        self.source_nodes.extend(
            nodes_from_resources(final.additional_kwargs.get("retriever_resources") or [])
        )

    @property
    def response_gen(self) -> Generator[str, None, None]:
        """Yield the text deltas as they arrive (leaving early stops the Dify task)."""
        try:
            yield from super().response_gen
        finally:
            if self.chat_stream is not None:
                self.chat_stream.close()
        if self.message is not None:
            self.response = self.message.content or ""

    async def async_response_gen(self) -> AsyncGenerator[str, None]:
        """Yield the text deltas as they arrive (leaving early stops the Dify task)."""
        try:
            async for delta in super().async_response_gen():
                yield delta
        finally:
            if self.achat_stream is not None:
                await self.achat_stream.aclose()
        if self.message is not None:
            self.response = self.message.content or ""


class DifyChatEngine(AnswerActions, ClientsOwner[DifyClient, AsyncDifyClient], BaseChatEngine):
    """Chat with a Dify app; Dify keeps the memory, the engine keeps the conversation id.

    Each turn goes to the same Dify conversation; ``reset()`` starts a new one
    (optionally deleting the old one) and ``chat_history`` reads the turns back
    from Dify. ``system_prompt`` / ``prefix_messages`` go with the first turn (and
    the first after each ``reset()``); there is no ``memory=`` (Dify keeps it).
    Responses carry the cited passages as ``source_nodes`` and the ids,
    usage and retriever_resources in ``metadata``.

    Build it from a :class:`DifyLLM`, from a transport client
    (``DifyChatEngine(client=DifyClient(...))``) or from plain configuration
    (``DifyChatEngine(api_key=..., base_url=..., user=...)``); keyword arguments
    other than the engine's own go to :class:`DifyLLM`.

    Examples:
        ```python
        from llama_index_dify import DifyChatEngine

        engine = DifyChatEngine.from_defaults(user="alice")
        print(engine.chat("What is Dify?"))
        streaming = engine.stream_chat("And who makes it?")
        for delta in streaming.response_gen:
            print(delta, end="")
        print(streaming.source_nodes, streaming.metadata["conversation_id"])
        engine.reset(delete=True)  # a new conversation; the old one is deleted
        ```
    """

    def __init__(
        self,
        llm: DifyLLM | None = None,
        *,
        conversation_id: str | None = None,
        chat_history: Sequence[ChatMessage] | None = None,
        system_prompt: str | None = None,
        prefix_messages: Sequence[ChatMessage] | None = None,
        delete_on_reset: bool = False,
        callback_manager: CallbackManager | None = None,
        **llm_kwargs: Any,
    ) -> None:
        """Create an engine.

        Args:
            llm: The model to talk through; built from ``llm_kwargs`` when None.
            conversation_id: A Dify conversation to continue (default: the
                model's own ``conversation_id``, else a new one).
            chat_history: Earlier messages: a Dify reply in them gives the
                conversation; turns Dify has not seen go with the next message.
            system_prompt: A system message sent with the engine's first turn
                (again with the first turn after each ``reset()``): in the query
                transcript, or in the app input named by the model's
                ``system_variable`` when that turn starts a new conversation.
            prefix_messages: Messages sent before the first turn's message, like
                ``system_prompt`` (which comes first).
            delete_on_reset: Whether ``reset()`` deletes the old conversation.
            callback_manager: Legacy callback manager (default: the model's).
            **llm_kwargs: :class:`DifyLLM` fields (``api_key``, ``base_url``,
                ``user``, ``inputs``, ``client``, ``http_client``...).

        Raises:
            TypeError: For ``memory=`` (Dify keeps the memory on the server), for
                ``llm`` together with model fields, and for unknown keywords.
        """
        if "memory" in llm_kwargs:
            msg = (
                "DifyChatEngine takes no memory=: Dify keeps each conversation's memory "
                "on the server, and the engine only keeps its conversation id. Pass "
                "chat_history= (or prefix_messages=) for turns Dify has not seen, and "
                "use reset() to start a new conversation."
            )
            raise TypeError(msg)
        if llm is not None and llm_kwargs:
            msg = f"Pass either llm or DifyLLM fields, not both (got {sorted(llm_kwargs)})."
            raise TypeError(msg)
        self._llm = llm if llm is not None else DifyLLM(**llm_kwargs)
        self._conversation_id = conversation_id or self._llm.conversation_id
        self._pending: list[ChatMessage] = []
        self._prefix: list[ChatMessage] = [
            *(
                [ChatMessage(role=MessageRole.SYSTEM, content=system_prompt)]
                if system_prompt
                else []
            ),
            *(prefix_messages or ()),
        ]
        self._prefix_due = bool(self._prefix)
        self._delete_on_reset = delete_on_reset
        self.callback_manager = callback_manager or self._llm.callback_manager
        if chat_history is not None:
            self._adopt(chat_history)

    @classmethod
    def from_defaults(
        cls,
        llm: DifyLLM | None = None,
        chat_history: Sequence[ChatMessage] | None = None,
        conversation_id: str | None = None,
        delete_on_reset: bool = False,
        *,
        system_prompt: str | None = None,
        prefix_messages: Sequence[ChatMessage] | None = None,
        **kwargs: Any,
    ) -> DifyChatEngine:
        """Create an engine the way core engines are created (see ``__init__``)."""
        return cls(
            llm,
            conversation_id=conversation_id,
            chat_history=chat_history,
            system_prompt=system_prompt,
            prefix_messages=prefix_messages,
            delete_on_reset=delete_on_reset,
            **kwargs,
        )

    @classmethod
    def class_name(cls) -> str:
        """Return the class name."""
        return "DifyChatEngine"

    @property
    def llm(self) -> DifyLLM:
        """The model the engine talks through."""
        return self._llm

    @property
    def _answer_user(self) -> str:
        return self._llm.user

    @property
    def conversation_id(self) -> str | None:
        """The Dify conversation the next turn goes to (None: a new one)."""
        return self._conversation_id

    def as_tool(self, name: str | None = None, description: str | None = None) -> DifyChatTool:
        """The engine's app as an agent tool (`DifyLLM.as_tool`; its own conversations)."""
        return self._llm.as_tool(name=name, description=description)

    def as_query_engine(self) -> DifyQueryEngine:
        """The engine's app as a query engine (`DifyLLM.as_query_engine`)."""
        return self._llm.as_query_engine()

    def _lazy_clients(self) -> LazyClients[DifyClient, AsyncDifyClient]:
        return self._llm._app_clients()  # the model's: closing the engine closes them

    # -- state -----------------------------------------------------------------------

    def _adopt(self, history: Sequence[ChatMessage]) -> None:
        anchor = conversation_anchor(history)
        if anchor is None:
            self._conversation_id, self._pending = None, list(history)
        else:
            self._conversation_id = anchor[1]
            self._pending = list(history[anchor[0] + 1 :])

    def _messages(
        self, message: str | ChatMessage, chat_history: Sequence[ChatMessage] | None
    ) -> list[ChatMessage]:
        if chat_history is not None:
            self._adopt(chat_history)
        if not isinstance(message, ChatMessage):
            message = ChatMessage(role=MessageRole.USER, content=message)
        prefix = self._prefix if self._prefix_due else []
        return [*prefix, *self._pending, message]

    def _learn(self, final: ChatResponse) -> None:
        self._follow(final.message.additional_kwargs.get("conversation_id"))

    def _follow(self, conversation_id: object) -> None:
        """The turn reached Dify: follow its conversation; what was pending was sent."""
        self._pending, self._prefix_due = [], False
        if isinstance(conversation_id, str) and conversation_id:
            self._conversation_id = conversation_id

    def _failed(self, exc: APIError) -> None:
        """Keep the conversation a failed turn started or continued (Dify has that turn).

        An error raised after Dify opened the stream carries the ``conversation_id``;
        the next turn continues that conversation instead of starting a new one.
        """
        if exc.conversation_id:
            self._follow(exc.conversation_id)

    def _abandoned(self, seen: dict[str, Any], out: DifyStreamingChatResponse) -> None:
        """A stream left early (break, close, cancel): keep the conversation it reached."""
        if out.message is None and seen.get("conversation_id"):
            self._follow(seen["conversation_id"])

    def _answer(self, final: ChatResponse) -> AgentChatResponse:
        self._learn(final)
        return AgentChatResponse(
            response=final.message.content or "",
            source_nodes=nodes_from_resources(
                final.additional_kwargs.get("retriever_resources") or []
            ),
            metadata=dict(final.additional_kwargs),
        )

    def _watch(self, chunks: ChatResponseGen, out: DifyStreamingChatResponse) -> ChatResponseGen:
        seen: dict[str, Any] = {}  # the ids of the deltas, kept if the stream is abandoned
        try:
            for chunk in chunks:
                if chunk.delta:
                    seen = chunk.message.additional_kwargs
                    yield chunk
                else:  # the final response: delta == "", full message and metadata
                    self._learn(chunk)
                    out._complete(chunk)
        except APIError as exc:
            self._failed(exc)
            raise
        finally:
            chunks.close()
            self._abandoned(seen, out)

    async def _awatch(
        self, chunks: ChatResponseAsyncGen, out: DifyStreamingChatResponse
    ) -> ChatResponseAsyncGen:
        seen: dict[str, Any] = {}
        try:
            async for chunk in chunks:
                if chunk.delta:
                    seen = chunk.message.additional_kwargs
                    yield chunk
                else:
                    self._learn(chunk)
                    out._complete(chunk)
        except APIError as exc:
            self._failed(exc)
            raise
        finally:
            await chunks.aclose()
            self._abandoned(seen, out)

    # -- BaseChatEngine ----------------------------------------------------------------

    @trace_method("chat")
    def chat(
        self, message: str | ChatMessage, chat_history: list[ChatMessage] | None = None
    ) -> AgentChatResponse:
        """Send one turn to the conversation and return the answer.

        Args:
            message: The user's message (text, or a ``ChatMessage`` with images).
            chat_history: Replaces the engine's state: a Dify reply in it gives
                the conversation; unseen turns go along with ``message``.

        Returns:
            The answer, with ``source_nodes`` and ``metadata``.

        Raises:
            APIError: The transport's errors; one raised mid-stream carries the
                ``conversation_id``, which the engine keeps for the next turn.
        """
        messages = self._messages(message, chat_history)
        try:
            final = self._llm.chat(messages, conversation_id=self._conversation_id)
        except APIError as exc:
            self._failed(exc)
            raise
        return self._answer(final)

    @trace_method("chat")
    def stream_chat(
        self, message: str | ChatMessage, chat_history: list[ChatMessage] | None = None
    ) -> DifyStreamingChatResponse:
        """Send one turn and stream the answer (``response_gen`` yields deltas)."""
        messages = self._messages(message, chat_history)
        out = DifyStreamingChatResponse(is_writing_to_memory=False)
        chunks = self._llm.stream_chat(messages, conversation_id=self._conversation_id)
        out.chat_stream = self._watch(chunks, out)
        return out

    @trace_method("chat")
    async def achat(
        self, message: str | ChatMessage, chat_history: list[ChatMessage] | None = None
    ) -> AgentChatResponse:
        """Async :meth:`chat`."""
        messages = self._messages(message, chat_history)
        try:
            final = await self._llm.achat(messages, conversation_id=self._conversation_id)
        except APIError as exc:
            self._failed(exc)
            raise
        return self._answer(final)

    @trace_method("chat")
    async def astream_chat(
        self, message: str | ChatMessage, chat_history: list[ChatMessage] | None = None
    ) -> DifyStreamingChatResponse:
        """Async :meth:`stream_chat` (iterate ``async_response_gen()``)."""
        messages = self._messages(message, chat_history)
        out = DifyStreamingChatResponse(is_writing_to_memory=False)
        chunks = await self._llm.astream_chat(messages, conversation_id=self._conversation_id)
        out.achat_stream = self._awatch(chunks, out)
        return out

    def reset(self, *, delete: bool | None = None) -> None:
        """Start a new conversation with the next turn.

        Args:
            delete: Also delete the old conversation in Dify (default:
                ``delete_on_reset``).
        """
        old, self._conversation_id, self._pending = self._conversation_id, None, []
        self._prefix_due = bool(self._prefix)
        if old and (self._delete_on_reset if delete is None else delete):
            self._llm._get_client().delete_conversation(old, user=self._llm.user)

    async def areset(self, *, delete: bool | None = None) -> None:
        """Async :meth:`reset`."""
        old, self._conversation_id, self._pending = self._conversation_id, None, []
        self._prefix_due = bool(self._prefix)
        if old and (self._delete_on_reset if delete is None else delete):
            await self._llm._get_aclient().delete_conversation(old, user=self._llm.user)

    @property
    def chat_history(self) -> list[ChatMessage]:
        """The conversation as Dify recorded it (read from Dify), oldest first."""
        history: list[ChatMessage] = []
        if self._conversation_id is not None:
            client = self._llm._get_client()
            for item in client.iter_messages(self._conversation_id, user=self._llm.user):
                history.extend(messages_from_history(item))
        return [*history, *self._pending]

    async def aget_chat_history(self) -> list[ChatMessage]:
        """Async :attr:`chat_history`."""
        history: list[ChatMessage] = []
        if self._conversation_id is not None:
            client = self._llm._get_aclient()
            async for item in client.iter_messages(self._conversation_id, user=self._llm.user):
                history.extend(messages_from_history(item))
        return [*history, *self._pending]
