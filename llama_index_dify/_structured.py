"""``DifyLLM.structured_predict`` and friends (``as_structured_llm`` goes through them).

A Dify app has no JSON mode nor function calling: the prompt's messages are sent as
one turn with :func:`dify_transport.turns.answer_format` (the output class's JSON
Schema, "reply with one JSON object") appended to the query, and the answer is
parsed and validated. A malformed answer raises
:class:`dify_transport.structured.StructuredOutputError` (a `DifyError` and a
``ValueError``, ``raw`` holding the answer). Streaming yields partial objects as
LlamaIndex's own programs do, then the validated object.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any

import llama_index.core.instrumentation as instrument
from llama_index.core.instrumentation.events.llm import (
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.program.streaming_utils import process_streaming_content_incremental
from llama_index.core.program.utils import num_valid_fields
from pydantic import BaseModel

from dify_transport.structured import parse_model
from dify_transport.turns import answer_format

if TYPE_CHECKING:
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        ChatResponseAsyncGen,
        ChatResponseGen,
    )
    from llama_index.core.prompts import BasePromptTemplate

__all__ = ["StructuredPredict"]

dispatcher = instrument.get_dispatcher(__name__)  # type: ignore[attr-defined]


def _kwargs(output_cls: type[BaseModel], llm_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    return {**(llm_kwargs or {}), "answer_format": answer_format(output_cls.model_json_schema())}


def _text(response: ChatResponse) -> str:
    return response.message.content or ""


def _progress(response: ChatResponse, output_cls: type[Any], current: Any) -> Any:
    """The partial object after ``response``, or None unless it adds a field."""
    partial = process_streaming_content_incremental(response, output_cls, current)
    filled = num_valid_fields(partial)
    if (
        partial == current
        or filled == 0
        or (current is not None and filled < num_valid_fields(current))
    ):
        return None  # LlamaIndex's repair can lose a field mid-token: never go backwards
    return partial


class StructuredPredict:
    """Structured prediction for ``DifyLLM`` (a mixin; see the module docstring)."""

    if TYPE_CHECKING:

        def _get_messages(
            self, prompt: BasePromptTemplate, **prompt_args: Any
        ) -> list[ChatMessage]: ...
        def chat(self, messages: list[ChatMessage], **kwargs: Any) -> ChatResponse: ...
        async def achat(self, messages: list[ChatMessage], **kwargs: Any) -> ChatResponse: ...
        def stream_chat(self, messages: list[ChatMessage], **kwargs: Any) -> ChatResponseGen: ...
        async def astream_chat(
            self, messages: list[ChatMessage], **kwargs: Any
        ) -> ChatResponseAsyncGen: ...

    @dispatcher.span
    def structured_predict(
        self,
        output_cls: type[Any],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Any:
        """Ask the app for an ``output_cls`` instance as JSON; parse and validate it.

        Raises:
            StructuredOutputError: The answer is not JSON valid for ``output_cls``.
        """
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        messages = self._get_messages(prompt, **prompt_args)
        response = self.chat(messages, **_kwargs(output_cls, llm_kwargs))
        result = parse_model(output_cls, _text(response))
        dispatcher.event(LLMStructuredPredictEndEvent(output=result))
        return result

    @dispatcher.span
    async def astructured_predict(
        self,
        output_cls: type[Any],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Any:
        """Async :meth:`structured_predict`."""
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        messages = self._get_messages(prompt, **prompt_args)
        response = await self.achat(messages, **_kwargs(output_cls, llm_kwargs))
        result = parse_model(output_cls, _text(response))
        dispatcher.event(LLMStructuredPredictEndEvent(output=result))
        return result

    # ``stream_structured_predict`` / ``astream_structured_predict`` (LlamaIndex's, with
    # their events) read these two.

    def _structured_stream_call(
        self,
        output_cls: type[Any],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Any, None, None]:
        messages = self._get_messages(prompt, **prompt_args)
        chunks = self.stream_chat(messages, **_kwargs(output_cls, llm_kwargs))
        current: Any = None
        last: ChatResponse | None = None
        for last in chunks:
            if (partial := _progress(last, output_cls, current)) is not None:
                current = partial
                yield partial
        final = parse_model(output_cls, _text(last) if last is not None else "")
        if final != current:
            yield final

    async def _structured_astream_call(
        self,
        output_cls: type[Any],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Any, None]:
        messages = self._get_messages(prompt, **prompt_args)
        chunks = await self.astream_chat(messages, **_kwargs(output_cls, llm_kwargs))

        async def gen() -> AsyncGenerator[Any, None]:
            current: Any = None
            last: ChatResponse | None = None
            async for last in chunks:
                if (partial := _progress(last, output_cls, current)) is not None:
                    current = partial
                    yield partial
            final = parse_model(output_cls, _text(last) if last is not None else "")
            if final != current:
                yield final

        return gen()
