"""Dify human-input pauses inside a LlamaIndex ``Workflow``: InputRequired / HumanResponse.

`arun_dify_workflow` runs a Dify workflow from a step. When the run pauses on a Human
Input node it emits a `DifyInputRequiredEvent` (an ``InputRequiredEvent``) with the
form, and waits for the matching `DifyHumanResponseEvent` (a ``HumanResponseEvent``).
LlamaIndex replays the whole step when that event arrives, so the paused run's handle
(plain data: run id, task id, user, forms) is kept in ``ctx.store``: the replay finds
it, sends nothing new, answers the form and follows the same run to its end.

```python
from llama_index.core.bridge.pydantic import Field
from llama_index.core.workflow import Context, StartEvent, StopEvent, Workflow, step
from llama_index_dify import DifyHumanResponseEvent, DifyInputRequiredEvent, arun_dify_workflow


class Review(Workflow):
    @step
    async def review(self, ctx: Context, ev: StartEvent) -> StopEvent:
        outputs = await arun_dify_workflow(ctx, client, {"text": ev.text}, user="alice")
        return StopEvent(result=outputs)


handler = Review().run(text="Ship it?")
async for event in handler.stream_events():
    if isinstance(event, DifyInputRequiredEvent):  # event.forms: fields, actions, text
        handler.ctx.send_event(event.respond("approve", {"priority": "high"}))
outputs = await handler
```
"""

from __future__ import annotations

from typing import Any

from llama_index.core.bridge.pydantic import Field
from llama_index.core.workflow import Context, HumanResponseEvent, InputRequiredEvent

from dify_transport import AsyncDifyClient, PausedRun, Result

__all__ = ["DifyHumanResponseEvent", "DifyInputRequiredEvent", "arun_dify_workflow"]


class DifyHumanResponseEvent(HumanResponseEvent):
    """The answer to a Dify form: the action (button id) and the field values."""

    run_id: str
    """The paused run's ``workflow_run_id`` (from the `DifyInputRequiredEvent`)."""
    action: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    node_id: str | None = None
    """Which form, when several are pending."""


class DifyInputRequiredEvent(InputRequiredEvent):
    """A Dify run paused for human input: answer with `respond` and ``ctx.send_event``."""

    run_id: str
    forms: dict[str, dict[str, Any]]
    """The pending forms keyed by node id: ``title``, ``content``, ``fields``,
    ``actions``, ``expiration_time``."""
    paused: dict[str, Any]
    """The paused run's handle (plain data)."""

    def respond(
        self, action: str, inputs: dict[str, Any] | None = None, node_id: str | None = None
    ) -> DifyHumanResponseEvent:
        """The response event for this form."""
        return DifyHumanResponseEvent(
            run_id=self.run_id, action=action, inputs=inputs or {}, node_id=node_id
        )


async def _start(client: AsyncDifyClient, inputs: dict[str, Any], user: str) -> Result:
    stream = await client.stream_workflow(user=user, inputs=inputs)
    async with stream:
        return await stream.final()


async def arun_dify_workflow(
    ctx: Context,
    client: AsyncDifyClient,
    inputs: dict[str, Any],
    *,
    user: str,
    key: str = "dify_workflow",
    timeout: float | None = 2000,  # noqa: ASYNC109 - the wait for the human, not a request
) -> dict[str, Any]:
    """Run a Dify workflow from a ``Workflow`` step, pausing for human input; return outputs.

    Call it at the top of the step (LlamaIndex replays the step when the answer
    arrives). A pause writes a `DifyInputRequiredEvent` to the event stream and waits
    for the `DifyHumanResponseEvent` with the same ``run_id``; meanwhile the run's
    handle lives in ``ctx.store[key]`` (use a different ``key`` per Dify run a step
    makes). The run is POSTed once and each form answered once, however often the
    step is replayed.

    Args:
        ctx: The step's context.
        client: An async transport client for the workflow app.
        inputs: The workflow's inputs.
        user: The end user the run belongs to.
        key: Where in ``ctx.store`` the paused run's handle is kept.
        timeout: Seconds to wait for each answer (None: no limit).
    """
    handle = await ctx.store.get(key, default=None)
    if handle is None:
        result = await _start(client, inputs, user)
        if result.paused is None:
            return dict(result.outputs or {})
        handle = result.paused.model_dump(mode="json")
        await ctx.store.set(key, handle)
    while True:
        paused = PausedRun.model_validate(handle)
        run_id = paused.workflow_run_id or ""
        tokens = ",".join(sorted(f.form_token or n for n, f in paused.forms.items()))
        asked = DifyInputRequiredEvent(run_id=run_id, forms=paused.form_views(), paused=handle)
        response = await ctx.wait_for_event(
            DifyHumanResponseEvent,
            waiter_event=asked,
            waiter_id=f"dify:{run_id}:{tokens}",
            requirements={"run_id": run_id},
            timeout=timeout,
        )
        result = await client.answer_form(
            paused,
            action=response.action,
            inputs=response.inputs,
            node_id=response.node_id,
            user=user,
        )
        if result.paused is None:
            await ctx.store.set(key, None)
            return dict(result.outputs or {})
        handle = result.paused.model_dump(mode="json")
        await ctx.store.set(key, handle)
