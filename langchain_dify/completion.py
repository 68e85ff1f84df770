"""A Dify completion app as a LangChain text LLM (``BaseLLM``): text in, text out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseLLM
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from pydantic import Field

from dify_transport import (
    Result,
    StreamEvent,
    trace_headers,
)
from langchain_dify._clients import AppClientOwner
from langchain_dify._errors import translate_errors
from langchain_dify._messages import StopScanner
from langchain_dify._results import aemit, emit

__all__ = ["DifyCompletion"]


class DifyCompletion(AppClientOwner, BaseLLM):
    """A Dify completion app as a LangChain LLM, so it drops into chains like any LLM.

    The prompt goes to the app's ``query`` input (or the variable named by
    ``prompt_variable``); ``inputs`` fill the app's other variables. It streams (one
    ``on_llm_new_token`` per delta), stops the Dify task when left early, applies
    ``stop`` sequences on the client, and reports usage in ``generation_info``.

    ```python
    from langchain_core.prompts import PromptTemplate
    from langchain_dify import DifyCompletion

    llm = DifyCompletion()  # $DIFY_API_KEY: a completion app's key
    chain = PromptTemplate.from_template("Explain {topic} in one line.") | llm
    chain.invoke({"topic": "Dify"})
    ```
    """

    prompt_variable: str = "query"
    """The app input variable that receives the prompt."""

    inputs: dict[str, Any] = Field(default_factory=dict)
    """Values for the app's other input variables."""

    @property
    def _llm_type(self) -> str:
        return "dify-completion"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "prompt_variable": self.prompt_variable}

    def _request(self, prompt: str, run_id: object, kwargs: dict[str, Any]) -> dict[str, Any]:
        if kwargs:
            msg = (
                f"DifyCompletion does not accept {sorted(kwargs)}: a Dify app fixes its model "
                "and sampling settings on the server; set inputs= on the LLM instead."
            )
            raise TypeError(msg)
        return {
            "user": self.user,
            "inputs": {**self.inputs, self.prompt_variable: prompt},
            "extra_headers": trace_headers(run_id) or None,
        }

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        scanner = StopScanner(stop) if stop else None
        run_id = run_manager.run_id if run_manager else None
        with (
            translate_errors(),
            self._client.stream_completion(**self._request(prompt, run_id, kwargs)) as stream,
        ):
            for event in stream:
                if (chunk := _chunk(event, scanner)) is not None:
                    yield emit(chunk, run_manager)
                if scanner is not None and scanner.hit:
                    return
            yield _last(stream.final(), scanner)

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        scanner = StopScanner(stop) if stop else None
        run_id = run_manager.run_id if run_manager else None
        with translate_errors():
            stream = await self._async_client.stream_completion(
                **self._request(prompt, run_id, kwargs)
            )
            async with stream:
                async for event in stream:
                    if (chunk := _chunk(event, scanner)) is not None:
                        yield await aemit(chunk, run_manager)
                    if scanner is not None and scanner.hit:
                        return
                yield _last(await stream.final(), scanner)

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        generations = []
        for prompt in prompts:
            chunks = list(self._stream(prompt, stop=stop, run_manager=run_manager, **kwargs))
            generations.append([_joined(chunks)])
        return LLMResult(generations=generations)

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        generations = []
        for prompt in prompts:
            stream = self._astream(prompt, stop=stop, run_manager=run_manager, **kwargs)
            generations.append([_joined([chunk async for chunk in stream])])
        return LLMResult(generations=generations)


def _chunk(event: StreamEvent, scanner: StopScanner | None) -> GenerationChunk | None:
    text = event.text
    if text and scanner is not None:
        text = scanner.feed(text)
    return GenerationChunk(text=text) if text else None


def _last(result: Result, scanner: StopScanner | None) -> GenerationChunk:
    rest = scanner.flush() if scanner is not None else ""
    info: dict[str, Any] = {
        "message_id": result.message_id,
        "task_id": result.task_id,
        "finish_reason": result.finish_reason,
        "usage": result.usage.model_dump(mode="json") if result.usage else None,
    }
    return GenerationChunk(text=rest, generation_info=info)


def _joined(chunks: list[GenerationChunk]) -> Generation:
    if not chunks:
        return Generation(text="")
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return Generation(text=total.text, generation_info=total.generation_info)
