"""A Dify completion app as a LlamaIndex LLM: ``complete`` and friends, chat via completion."""

# LlamaIndex fixes these signatures (``formatted``, ``**kwargs``) for every LLM.
# ruff: noqa: ARG002

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.generic_utils import messages_to_prompt as default_to_prompt
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.bridge.pydantic import ConfigDict, Field
from llama_index.core.instrumentation.span import active_span_id
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.custom import CustomLLM

from dify_transport import Result, trace_headers
from llama_index_dify._clients import AppClientsOwner

__all__ = ["DifyCompletionLLM"]


def _response(result: Result, text: str, delta: str | None) -> CompletionResponse:
    raw = {
        "message_id": result.message_id,
        "task_id": result.task_id,
        "finish_reason": result.finish_reason,
        "usage": result.usage.model_dump(mode="json") if result.usage else None,
    }
    return CompletionResponse(text=text, delta=delta, raw=raw, additional_kwargs=raw)


class DifyCompletionLLM(AppClientsOwner, CustomLLM):
    """A Dify completion app as a LlamaIndex ``LLM`` (a query engine's LLM, for instance).

    The prompt goes to the app's ``query`` input (or ``prompt_variable``); ``inputs``
    fill the other variables. Every call streams; leaving a stream early stops the
    Dify task. Chat methods send the messages as one prompt (LlamaIndex's own
    completion-to-chat formatting).

    ```python
    from llama_index_dify import DifyCompletionLLM

    llm = DifyCompletionLLM()  # $DIFY_API_KEY: a completion app's key
    print(llm.complete("Explain Dify in one line.").text)
    ```
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    prompt_variable: str = Field(default="query", description="Input receiving the prompt.")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Other app inputs.")

    @classmethod
    def class_name(cls) -> str:
        """Return the class name used in payloads and serialization."""
        return "DifyCompletionLLM"

    @property
    def metadata(self) -> LLMMetadata:
        """A completion model (not a chat model), without function calling."""
        return LLMMetadata(is_chat_model=False, model_name="dify-completion")

    def _prompt_of(self, messages: Any) -> str:
        return (self.messages_to_prompt or default_to_prompt)(list(messages))

    def _request(self, prompt: str) -> dict[str, Any]:
        return {
            "user": self.user,
            "inputs": {**self.inputs, self.prompt_variable: prompt},
            "extra_headers": trace_headers(active_span_id.get()) or None,
        }

    def _gen(self, prompt: str) -> CompletionResponseGen:
        text = ""
        with self.client.stream_completion(**self._request(prompt)) as stream:
            for event in stream:
                if event.text:
                    text += event.text
                    yield CompletionResponse(text=text, delta=event.text)
            result = stream.final()
        yield _response(result, result.answer, "")

    async def _agen(self, prompt: str) -> CompletionResponseAsyncGen:
        text = ""
        stream = await self.async_client.stream_completion(**self._request(prompt))
        async with stream:
            async for event in stream:
                if event.text:
                    text += event.text
                    yield CompletionResponse(text=text, delta=event.text)
            result = await stream.final()
        yield _response(result, result.answer, "")

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """The whole answer (the stream, aggregated)."""
        *_, last = self._gen(prompt)
        return last.model_copy(update={"delta": None})

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        """Cumulative ``text`` plus ``delta`` per response; the last has usage in ``raw``."""
        return self._gen(prompt)

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        """Async `complete`."""
        last = CompletionResponse(text="")
        async for last in self._agen(prompt):  # noqa: B007 - the final response
            pass
        return last.model_copy(update={"delta": None})

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        """Async `stream_complete`."""
        return self._agen(prompt)

    @llm_chat_callback()
    async def achat(self, messages: Any, **kwargs: Any) -> ChatResponse:
        """Async chat through the completion app (messages sent as one prompt)."""
        response = await self.acomplete(self._prompt_of(messages), formatted=True)
        return ChatResponse(
            message=ChatMessage(role="assistant", content=response.text), raw=response.raw
        )

    @llm_chat_callback()
    async def astream_chat(self, messages: Any, **kwargs: Any) -> ChatResponseAsyncGen:
        """Async streaming chat through the completion app."""
        prompt = self._prompt_of(messages)

        async def gen() -> ChatResponseAsyncGen:
            async for r in await self.astream_complete(prompt, formatted=True):
                yield ChatResponse(
                    message=ChatMessage(role="assistant", content=r.text), delta=r.delta, raw=r.raw
                )

        return gen()
