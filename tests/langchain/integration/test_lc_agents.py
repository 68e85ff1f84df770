"""Dify apps inside LangChain agents (against the emulator): tools, agent steps, pauses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypedDict

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.utils.function_calling import convert_to_openai_tool

from dify_emulator import Emulator
from langchain_dify import (
    ChatDify,
    DifyAppTool,
    DifyAuthenticationError,
    DifyChatPausedError,
    DifyToolException,
    DifyWorkflow,
    InMemorySessionStore,
)


def _clients(emulator: Emulator) -> dict[str, Any]:
    transport = emulator.transport()
    return {
        "base_url": emulator.base_url,
        "user": f"ag-{uuid.uuid4().hex[:8]}",
        "http_client": httpx.Client(transport=transport),
        "http_async_client": httpx.AsyncClient(transport=transport),
    }


def _chat(emulator: Emulator, app: str) -> ChatDify:
    return ChatDify(api_key=getattr(emulator.keys, app), **_clients(emulator))


def _posts(emulator: Emulator, user: str) -> list[Any]:
    return [r for r in emulator.requests if r.user == user and r.method == "POST"]


class _ToolCallingFake(GenericFakeChatModel):
    """A fake chat model that accepts tools (it replays its scripted messages)."""

    def bind_tools(self, tools: Sequence[Any], **_: Any) -> Runnable[Any, Any]:  # type: ignore[override]
        return self


# -- acceptance 1: create_agent calls a Dify workflow tool ------------------------------


def test_create_agent_runs_the_workflow_with_the_models_arguments(emulator: Emulator) -> None:
    from langchain.agents import create_agent

    workflow = DifyWorkflow(api_key=emulator.keys.workflow, **_clients(emulator))
    tool = workflow.as_tool()
    schema = convert_to_openai_tool(tool)["function"]["parameters"]  # what a model is sent
    props = schema["properties"]
    assert schema["required"] == ["text"]
    assert props["text"]["type"] == "string"
    assert props["text"]["maxLength"] == 256
    assert props["count"]["type"] == "number"
    assert props["style"]["enum"] == ["plain", "bullet points", "formal"]
    assert props["notes"]["type"] == "string"
    args = {"text": "Why is the sky blue?", "count": 2, "style": "formal"}
    call = {"name": tool.name, "args": args, "id": "call-1", "type": "tool_call"}
    model = _ToolCallingFake(
        messages=iter([AIMessage(content="", tool_calls=[call]), AIMessage(content="Done.")])
    )
    agent = create_agent(model, [tool])
    out = agent.invoke({"messages": [HumanMessage("Explain the sky, formally")]})
    (tool_message,) = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert tool_message.status != "error"
    assert tool_message.name == tool.name
    assert out["messages"][-1].content == "Done."
    (run,) = _posts(emulator, workflow.user)
    assert run.path.endswith("/workflows/run")
    assert run.body["inputs"] == args


# -- chat apps as tools ----------------------------------------------------------------


def test_chat_tool_continues_per_user_and_thread(emulator: Emulator) -> None:
    llm = _chat(emulator, "chat")
    tool = llm.as_tool(conversations=InMemorySessionStore())
    assert tool.name == "emulator-chat"
    assert set(convert_to_openai_tool(tool)["function"]["parameters"]["properties"]) == {"query"}

    def ask(config: dict[str, Any]) -> str | None:
        tool.invoke({"query": "What is Dify?"}, {"configurable": config})
        body = [r for r in emulator.requests if r.path.endswith("/chat-messages")][-1].body
        return body.get("conversation_id") or None

    assert ask({"thread_id": "t1"}) is None
    assert ask({"thread_id": "t1"}) is not None  # the same thread continues
    assert ask({"thread_id": "t2"}) is None  # another thread: its own conversation
    assert ask({"thread_id": "t1", "user_id": "bob"}) is None  # another user: never shared
    assert ask({}) is None  # no thread: a new conversation each call
    users = {r.user for r in emulator.requests if r.path.endswith("/chat-messages")}
    assert {"bob", llm.user} <= users


async def test_async_chat_tool_answers(emulator: Emulator) -> None:
    llm = _chat(emulator, "chatflow")
    tool = await llm.aas_tool(name="helper")
    answer = await tool.ainvoke({"query": "What is Dify?"})
    assert tool.name == "helper"
    assert "Dify" in answer


def test_failed_run_raises_tool_exception_with_the_typed_error(emulator: Emulator) -> None:
    llm = ChatDify(api_key="app-wrong", **_clients(emulator))
    tool = DifyAppTool.from_chat_model(llm, name="ask", description="Ask the app")
    with pytest.raises(DifyToolException) as caught:
        tool.invoke({"query": "Hello"})
    assert isinstance(caught.value.error, DifyAuthenticationError)
    assert caught.value.__cause__ is caught.value.error


# -- agent apps: agent_thought steps as tool runs ---------------------------------------


class _Tools(BaseCallbackHandler):
    def __init__(self) -> None:
        self.started: list[tuple[str, str, Any]] = []
        self.ended: list[str] = []
        self.model_runs: list[Any] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kw: Any) -> None:
        self.model_runs.append(kw["run_id"])

    def on_tool_start(self, serialized: dict[str, Any], input_str: str, **kw: Any) -> None:
        self.started.append((serialized["name"], input_str, kw.get("parent_run_id")))

    def on_tool_end(self, output: Any, **kw: Any) -> None:
        self.ended.append(str(output))


@pytest.mark.parametrize("streaming", [False, True])
def test_agent_thoughts_are_child_tool_runs(emulator: Emulator, streaming: bool) -> None:
    llm = _chat(emulator, "agent").model_copy(update={"streaming": streaming})
    seen = _Tools()
    message = llm.invoke("What time is it?", config={"callbacks": [seen]})
    assert message.response_metadata["agent_thoughts"]
    (model_run,) = seen.model_runs
    assert seen.started == [("current_time", "{}", model_run)]
    (observation,) = seen.ended
    assert observation[:2] == "20"  # the tool's timestamp


async def test_agent_thoughts_in_astream_events(emulator: Emulator) -> None:
    llm = _chat(emulator, "agent")

    async def ask(question: str) -> BaseMessage:
        return await llm.ainvoke(question)

    events = [
        e
        async for e in RunnableLambda(ask).astream_events("What time is it?", version="v2")
        if e["event"] in ("on_tool_start", "on_tool_end")
    ]
    assert [(e["event"], e["name"]) for e in events] == [
        ("on_tool_start", "current_time"),
        ("on_tool_end", "current_time"),
    ]
    assert events[1]["data"]["output"][:2] == "20"


# -- a chatflow that pauses for human input, under ChatDify --------------------------------


def _review_counts(emulator: Emulator, user: str) -> tuple[int, int]:
    posts = _posts(emulator, user)
    chats = [r for r in posts if r.path.endswith("/chat-messages")]
    forms = [r for r in posts if "/form/human_input/" in r.path]
    return len(chats), len(forms)


def test_paused_chatflow_raises_and_resumes(emulator: Emulator) -> None:
    llm = _chat(emulator, "review_chatflow")
    with pytest.raises(DifyChatPausedError) as caught:
        llm.invoke("What is Dify?")
    paused = caught.value
    assert paused.message.text.startswith("Dify is")
    (form,) = paused.paused.forms.values()
    assert [a["id"] for a in form.actions] == ["approve", "reject"]
    final = paused.resume(action="approve", inputs={"comment": "fine", "priority": "high"})
    assert final.text.startswith(paused.message.text)
    assert final.text.endswith("(Review approved: fine.)")
    assert final.response_metadata["conversation_id"] == paused.paused.conversation_id
    assert "paused" not in final.response_metadata
    assert _review_counts(emulator, llm.user) == (1, 1)


async def test_paused_chatflow_aresume(emulator: Emulator) -> None:
    llm = _chat(emulator, "review_chatflow")
    with pytest.raises(DifyChatPausedError) as caught:
        await llm.ainvoke("What is Dify?")
    final = await caught.value.aresume(action="reject", inputs={"comment": "no", "priority": "low"})
    assert "reject" in final.text.lower()
    assert _review_counts(emulator, llm.user) == (1, 1)


class _Chat(TypedDict, total=False):
    question: str
    answer: str


@pytest.mark.parametrize("use_async", [False, True])
async def test_chatflow_pause_in_langgraph_interrupts_and_resumes(
    emulator: Emulator, use_async: bool
) -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Command

    llm = _chat(emulator, "review_chatflow")

    def node(state: _Chat) -> _Chat:
        return {"answer": llm.invoke(state["question"]).text}

    async def anode(state: _Chat) -> _Chat:
        return {"answer": (await llm.ainvoke(state["question"])).text}

    graph = StateGraph(_Chat)
    graph.add_node("ask", anode if use_async else node)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", END)
    app = graph.compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": llm.user}}
    first = await app.ainvoke({"question": "What is Dify?"}, config)
    (interrupt,) = first["__interrupt__"]
    assert interrupt.value["type"] == "dify_human_input"
    (form,) = interrupt.value["forms"].values()
    assert form["title"] == "Review"
    resume = Command(resume={"action": "approve", "inputs": {"comment": "ok", "priority": "high"}})
    done = await app.ainvoke(resume, config)
    assert done["answer"].startswith("Dify is")
    assert done["answer"].endswith("(Review approved: ok.)")
    assert _review_counts(emulator, llm.user) == (1, 1)


def test_streaming_a_paused_chatflow_ends_with_the_paused_handle(emulator: Emulator) -> None:
    llm = _chat(emulator, "review_chatflow")
    chunks = list(llm.stream("What is Dify?"))
    last = chunks[-1].response_metadata
    assert last["finish_reason"] == "paused"
    (form,) = last["paused"]["forms"].values()
    assert form["form_token"]
