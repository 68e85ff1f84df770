"""Chat apps as LlamaIndex tools and query engines; agent steps as events; chatflow pauses."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from _li_scripted import ScriptedFunctionLLM, tool_call
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.bridge.pydantic import Field
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.agent import AgentToolCallEvent

from dify_emulator import Emulator
from llama_index_dify import (
    DifyAgentToolResultEvent,
    DifyChatEngine,
    DifyLLM,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211"),
]


def _llm(emulator: Emulator, app: str, **kw: Any) -> DifyLLM:
    transport = emulator.transport()
    return DifyLLM(
        api_key=getattr(emulator.keys, app),
        base_url=emulator.base_url,
        user=f"li-app-{uuid.uuid4().hex[:8]}",
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
        **kw,
    )


def _chat_bodies(emulator: Emulator, user: str) -> list[dict[str, Any]]:
    return [
        r.body for r in emulator.requests if r.user == user and r.path.endswith("/chat-messages")
    ]


def test_query_engine_answers_with_sources(emulator: Emulator) -> None:
    llm = _llm(emulator, "chat")
    engine = llm.as_query_engine()
    first = engine.query("What is Dify?")
    second = engine.query("What is Dify?")
    assert "Dify" in str(first)
    assert first.source_nodes
    assert first.metadata["conversation_id"] != second.metadata["conversation_id"]
    assert DifyChatEngine(llm).as_query_engine().query("What is Dify?").response


async def test_async_query_engine(emulator: Emulator) -> None:
    response = await _llm(emulator, "chatflow").as_query_engine().aquery("What is Dify?")
    assert "Dify" in str(response)


class _AsksTheApp(ScriptedFunctionLLM):
    """A function-calling mock: asks the Dify chat tool twice, then answers."""

    def _reply(self, messages: list[ChatMessage]) -> ChatResponse:
        asked = sum(m.role == MessageRole.TOOL for m in messages)
        if asked >= 2:
            return ChatResponse(message=ChatMessage(role="assistant", content="done"))
        return tool_call(f"c{asked}", "emulator-chat", query="What is Dify?")


async def test_chat_tool_in_a_function_agent_continues_its_conversation(emulator: Emulator) -> None:
    llm = _llm(emulator, "chat")
    tool = await llm.aas_tool()
    assert tool.metadata.name == "emulator-chat"
    assert set(tool.metadata.get_parameters_dict()["properties"]) == {"query"}
    agent = FunctionAgent(tools=[tool], llm=_AsksTheApp())
    assert "done" in str(await agent.run("Ask about Dify twice"))
    first, second = _chat_bodies(emulator, llm.user)
    assert not first.get("conversation_id")
    assert second["conversation_id"]  # the agent session continues its conversation
    other = FunctionAgent(tools=[tool], llm=_AsksTheApp())
    await other.run("Again")
    third = _chat_bodies(emulator, llm.user)[2]
    assert not third.get("conversation_id")  # another session: its own conversation


def test_chat_tool_called_directly_starts_new_conversations(emulator: Emulator) -> None:
    llm = _llm(emulator, "chat")
    tool = DifyChatEngine(llm).as_tool(name="ask", description="Ask the app")
    assert "Dify" in str(tool.call(query="What is Dify?"))
    assert "Dify" in str(tool(query="What is Dify?"))
    assert not any(b.get("conversation_id") for b in _chat_bodies(emulator, llm.user))


class _Events(BaseEventHandler):
    events: list[BaseEvent] = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "_Events"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, (AgentToolCallEvent, DifyAgentToolResultEvent)):
            self.events.append(event)


class _Calls(BaseCallbackHandler):
    def __init__(self) -> None:
        super().__init__([], [])
        self.seen: list[tuple[str, Any]] = []

    def on_event_start(
        self,
        event_type: Any,
        payload: Any = None,
        event_id: str = "",
        parent_id: str = "",
        **kw: Any,
    ) -> str:
        if event_type == CBEventType.FUNCTION_CALL:
            self.seen.append(("start", payload[EventPayload.TOOL].name))
        return event_id

    def on_event_end(
        self, event_type: Any, payload: Any = None, event_id: str = "", **kw: Any
    ) -> None:
        if event_type == CBEventType.FUNCTION_CALL:
            self.seen.append(("end", payload[EventPayload.FUNCTION_OUTPUT]))

    def start_trace(self, trace_id: str | None = None) -> None:
        return None

    def end_trace(self, trace_id: str | None = None, trace_map: Any = None) -> None:
        return None


@pytest.mark.parametrize("use_async", [False, True])
async def test_agent_thoughts_become_tool_events(emulator: Emulator, use_async: bool) -> None:
    calls = _Calls()
    llm = _llm(emulator, "agent", callback_manager=CallbackManager([calls]))
    handler = _Events(events=[])
    root = get_dispatcher()
    root.add_event_handler(handler)
    try:
        message = [ChatMessage(role="user", content="What time is it?")]
        reply = await llm.achat(message) if use_async else llm.chat(message)
    finally:
        root.event_handlers.remove(handler)
    assert reply.additional_kwargs["agent_thoughts"]
    start, end = handler.events
    assert isinstance(start, AgentToolCallEvent)
    assert (start.tool.name, start.arguments) == ("current_time", "{}")
    assert isinstance(end, DifyAgentToolResultEvent)
    assert end.tool_name == "current_time"
    assert end.observation[:2] == "20"
    assert [kind for kind, _ in calls.seen] == ["start", "end"]
    assert calls.seen[0][1] == "current_time"


def test_paused_chatflow_response_says_so(emulator: Emulator) -> None:
    llm = _llm(emulator, "review_chatflow")
    reply = llm.chat([ChatMessage(role="user", content="What is Dify?")])
    assert reply.additional_kwargs["finish_reason"] == "paused"
    paused = reply.additional_kwargs["paused"]
    (form,) = paused["forms"].values()
    assert form["form_token"]
    response = DifyChatEngine(_llm(emulator, "review_chatflow")).chat("What is Dify?")
    assert response.metadata["finish_reason"] == "paused"
    assert response.metadata["paused"]["workflow_run_id"]
