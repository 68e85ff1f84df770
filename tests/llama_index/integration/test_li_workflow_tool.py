"""DifyWorkflowTool: a workflow app as a LlamaIndex tool, alone and in a FunctionAgent."""

from __future__ import annotations

import uuid

import httpx
import pytest
from _li_scripted import ScriptedFunctionLLM, tool_call
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole

from dify_emulator import Emulator
from dify_transport.turns import DifyInputError
from llama_index_dify import DifyWorkflowTool


def _tool(emulator: Emulator, user: str) -> DifyWorkflowTool:
    transport = emulator.transport()
    return DifyWorkflowTool.from_app(
        api_key=emulator.keys.workflow,
        base_url=emulator.base_url,
        user=user,
        http_client=httpx.Client(transport=transport),
        async_http_client=httpx.AsyncClient(transport=transport),
    )


def test_metadata_comes_from_the_app(emulator: Emulator) -> None:
    tool = _tool(emulator, "li-wf")
    assert tool.metadata.name == "emulator-workflow"
    schema = tool.metadata.get_parameters_dict()
    assert schema["required"] == ["text"]
    assert set(schema["properties"]) >= {"text", "count", "style", "notes"}
    out = tool.call(text="Why is the sky blue?")
    assert isinstance(out.raw_output, dict)
    assert out.raw_output


async def test_async_call_and_bad_input(emulator: Emulator) -> None:
    user = f"li-wf-{uuid.uuid4().hex[:8]}"
    tool = _tool(emulator, user)
    out = await tool.acall(text="Hello", style="plain")
    assert out.raw_output
    before = len(emulator.requests)
    with pytest.raises(DifyInputError, match="'style'"):
        await tool.async_fn(text="Hello", style="shouty")
    assert len(emulator.requests) == before


class _CallsTheTool(ScriptedFunctionLLM):
    """A function-calling mock: first asks for the Dify tool, then answers with its output."""

    def _reply(self, messages: list[ChatMessage]) -> ChatResponse:
        if any(m.role == MessageRole.TOOL for m in messages):
            return ChatResponse(
                message=ChatMessage(role="assistant", content="done: " + str(messages[-1].content))
            )
        return tool_call("c1", "emulator-workflow", text="Why is the sky blue?")


# llama-index's `workflows` package inspects the agent's members, touching pydantic's
# deprecated `__fields__` (its warning, not ours).
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211")
async def test_function_agent_calls_the_dify_workflow(emulator: Emulator) -> None:
    user = f"li-agent-{uuid.uuid4().hex[:8]}"
    agent = FunctionAgent(tools=[_tool(emulator, user)], llm=_CallsTheTool())
    response = await agent.run("Why is the sky blue?")
    runs = [r for r in emulator.requests if r.user == user and r.path.endswith("/workflows/run")]
    assert len(runs) == 1
    assert runs[0].body["inputs"] == {"text": "Why is the sky blue?"}
    assert "done:" in str(response)
