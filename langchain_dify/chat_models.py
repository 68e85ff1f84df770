"""``ChatDify``: a Dify chat, advanced-chat (chatflow) or agent app as a LangChain chat model."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.caches import BaseCache
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LangSmithParams
from langchain_core.language_models.base import LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, Field, SecretStr

from dify_transport import (
    DEFAULT_USER,
    trace_headers,
)
from dify_transport.turns import (
    aname_conversation,
    aupload_files,
    auto_generate_name,
    name_conversation,
    upload_files,
)
from langchain_dify._agent_steps import AgentToolRuns, AsyncAgentToolRuns
from langchain_dify._answers import AnswerActions
from langchain_dify._chat_pause import asettle, settle
from langchain_dify._clients import AppClientOwner, secret_value
from langchain_dify._errors import translate_errors
from langchain_dify._messages import (
    DifyTurn,
    PriorTurns,
    TurnChunks,
    build_turn,
)
from langchain_dify._request_user import RequestUserChatModel
from langchain_dify._results import aemit, aggregate_chunks, emit, moderated
from langchain_dify._session_store import SessionStore
from langchain_dify._structured import StructuredMethod, structured_runnable, tools_error
from langchain_dify.tools import DifyAppTool

__all__ = ["DEFAULT_USER", "ChatDify"]

_CALL_KWARGS = frozenset({"conversation_id", "inputs", "user", "files"})
_IGNORED_KWARGS = frozenset({"stream"})  # set by BaseChatModel itself
_BOUND_KWARGS = frozenset({"answer_format"})  # bound by with_structured_output
_RUN_ID = "_dify_run_id"  # _generate -> _stream: the run id, sent as X-Trace-Id


class ChatDify(AnswerActions, AppClientOwner, RequestUserChatModel):
    """A Dify chat app (chat, advanced-chat/chatflow or agent) as a LangChain chat model.

    Dify keeps each conversation's memory on the server, per app, ``user`` and
    ``conversation_id``. ``ChatDify`` sends one new turn at a time and continues the
    conversation of the newest ``AIMessage`` it was given, so a Dify answer put back
    into a message list simply continues its conversation.

    Setup:
        Install ``dify-integrations`` and point it at an app:

        ```bash
        export DIFY_API_KEY="app-..."
        export DIFY_BASE_URL="https://api.dify.ai/v1"   # or your server's /v1
        export DIFY_USER="alice"                        # optional end-user id
        ```

    Instantiate:
        ```python
        from langchain_dify import ChatDify

        llm = ChatDify(model="support-bot")  # label; the app chooses the LLM
        ```

    Invoke:
        ```python
        msg = llm.invoke("What does the warranty cover?")
        msg.content  # the answer
        msg.response_metadata["conversation_id"]
        ```

    Stream:
        ```python
        for chunk in llm.stream("Summarise the manual"):
            print(chunk.text, end="")
        ```

        Breaking out of the loop stops the Dify task (Dify would otherwise keep
        generating and billing).

    Async:
        ```python
        msg = await llm.ainvoke("Hello")
        async for chunk in llm.astream("Hello"):
            ...
        ```

    Closing:
        ```python
        with ChatDify() as llm:  # or ``async with``; or llm.close() / await llm.aclose()
            llm.invoke("Hello")
        ```

        Closes the connection pools the model built (an injected ``http_client`` is
        yours and stays open); ``aclose``/``async with`` also close the async one.

    Conversation:
        ```python
        from langchain_core.messages import HumanMessage

        first = llm.invoke("My name is Ada.")
        # Continues first's conversation; only the new question is sent:
        llm.invoke([HumanMessage("My name is Ada."), first, HumanMessage("My name?")])
        # Or pin one explicitly (per call or per model, also via ``bind``):
        llm.invoke("And now?", conversation_id=first.response_metadata["conversation_id"])
        ```

        Without a conversation to continue, earlier turns and system messages in the
        list are carried in the query as a compact transcript
        (``prior_turns="transcript"``); ``system_input="..."`` sends system text to an
        app input variable instead, on a new conversation's first turn. When continuing
        a conversation, the list's system messages (wherever they stand: a prompt's
        ``("system", "context: {context}")`` before the history too) are carried as
        ``System:`` lines before the new human turn(s), since Dify stores no system
        messages and ignores ``inputs`` after the first turn; ``prior_turns="drop"``
        sends only the new human turn(s).

    Usage metadata:
        ```python
        msg.usage_metadata
        # {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42}
        ```

    Response metadata:
        ``model_name``, ``model_provider`` (``"dify"``), ``conversation_id``,
        ``message_id``, ``task_id``, ``retriever_resources`` (citations as Dify sent
        them), ``usage`` (Dify's usage with prices, currency and latency),
        ``finish_reason``; agent apps add ``agent_thoughts``; output moderation adds
        ``message_replace``: ``invoke``/``batch`` (and their async forms) return the
        replacement as the content, also when they stream (``streaming=True``,
        streaming callbacks, ``astream_events``); a stream cannot take back tokens it
        yielded, so its last chunk carries the replacement in ``response_metadata``.
        A stream's first chunk carries ``conversation_id``, ``message_id``, ``task_id``
        and ``user`` (stop and feedback can be offered at once); the last chunk the rest.

    Structured output, content blocks, feedback:
        ``with_structured_output(Model).invoke(...)`` returns a validated ``Model``
        (the schema travels in the query); ``bind_tools`` raises
        ``DifyToolCallingError``. ``msg.content_blocks`` gives reasoning blocks and the
        text with one citation annotation per cited passage. ``send_feedback(msg,
        "like")`` and ``suggested_questions(msg)`` act on an answer; ``client`` /
        ``async_client`` reach every other endpoint.

    Caching:
        Off by default (``cache=False``), even under ``set_llm_cache``: every Dify turn
        changes server-side conversation state, so a repeated question must reach
        Dify. An explicitly enabled cache is keyed on a fingerprint of the app key
        (``api_key_fingerprint``, never the key), ``base_url``, ``user`` and the other
        settings, so entries never cross apps.

    Errors:
        Every failure is both the transport's error and langchain-core's: for example
        ``DifyAuthenticationError`` is a ``dify_transport.AuthenticationError`` and a
        ``ModelAuthenticationError``. Errors raised mid-stream keep the
        ``partial_answer`` and ids; an unknown conversation names the ``user`` sent.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default="dify", alias="model_name")
    """A label for the app (the app's own settings choose the LLM).

    Reported as ``response_metadata["model_name"]`` and to LangSmith."""

    conversation_id: str | None = None
    """Continue this conversation on every call (a call kwarg still wins)."""

    inputs: dict[str, Any] = Field(default_factory=dict)
    """Values for the app's input variables, sent with every turn (merged with the
    call's ``inputs``). Dify keeps a conversation's first inputs for its later turns."""

    system_input: str | None = None
    """Name of an app input variable that receives the system message text on a new
    conversation's first turn (unset, or continuing: the transcript carries it unless
    ``prior_turns="drop"``; see Conversation above)."""

    prior_turns: PriorTurns = "transcript"
    """What to send of earlier turns Dify has not seen (when there is no conversation
    to continue, or after its newest ``AIMessage``) and, when continuing, of the list's
    system messages: ``"transcript"`` carries them in the query as ``System: ... /
    Human: ... / AI: ...`` lines; ``"drop"`` sends only the trailing human turn(s)."""

    auto_generate_name: bool = True
    """Let Dify generate a conversation title for new conversations (one extra LLM
    call on the server)."""

    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    """Stop sequences, applied on the client (Dify fixes them in the app's settings):
    the answer is cut before the first match and the Dify task is stopped."""

    temperature: float | None = None
    """Accepted, never sent: a Dify app fixes its model and sampling settings on the
    server (``DifyLLM`` has the same policy). The standard fields ``temperature`` and
    ``max_tokens`` are taken because tools pass them to every chat model; any other
    unknown keyword is an error, and so is a sampling option given per call."""

    max_tokens: int | None = None
    """Accepted, never sent (see ``temperature``): the app's settings decide."""

    streaming: bool | None = None
    """Make ``invoke`` go through ``stream`` so callbacks see every token.

    Either way ``invoke`` reads Dify's stream, so agent apps work. None (default):
    only when a streaming handler asks (``astream_events``, LangGraph's ``messages``
    stream mode), also in a copy ``configurable_fields`` builds; ``False``:
    aggregate without ``on_llm_new_token`` callbacks."""

    cache: BaseCache | bool | None = Field(default=False, exclude=True)
    """LLM caching, off by default (see Caching above): pass ``cache=True`` (the global
    cache) or a ``BaseCache`` only for stateless one-shot questions."""

    # ------------------------------------------------------------------ tools

    def as_tool(  # type: ignore[override]
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        conversations: SessionStore | None = None,
    ) -> DifyAppTool:
        """This app as a tool, ``query`` in, the answer out (`DifyAppTool`; reads ``/info``)."""
        return DifyAppTool.from_chat_model(
            self, name=name, description=description, conversations=conversations
        )

    async def aas_tool(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        conversations: SessionStore | None = None,
    ) -> DifyAppTool:
        """Async `as_tool`."""
        return await DifyAppTool.afrom_chat_model(
            self, name=name, description=description, conversations=conversations
        )

    # --------------------------------------------------------- structured output

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | None = None,  # noqa: ARG002 - part of the standard signature
        **kwargs: Any,  # noqa: ARG002
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Raise `DifyToolCallingError`: a Dify app decides its tools on the server.

        Use a Dify agent app (tools configured in Dify), or make Dify workflows tools
        of another model with ``DifyWorkflow(...).as_tool()``.
        """
        raise tools_error(tools)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredMethod = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Answers parsed into ``schema`` (pydantic model, TypedDict or JSON Schema).

        The schema and "reply with one JSON object" go into the query (Dify has no
        JSON mode); the answer is parsed, validated (pydantic) or checked for the
        required fields (dicts). ``method``: ``"json_schema"`` (default; also
        ``"function_calling"``, which Dify cannot do client-side) or ``"json_mode"``
        (``schema`` optional). ``strict`` is accepted and has no effect. Streaming
        yields partial objects. A malformed answer raises `DifyOutputParserError`
        (an ``OutputParserException`` with the raw text); with ``include_raw=True``
        the result is ``{"raw", "parsed", "parsing_error"}`` instead.
        """
        if kwargs:
            msg = f"with_structured_output() got unexpected arguments {sorted(kwargs)}."
            raise TypeError(msg)
        return structured_runnable(
            self, schema, method=method, include_raw=include_raw, strict=strict
        )

    # --------------------------------------------------------------- metadata

    @property
    def _llm_type(self) -> str:
        return "dify-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "api_key_fingerprint": _fingerprint(self.api_key),
            "base_url": self.base_url,
            "user": self.user,
            "inputs": self.inputs,
            "conversation_id": self.conversation_id,
            "system_input": self.system_input,
            "prior_turns": self.prior_turns,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="dify",
            ls_model_name=kwargs.get("model", self.model),
            ls_model_type="chat",
        )
        if stop := stop or self.stop:
            params["ls_stop"] = stop
        return params

    # ----------------------------------------------------------- the one call

    def _turn(
        self, messages: Sequence[BaseMessage], kwargs: Mapping[str, Any]
    ) -> tuple[DifyTurn, str, list[dict[str, Any]]]:
        """Resolve the Dify turn, the user and the caller's extra files for one call."""
        unknown = set(kwargs) - _CALL_KWARGS - _IGNORED_KWARGS - _BOUND_KWARGS
        if unknown:
            msg = (
                f"ChatDify does not accept {sorted(unknown)}: a Dify app fixes its model "
                f"and sampling settings on the server. Per-call options: {sorted(_CALL_KWARGS)}."
            )
            raise TypeError(msg)
        turn = build_turn(
            messages,
            conversation_id=kwargs.get("conversation_id") or self.conversation_id,
            inputs={**self.inputs, **(kwargs.get("inputs") or {})},
            system_input=self.system_input,
            prior_turns=self.prior_turns,
            answer_format=kwargs.get("answer_format"),
        )
        user = kwargs.get("user") or self.user
        return turn, user, list(kwargs.get("files") or [])

    def _chunks(self, stop: list[str] | None, user: str | None = None) -> TurnChunks:
        return TurnChunks(self.model, stop if stop is not None else self.stop, user)

    def _stream_kwargs(
        self, turn: DifyTurn, user: str, files: list[Any], run_id: object
    ) -> dict[str, Any]:
        return {
            "extra_headers": trace_headers(run_id) or None,  # joins Dify's trace to LangSmith's
            "query": turn.query,
            "user": user,
            "conversation_id": turn.conversation_id,
            "inputs": turn.inputs,
            "files": files or None,
            "auto_generate_name": auto_generate_name(self.auto_generate_name, turn.name),
        }

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        run_id = kwargs.pop(_RUN_ID, None) or (run_manager.run_id if run_manager else None)
        steps = AgentToolRuns(run_manager)
        turn, user, files = self._turn(messages, kwargs)
        chunks, client = self._chunks(stop, user), self._client
        with translate_errors(), steps:
            sent = upload_files(client, [*turn.files, *files, *turn.uploads], user=user)
            with client.stream_chat(**self._stream_kwargs(turn, user, sent, run_id)) as stream:
                for event in stream:
                    steps.feed(event)
                    if (chunk := chunks.feed(event)) is not None:
                        yield emit(chunk, run_manager)
                    if chunks.stopped:
                        break
                tail = chunks.end(stream, None if chunks.stopped else stream.final())
            name_conversation(client, stream.conversation_id, turn.name, user=user)
        for chunk in tail:
            yield emit(chunk, run_manager)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        run_id = kwargs.pop(_RUN_ID, None) or (run_manager.run_id if run_manager else None)
        steps = AsyncAgentToolRuns(run_manager)
        turn, user, files = self._turn(messages, kwargs)
        chunks, client = self._chunks(stop, user), self._async_client
        with translate_errors():
            sent = await aupload_files(client, [*turn.files, *files, *turn.uploads], user=user)
            stream = await client.stream_chat(**self._stream_kwargs(turn, user, sent, run_id))
            async with stream, steps:
                async for event in stream:
                    await steps.feed(event)
                    if (chunk := chunks.feed(event)) is not None:
                        yield await aemit(chunk, run_manager)
                    if chunks.stopped:
                        break
                tail = chunks.end(stream, None if chunks.stopped else await stream.final())
            await aname_conversation(client, stream.conversation_id, turn.name, user=user)
        for chunk in tail:
            yield await aemit(chunk, run_manager)

    # ------------------------------------------------ moderation replacement

    # langchain-core builds the message of ``invoke``/``batch`` (and ``generate``) here,
    # from ``_generate`` or, when streaming (``streaming=True``, a streaming callback,
    # ``astream_events``), by merging ``_stream``'s chunks. Applying the replacement
    # on the way out covers every path, the callbacks' ``on_llm_end`` and the cache.

    def _generate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # a chatflow paused for human input: interrupt inside LangGraph, else raise
        generate = super()._generate_with_cache
        return settle(
            self, lambda: moderated(generate(messages, stop, run_manager, **kwargs)), run_manager
        )

    async def _agenerate_with_cache(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        agenerate = super()._agenerate_with_cache

        async def generate() -> ChatResult:
            return moderated(await agenerate(messages, stop, run_manager, **kwargs))

        return await asettle(self, generate, run_manager)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # Not streaming (``streaming=False``): read the same stream, but fire no
        # per-token callbacks (langchain-core routes ``streaming=True`` to ``_stream``).
        run_id = run_manager.run_id if run_manager else None
        return aggregate_chunks(
            list(self._stream(messages, stop=stop, **{**kwargs, _RUN_ID: run_id}))
        )

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        # no per-token callbacks when not streaming (see ``_generate``); the run id is kept
        run_id = run_manager.run_id if run_manager else None
        chunks = self._astream(messages, stop=stop, **{**kwargs, _RUN_ID: run_id})
        return aggregate_chunks([chunk async for chunk in chunks])


def _fingerprint(api_key: SecretStr | str | None) -> str | None:
    """A short, non-reversible fingerprint of the app key (tells apps apart, reveals nothing)."""
    key = secret_value(api_key)
    if key is None:
        return None
    return hashlib.sha256(key.encode()).hexdigest()[:12]
