"""Chat results: a stream's chunks folded into one message, moderation applied."""

from __future__ import annotations

from typing import Any, TypeVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, GenerationChunk

__all__ = ["aemit", "aggregate_chunks", "emit", "moderated"]

C = TypeVar("C", GenerationChunk, ChatGenerationChunk)


def emit(chunk: C, run_manager: CallbackManagerForLLMRun | None) -> C:
    """``chunk``, once the run's ``on_llm_new_token`` callbacks have seen it."""
    if run_manager:
        run_manager.on_llm_new_token(chunk.text, chunk=chunk)
    return chunk


async def aemit(chunk: C, run_manager: AsyncCallbackManagerForLLMRun | None) -> C:
    """Async `emit`."""
    if run_manager:
        await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
    return chunk


def moderated(result: ChatResult) -> ChatResult:
    """``result`` with each message's content replaced by Dify's ``message_replace``.

    Output moderation: when Dify sent a replacement, it is the answer, whichever path
    (aggregate or merged stream chunks) built the message.
    """
    generations: list[ChatGeneration] = []
    changed = False
    for generation in result.generations:
        message = generation.message
        replacement = message.response_metadata.get("message_replace")
        if isinstance(message, AIMessage) and isinstance(replacement, str):
            content: str | list[str | dict[str, Any]] = replacement
            if isinstance(message.content, list):  # output_version="v1": content blocks
                content = [{"type": "text", "text": replacement}]
            if message.content != content:
                changed = True
                generation = ChatGeneration(  # noqa: PLW2901 - rebuilt, .text follows content
                    message=message.model_copy(update={"content": content}),
                    generation_info=generation.generation_info,
                )
        generations.append(generation)
    if not changed:
        return result
    return ChatResult(generations=generations, llm_output=result.llm_output)


def aggregate_chunks(chunks: list[ChatGenerationChunk]) -> ChatResult:
    """Fold a stream's chunks into one ``AIMessage`` (moderation replacement applied)."""
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    aggregated = total.message
    metadata = dict(aggregated.response_metadata)
    replacement = metadata.get("message_replace")
    message = AIMessage(
        content=replacement if isinstance(replacement, str) else aggregated.content,
        id=aggregated.id,
        additional_kwargs=dict(aggregated.additional_kwargs),  # reasoning_content
        response_metadata=metadata,
        usage_metadata=getattr(aggregated, "usage_metadata", None),
    )
    return ChatResult(generations=[ChatGeneration(message=message)])
