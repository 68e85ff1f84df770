"""A function-calling LLM double for agent tests: subclasses script `_reply` only."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.llms import LLMMetadata
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.tools import ToolSelection


def tool_call(tool_id: str, tool_name: str, **tool_kwargs: Any) -> ChatResponse:
    """An assistant reply that asks for one tool."""
    call = {"tool_id": tool_id, "tool_name": tool_name, "tool_kwargs": tool_kwargs}
    return ChatResponse(
        message=ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [call]})
    )


class ScriptedFunctionLLM(FunctionCallingLLM):
    """Replies with `_reply(messages)`; tool calls travel in ``additional_kwargs``."""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_function_calling_model=True, model_name="mock")

    def _reply(self, messages: list[ChatMessage]) -> ChatResponse:
        raise AssertionError("a scripted LLM defines _reply")

    def chat(self, messages: Any, **kw: Any) -> ChatResponse:
        return self._reply(list(messages))

    async def achat(self, messages: Any, **kw: Any) -> ChatResponse:
        return self._reply(list(messages))

    async def astream_chat(self, messages: Any, **kw: Any) -> Any:
        response = self._reply(list(messages))

        async def gen() -> Any:
            yield response

        return gen()

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kw: Any
    ) -> list[ToolSelection]:
        calls = response.message.additional_kwargs.get("tool_calls") or []
        return [ToolSelection(**c) for c in calls]

    def _prepare_chat_with_tools(
        self, tools: Any, user_msg: Any = None, chat_history: Any = None, **kw: Any
    ) -> dict[str, Any]:
        messages = list(chat_history or [])
        if user_msg is not None:
            messages.append(
                user_msg
                if isinstance(user_msg, ChatMessage)
                else ChatMessage(role="user", content=user_msg)
            )
        return {"messages": messages}

    def _unused(self, *a: Any, **kw: Any) -> Any:
        raise AssertionError("the agent tests only chat")

    complete = stream_chat = stream_complete = _unused

    async def _aunused(self, *a: Any, **kw: Any) -> Any:
        raise AssertionError("the agent tests only chat")

    acomplete = astream_complete = _aunused
