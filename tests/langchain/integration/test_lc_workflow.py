"""DifyWorkflow: a workflow app as a Runnable and as a tool (against the emulator)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tools import ToolException

from dify_emulator import Emulator
from dify_transport.turns import DifyInputError
from langchain_dify import DifyWorkflow, DifyWorkflowPausedError


def _workflow(emulator: Emulator, app: str = "workflow", **kw: Any) -> DifyWorkflow:
    transport = emulator.transport()
    return DifyWorkflow(
        api_key=getattr(emulator.keys, app),
        base_url=emulator.base_url,
        user=f"wf-{uuid.uuid4().hex[:8]}",
        http_client=httpx.Client(transport=transport),
        http_async_client=httpx.AsyncClient(transport=transport),
        **kw,
    )


class _Custom(BaseCallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_custom_event(self, name: str, data: Any, **kw: Any) -> None:
        self.events.append((name, data))


def test_invoke_returns_outputs_and_reports_nodes(emulator: Emulator) -> None:
    workflow = _workflow(emulator)
    seen = _Custom()
    outputs = workflow.invoke({"text": "Why is the sky blue?"}, config={"callbacks": [seen]})
    run = [r for r in emulator.requests if r.user == workflow.user and r.method == "POST"]
    assert len(run) == 1
    assert outputs
    assert all(isinstance(k, str) for k in outputs)
    titles = {d.get("title") for name, d in seen.events if name == "dify_node"}
    assert {"Start", "LLM", "End"} <= titles


def test_stream_yields_text_then_outputs(emulator: Emulator) -> None:
    workflow = _workflow(emulator)
    chunks = list(workflow.stream({"text": "Why is the sky blue?"}))
    texts = [c["text"] for c in chunks[:-1]]
    assert texts
    outputs = chunks[-1]
    assert "".join(texts) in {v for v in outputs.values() if isinstance(v, str)}


async def test_async_invoke_and_astream(emulator: Emulator) -> None:
    workflow = _workflow(emulator)
    outputs = await workflow.ainvoke({"text": "Hello"})
    chunks = [c async for c in workflow.astream({"text": "Hello"})]
    assert chunks[-1].keys() == outputs.keys()


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({}, "text"),
        ({"text": 5}, "text"),
        ({"text": "x", "count": "many"}, "count"),
        ({"text": "x", "style": "shouty"}, "style"),
    ],
)
def test_bad_inputs_fail_before_any_request(emulator: Emulator, inputs: dict, field: str) -> None:
    workflow = _workflow(emulator)
    workflow.input_fields()
    before = len(emulator.requests)
    with pytest.raises(DifyInputError, match=repr(field)):
        workflow.invoke(inputs)
    assert len(emulator.requests) == before


def test_as_tool_schema_comes_from_the_app(emulator: Emulator) -> None:
    tool = _workflow(emulator).as_tool()
    assert tool.name == "emulator-workflow"
    schema = (
        tool.get_input_schema().model_json_schema()
        if not isinstance(tool.args_schema, dict)
        else tool.args_schema
    )
    props = schema["properties"]
    assert schema["required"] == ["text"]
    assert props["text"]["type"] == "string"
    assert props["text"]["maxLength"] == 256
    assert props["count"]["type"] == "number"
    assert props["style"]["enum"] == ["plain", "bullet points", "formal"]
    result = tool.invoke({"text": "Why is the sky blue?", "style": "plain"})
    assert isinstance(result, dict)


def test_tool_failure_is_a_tool_exception(emulator: Emulator) -> None:
    tool = _workflow(emulator).as_tool()
    with pytest.raises(ToolException):
        tool.invoke({"text": "x", "style": "shouty"})


def test_paused_run_resumes_the_same_run(emulator: Emulator) -> None:
    workflow = _workflow(emulator, "review_workflow")
    with pytest.raises(DifyWorkflowPausedError) as info:
        workflow.invoke({"text": "Ship it?"})
    paused = info.value.paused
    assert paused.forms
    outputs = info.value.resume(action="approve", inputs={"priority": "high"})
    assert outputs
    posts = [r for r in emulator.requests if r.user == workflow.user and r.path.endswith("/run")]
    assert len(posts) == 1


def test_breaking_out_of_stream_stops_the_run(emulator: Emulator) -> None:
    workflow = _workflow(emulator)
    for _chunk in workflow.stream({"text": "Tell me a long story about the sky"}):
        break
    stops = [s for s in emulator.stop_calls if s.user == workflow.user]
    assert len(stops) == 1


def test_chat_model_on_a_workflow_key_names_the_class_to_use(emulator: Emulator) -> None:
    from langchain_dify import ChatDify

    transport = emulator.transport()
    llm = ChatDify(
        api_key=emulator.keys.workflow,
        base_url=emulator.base_url,
        http_client=httpx.Client(transport=transport),
    )
    with pytest.raises(Exception, match="DifyWorkflow") as info:
        llm.invoke("hi")
    assert "DifyCompletion" in str(info.value)
