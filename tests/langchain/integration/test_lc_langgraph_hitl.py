"""A LangGraph node runs a pausing Dify workflow: interrupt with the form, resume the same run."""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

import httpx
import pytest

pytest.importorskip("langgraph", reason="the [langgraph] extra is not installed")

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from dify_emulator import Emulator
from langchain_dify import DifyWorkflow


class State(TypedDict, total=False):
    question: str
    outputs: dict[str, Any]


def _graph(workflow: DifyWorkflow, *, use_async: bool) -> Any:
    def node(state: State) -> State:
        return {"outputs": workflow.invoke({"text": state["question"]})}

    async def anode(state: State) -> State:
        return {"outputs": await workflow.ainvoke({"text": state["question"]})}

    graph = StateGraph(State)
    graph.add_node("review", anode if use_async else node)
    graph.add_edge(START, "review")
    graph.add_edge("review", END)
    return graph.compile(checkpointer=InMemorySaver())


def _workflow(emulator: Emulator) -> DifyWorkflow:
    transport = emulator.transport()
    return DifyWorkflow(
        api_key=emulator.keys.review_workflow,
        base_url=emulator.base_url,
        user=f"lg-{uuid.uuid4().hex[:8]}",
        http_client=httpx.Client(transport=transport),
        http_async_client=httpx.AsyncClient(transport=transport),
    )


def _counts(emulator: Emulator, user: str) -> tuple[int, int]:
    mine = [r for r in emulator.requests if r.user == user and r.method == "POST"]
    runs = [r for r in mine if r.path.endswith("/workflows/run")]
    forms = [r for r in mine if "/form/human_input/" in r.path]
    return len(runs), len(forms)


def test_interrupt_then_resume_finishes_the_same_run(emulator: Emulator) -> None:
    workflow = _workflow(emulator)
    app = _graph(workflow, use_async=False)
    config = {"configurable": {"thread_id": workflow.user}}
    first = app.invoke({"question": "Ship it?"}, config)
    (interrupt,) = first["__interrupt__"]
    value = interrupt.value
    assert value["type"] == "dify_human_input"
    (form,) = value["forms"].values()
    assert [a["id"] for a in form["actions"]][:1] == ["approve"]
    assert form["fields"]
    done = app.invoke(Command(resume={"action": "approve", "inputs": {"priority": "high"}}), config)
    assert done["outputs"]
    assert _counts(emulator, workflow.user) == (1, 1)


async def test_async_graph_resume(emulator: Emulator) -> None:
    workflow = _workflow(emulator)
    app = _graph(workflow, use_async=True)
    config = {"configurable": {"thread_id": workflow.user}}
    first = await app.ainvoke({"question": "Ship it?"}, config)
    assert first["__interrupt__"]
    done = await app.ainvoke(
        Command(resume={"action": "approve", "inputs": {"priority": "high"}}), config
    )
    assert done["outputs"]
    assert _counts(emulator, workflow.user) == (1, 1)


def test_tool_node_runs_the_workflow_with_the_models_arguments(emulator: Emulator) -> None:
    from langchain_core.messages import AIMessage, ToolMessage
    from langgraph.graph import MessagesState
    from langgraph.prebuilt import ToolNode

    transport = emulator.transport()
    workflow = DifyWorkflow(
        api_key=emulator.keys.workflow,
        base_url=emulator.base_url,
        user=f"tn-{uuid.uuid4().hex[:8]}",
        http_client=httpx.Client(transport=transport),
    )
    tool = workflow.as_tool()
    call = {
        "name": tool.name,
        "args": {"text": "Why is the sky blue?", "style": "plain"},
        "id": "c1",
    }
    graph = StateGraph(MessagesState)
    graph.add_node("tools", ToolNode([tool]))
    graph.add_edge(START, "tools")
    graph.add_edge("tools", END)
    out = graph.compile().invoke({"messages": [AIMessage(content="", tool_calls=[call])]})
    message = out["messages"][-1]
    assert isinstance(message, ToolMessage)
    assert message.status != "error"
    (run,) = [r for r in emulator.requests if r.user == workflow.user and r.method == "POST"]
    assert run.body["inputs"] == {"text": "Why is the sky blue?", "style": "plain"}
