"""`DifyLLM`: a Dify chat app (chat, chatflow or agent) as a LlamaIndex ``LLM``."""

# LlamaIndex fixes the completion signatures (``formatted``: a chat model has no template).
# ruff: noqa: ARG002

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from llama_index.core.base.llms.generic_utils import (
    achat_to_completion_decorator,
    astream_chat_to_completion_decorator,
    chat_to_completion_decorator,
    stream_chat_to_completion_decorator,
)
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import ConfigDict, Field
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS
from llama_index.core.instrumentation.span import active_span_id
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.llm import LLM

from dify_transport import AsyncDifyClient, DifyClient, trace_headers
from dify_transport.turns import (
    aname_conversation,
    aupload_files,
    auto_generate_name,
    name_conversation,
    upload_files,
)
from dify_transport.types import FileInput
from llama_index_dify._agent_steps import AgentToolEvents
from llama_index_dify._answers import AnswerActions
from llama_index_dify._app_tools import DifyChatTool, DifyQueryEngine
from llama_index_dify._clients import AppClientsOwner
from llama_index_dify._messages import (
    DifyTurn,
    PriorTurns,
    build_turn,
    response_from_event,
    response_from_result,
)
from llama_index_dify._structured import StructuredPredict

__all__ = ["DifyLLM"]

logger = logging.getLogger(__name__)

_CALL_KWARGS = frozenset(
    {"conversation_id", "user", "inputs", "files", "auto_generate_name", "answer_format"}
)


@dataclass(frozen=True, slots=True)
class _Call:
    """One resolved request: the turn plus the per-call options."""

    turn: DifyTurn
    user: str
    inputs: dict[str, Any]
    auto_generate_name: bool | None

    def stream_kwargs(self, files: list[FileInput]) -> dict[str, Any]:
        return {
            # the instrumentation span of this call: joins Dify's trace to LlamaIndex's
            "extra_headers": trace_headers(active_span_id.get()) or None,
            "user": self.user,
            "conversation_id": self.turn.conversation_id,
            "inputs": self.inputs or None,
            "files": files or None,
            "auto_generate_name": auto_generate_name(self.auto_generate_name, self.turn.name),
        }


class DifyLLM(AnswerActions, StructuredPredict, AppClientsOwner, LLM):
    """A Dify chat app (chat, chatflow or agent) as a LlamaIndex ``LLM``.

    Dify keeps conversations on the server, per ``(app, user, conversation_id)``.
    A ``ChatMessage`` that came back from Dify carries its ``conversation_id`` in
    ``additional_kwargs``; put it back in the message list and the next call
    continues that conversation, sending only the new user turns. The conversation
    is chosen in this order: the ``conversation_id=`` call kwarg, this model's
    ``conversation_id`` field, the newest assistant message carrying one, else a
    new conversation (``conversation_id=None`` as a call kwarg forces a new one).
    Earlier turns and system messages that Dify has not seen are
    never dropped: they go as a compact ``role: text`` transcript in the query (or,
    on a new conversation's first turn, system messages to the app input named by
    ``system_variable``). Dify stores no system messages and ignores ``inputs`` once
    a conversation continues, so when continuing, the list's system messages
    (wherever they stand) go as ``system:`` lines before the new user turn(s).
    ``prior_turns="drop"`` opts out: only the trailing user turn(s) are sent.

    Every call streams (agent apps reject blocking calls; long answers survive
    gateways that cut blocking calls); ``chat()`` aggregates the same stream.
    Stopping a stream early stops the Dify task. Errors are ``dify_transport``'s.

    Setup:
        Set ``DIFY_API_KEY`` (an ``app-...`` key) and, for self-hosted Dify,
        ``DIFY_BASE_URL`` (ending in ``/v1``). Set ``DIFY_USER`` or pass ``user=``.

    Examples:
        ```python
        from llama_index.core.llms import ChatMessage
        from llama_index_dify import DifyLLM

        llm = DifyLLM(user="alice")
        reply = llm.chat([ChatMessage(role="user", content="What is Dify?")])
        print(reply.message.content)
        print(reply.message.additional_kwargs["conversation_id"])

        # Continue: the reply carries its conversation id.
        history = [ChatMessage(role="user", content="What is Dify?"), reply.message]
        history.append(ChatMessage(role="user", content="Who makes it?"))
        for chunk in llm.stream_chat(history):
            print(chunk.delta, end="")
        # chunk.additional_kwargs: usage, retriever_resources, finish_reason, ...

        # Async: `await llm.achat(...)`, `async for c in await llm.astream_chat(...)`.
        ```
    """

    # A Dify app fixes its model and sampling settings on the server: ``temperature``
    # and ``max_tokens`` are accepted and not sent; any other unknown keyword (a typo)
    # is an error, not silently ignored.
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    conversation_id: str | None = Field(
        default=None,
        description="Conversation to continue on every call (a call kwarg overrides it).",
    )
    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="App input variables sent with every call (call `inputs=` are merged over).",
    )
    system_variable: str | None = Field(
        default=None,
        description=(
            "App input receiving system messages on a new conversation's first turn "
            "(None: they go in the query transcript)."
        ),
    )
    prior_turns: PriorTurns = Field(
        default="transcript",
        description=(
            "'transcript': turns Dify has not seen (and, when continuing, system messages) "
            "go in the query as `role: text` lines; 'drop': only the trailing user turn(s)."
        ),
    )
    model: str = Field(
        default="dify",
        description="Label reported as `model_name` (the Dify app owns the real model).",
    )
    context_window: int = Field(
        default=DEFAULT_CONTEXT_WINDOW,
        gt=0,
        description="Context window reported in `metadata` (the app decides the real one).",
    )
    num_output: int = Field(
        default=DEFAULT_NUM_OUTPUTS,
        gt=0,
        description="Output tokens reported in `metadata`.",
    )
    temperature: float | None = Field(
        default=None,
        description=(
            "Accepted, never sent: a Dify app fixes its model and sampling settings on the "
            "server (ChatDify has the same policy). `temperature` and `max_tokens` are taken "
            "because tools pass them to any model; other unknown keywords are errors."
        ),
    )
    max_tokens: int | None = Field(
        default=None, description="Accepted, never sent (see `temperature`)."
    )

    @classmethod
    def class_name(cls) -> str:
        """Return the class name used in payloads and serialization."""
        return "DifyLLM"

    @property
    def metadata(self) -> LLMMetadata:
        """LLM metadata: a chat model without function calling."""
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.num_output,
            is_chat_model=True,
            is_function_calling_model=False,
            model_name=self.model,
            system_role=MessageRole.SYSTEM,
        )

    # -- as a tool or query engine (see ``_app_tools``) -----------------------------------

    def as_tool(self, name: str | None = None, description: str | None = None) -> DifyChatTool:
        """This app as an agent tool, ``query`` in, the answer out (reads ``GET /info``)."""
        return DifyChatTool.from_llm(self, name=name, description=description)

    async def aas_tool(
        self, name: str | None = None, description: str | None = None
    ) -> DifyChatTool:
        """Async `as_tool`."""
        return await DifyChatTool.afrom_llm(self, name=name, description=description)

    def as_query_engine(self) -> DifyQueryEngine:
        """This app as a query engine (each query a new conversation)."""
        return DifyQueryEngine(self)

    # -- clients ---------------------------------------------------------------------

    @property
    def _answer_user(self) -> str:
        return self.user

    def _get_client(self) -> DifyClient:
        return self._app_clients().sync()

    def _get_aclient(self) -> AsyncDifyClient:
        return self._app_clients().async_()

    # -- request building --------------------------------------------------------------

    def _prepare(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> _Call:
        unknown = set(kwargs) - _CALL_KWARGS
        if unknown:
            logger.debug("DifyLLM ignores unsupported call kwargs: %s", sorted(unknown))
        explicit = "conversation_id" in kwargs
        turn = build_turn(
            messages,
            conversation_id=kwargs["conversation_id"] if explicit else self.conversation_id,
            use_history_id=not explicit,
            system_variable=self.system_variable,
            prior_turns=self.prior_turns,
            answer_format=kwargs.get("answer_format"),
        )
        extra_files: list[FileInput] = list(kwargs.get("files") or ())
        if extra_files:
            turn = replace(turn, files=(*turn.files, *extra_files))
        return _Call(
            turn=turn,
            user=kwargs.get("user") or self.user,
            inputs={**self.inputs, **turn.inputs, **(kwargs.get("inputs") or {})},
            auto_generate_name=kwargs.get("auto_generate_name"),
        )

    # -- the one streaming path (sync and async) ----------------------------------------

    def _iter_chat(self, call: _Call) -> ChatResponseGen:
        client = self._get_client()
        files = upload_files(client, call.turn.files, user=call.user)
        text, steps = "", AgentToolEvents(self.callback_manager)
        with client.stream_chat(call.turn.query, **call.stream_kwargs(files)) as stream:
            for event in stream:
                steps.feed(event)  # an agent app's tool calls, as tool events
                response = response_from_event(event, text)
                if response is not None:
                    text += response.delta or ""
                    yield response
            result = stream.final()
        steps.finish()
        name_conversation(client, result.conversation_id, call.turn.name, user=call.user)
        yield response_from_result(result, model=self.model, delta="", user=call.user)

    async def _aiter_chat(self, call: _Call) -> ChatResponseAsyncGen:
        client = self._get_aclient()
        files = await aupload_files(client, call.turn.files, user=call.user)
        text, steps = "", AgentToolEvents(self.callback_manager)
        stream = await client.stream_chat(call.turn.query, **call.stream_kwargs(files))
        async with stream:
            async for event in stream:
                steps.feed(event)
                response = response_from_event(event, text)
                if response is not None:
                    text += response.delta or ""
                    yield response
            result = await stream.final()
        steps.finish()
        await aname_conversation(client, result.conversation_id, call.turn.name, user=call.user)
        yield response_from_result(result, model=self.model, delta="", user=call.user)

    # -- chat ------------------------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Send the turn and return the whole answer (the stream, aggregated).

        Args:
            messages: The conversation, oldest first.
            **kwargs: ``conversation_id`` (None forces a new conversation),
                ``user``, ``inputs``, ``files`` (extra Dify file dicts),
                ``auto_generate_name``.

        Returns:
            The answer; ``message.additional_kwargs`` holds the ids, the response's
            ``additional_kwargs`` usage, retriever_resources and finish_reason.
        """
        call = self._prepare(messages, kwargs)
        last: ChatResponse | None = None
        for last in self._iter_chat(call):  # noqa: B007 - the final response is the answer
            pass
        assert last is not None  # the generator always ends with the final response
        return last.model_copy(update={"delta": None})

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        """Stream the answer: cumulative ``message`` plus ``delta`` per response.

        The last response has ``delta == ""`` and carries the final message (the
        moderation replacement if ``message_replace`` fired) with usage and
        retriever_resources. Leaving the loop early stops the Dify task.

        Args:
            messages: The conversation, oldest first.
            **kwargs: As for :meth:`chat`.

        Returns:
            A generator of responses (nothing is sent until it is iterated).
        """
        return self._iter_chat(self._prepare(messages, kwargs))

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async :meth:`chat`."""
        call = self._prepare(messages, kwargs)
        last: ChatResponse | None = None
        async for last in self._aiter_chat(call):  # noqa: B007 - the final response is the answer
            pass
        assert last is not None  # the generator always ends with the final response
        return last.model_copy(update={"delta": None})

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        """Async :meth:`stream_chat`: ``async for r in await llm.astream_chat(...)``."""
        return self._aiter_chat(self._prepare(messages, kwargs))

    # -- completion (thin adapters over chat) -------------------------------------------------

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Send ``prompt`` as one user turn; see :meth:`chat`."""
        return chat_to_completion_decorator(self.chat)(prompt, **kwargs)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Stream ``prompt`` as one user turn; see :meth:`stream_chat`."""
        return stream_chat_to_completion_decorator(self.stream_chat)(prompt, **kwargs)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async :meth:`complete`."""
        return await achat_to_completion_decorator(self.achat)(prompt, **kwargs)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async :meth:`stream_complete`."""
        return await astream_chat_to_completion_decorator(self.astream_chat)(prompt, **kwargs)
