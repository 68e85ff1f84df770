"""A Dify run that pauses for human input, inside a LlamaIndex ``Workflow``."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from llama_index.core.workflow import Context, StartEvent, StopEvent, Workflow, step

from dify_emulator import Emulator
from dify_transport import AsyncDifyClient
from llama_index_dify import DifyInputRequiredEvent, arun_dify_workflow

pytestmark = [
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20"),
    pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince211"),
]


def _client(emulator: Emulator, app: str) -> AsyncDifyClient:
    return AsyncDifyClient(
        api_key=getattr(emulator.keys, app),
        base_url=emulator.base_url,
        http_client=httpx.AsyncClient(transport=emulator.transport()),
    )


class _Review(Workflow):
    def __init__(self, client: AsyncDifyClient, user: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.client, self.user = client, user
        self.entered = 0

    @step
    async def review(self, ctx: Context, ev: StartEvent) -> StopEvent:
        self.entered += 1
        outputs = await arun_dify_workflow(ctx, self.client, {"text": ev.text}, user=self.user)
        return StopEvent(result=outputs)


def _counts(emulator: Emulator, user: str) -> tuple[int, int]:
    posts = [r for r in emulator.requests if r.user == user and r.method == "POST"]
    runs = [r for r in posts if r.path.endswith("/workflows/run")]
    forms = [r for r in posts if "/form/human_input/" in r.path]
    return len(runs), len(forms)


async def test_pause_emits_input_required_and_the_response_continues_the_run(
    emulator: Emulator,
) -> None:
    user = f"li-hi-{uuid.uuid4().hex[:8]}"
    workflow = _Review(_client(emulator, "review_workflow"), user, timeout=30)
    handler = workflow.run(text="Ship it?")
    asked: list[DifyInputRequiredEvent] = []
    async for event in handler.stream_events():
        if isinstance(event, DifyInputRequiredEvent):
            asked.append(event)
            (form,) = event.forms.values()
            assert [a["id"] for a in form["actions"]] == ["approve", "reject"]
            handler.ctx.send_event(event.respond("approve", {"priority": "high"}))
    outputs = await handler
    assert len(asked) == 1
    assert outputs["decision"] == "approve"
    assert workflow.entered == 2  # the step was replayed when the answer arrived
    assert _counts(emulator, user) == (1, 1)


async def test_a_run_that_does_not_pause_just_returns(emulator: Emulator) -> None:
    user = f"li-hi-{uuid.uuid4().hex[:8]}"
    workflow = _Review(_client(emulator, "workflow"), user, timeout=30)
    outputs = await workflow.run(text="Why is the sky blue?")
    assert outputs
    assert _counts(emulator, user) == (1, 0)
