"""A Dify workflow app as a LangChain ``Runnable`` and as a tool for agents."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForChainRun,
    CallbackManagerForChainRun,
)
from langchain_core.callbacks.manager import adispatch_custom_event, dispatch_custom_event
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.tools import StructuredTool
from pydantic import PrivateAttr

from dify_transport import (
    AppInfo,
    DifyError,
    PausedRun,
    Result,
    StreamEvent,
    trace_headers,
)
from dify_transport.inputs import (
    InputField,
    check_inputs,
    input_fields,
    input_schema,
    workflow_tool_meta,
)
from langchain_dify._chat_pause import aanswer_form, answer_form
from langchain_dify._clients import AppClientOwner
from langchain_dify._errors import translate_errors
from langchain_dify._langgraph import arun_in_graph, in_graph, run_in_graph
from langchain_dify.tools import DifyToolException

__all__ = ["DifyWorkflow", "DifyWorkflowPausedError"]

_NODE_EVENTS = frozenset({"node_started", "node_finished", "node_retry"})


class DifyWorkflowPausedError(DifyError):
    """The run paused for human input: answer ``paused.forms`` and `resume`.

    Attributes:
        result: The run so far (``result.paused`` is the plain-data handle).
        paused: The paused run: run id, task id, user, forms keyed by node id.
    """

    def __init__(self, result: Result, workflow: DifyWorkflow) -> None:
        self.result = result
        self.paused: PausedRun = result.paused or PausedRun()
        self._workflow = workflow
        forms = ", ".join(self.paused.forms) or "none"
        super().__init__(
            f"Dify run {self.paused.workflow_run_id} paused for human input (forms at "
            f"nodes: {forms}); answer with .resume(action=..., inputs=...)"
        )

    def resume(
        self, *, action: str, inputs: dict[str, Any] | None = None, node_id: str | None = None
    ) -> dict[str, Any]:
        """Answer the form and follow the same run to its end; return its outputs."""
        result = answer_form(self._workflow, self.paused, action, inputs or {}, node_id)
        return self._workflow._outputs(result)

    async def aresume(
        self, *, action: str, inputs: dict[str, Any] | None = None, node_id: str | None = None
    ) -> dict[str, Any]:
        """Async `resume`."""
        result = await aanswer_form(self._workflow, self.paused, action, inputs or {}, node_id)
        return self._workflow._outputs(result)


class DifyWorkflow(AppClientOwner, RunnableSerializable[dict[str, Any], dict[str, Any]]):
    """A Dify workflow app as a ``Runnable[dict, dict]``.

    ```python
    from langchain_dify import DifyWorkflow

    workflow = DifyWorkflow()  # $DIFY_API_KEY (a workflow app's key), $DIFY_BASE_URL
    workflow.invoke({"text": "Summarise Dify in one line"})  # -> the run's outputs
    for chunk in workflow.stream({"text": "..."}):
        print(chunk)  # {"text": delta} ... then the outputs
    tool = workflow.as_tool()  # name, description and args schema from the app
    ```

    ``stream`` yields a chunk per ``text_chunk`` event; node progress goes to callbacks
    as custom events named ``dify_node`` (``astream_events``: ``on_custom_event``).
    Inputs are checked against the app's form before anything is sent.
    A failed run raises ``WorkflowFailedError`` (its node's error in the message);
    breaking out of ``stream`` stops the run; a run that pauses for human input raises
    `DifyWorkflowPausedError`, whose ``resume(...)`` continues the same run.
    """

    check_inputs: bool = True
    """Check inputs against the app's form (read once from ``GET /parameters``)."""

    _fields: list[InputField] | None = PrivateAttr(default=None)

    # -- inputs ---------------------------------------------------------------------------

    def input_fields(self) -> list[InputField]:
        """The app's input form (read once)."""
        if self._fields is None:
            with translate_errors():
                self._fields = input_fields(self._client.get_parameters())
        return self._fields

    async def ainput_fields(self) -> list[InputField]:
        """Async `input_fields`."""
        if self._fields is None:
            with translate_errors():
                self._fields = input_fields(await self._async_client.get_parameters())
        return self._fields

    def _checked(self, value: object, fields: list[InputField] | None) -> dict[str, Any]:
        if not isinstance(value, dict):
            msg = f"DifyWorkflow takes a dict of the app's inputs, got {type(value).__name__}"
            raise TypeError(msg)
        return check_inputs(fields, value) if fields is not None else dict(value)

    def _outputs(self, result: Result) -> dict[str, Any]:
        if result.paused is not None:
            raise DifyWorkflowPausedError(result, self)
        return dict(result.outputs or {})

    # -- running --------------------------------------------------------------------------

    def _results(
        self, inputs: dict[str, Any], run_manager: CallbackManagerForChainRun
    ) -> Iterator[str | Result]:
        """Text deltas as they come, then the run's `Result` (node progress to callbacks)."""
        with (
            translate_errors(),
            self._client.stream_workflow(
                user=self.user, inputs=inputs, extra_headers=trace_headers(run_manager.run_id)
            ) as stream,
        ):
            for event in stream:
                if event.event in _NODE_EVENTS:
                    dispatch_custom_event(
                        "dify_node", _node(event), config={"callbacks": run_manager.get_child()}
                    )
                elif event.text:
                    yield event.text
            yield stream.final()

    async def _aresults(
        self, inputs: dict[str, Any], run_manager: AsyncCallbackManagerForChainRun
    ) -> AsyncIterator[str | Result]:
        """Async `_results`."""
        with translate_errors():
            stream = await self._async_client.stream_workflow(
                user=self.user, inputs=inputs, extra_headers=trace_headers(run_manager.run_id)
            )
            async with stream:
                async for event in stream:
                    if event.event in _NODE_EVENTS:
                        await adispatch_custom_event(
                            "dify_node",
                            _node(event),
                            config={"callbacks": run_manager.get_child()},
                        )
                    elif event.text:
                        yield event.text
                yield await stream.final()

    def _run(
        self, value: dict[str, Any], run_manager: CallbackManagerForChainRun
    ) -> dict[str, Any]:
        inputs = self._checked(value, self.input_fields() if self.check_inputs else None)
        if in_graph():  # a pause becomes the graph's interrupt; resuming continues the run

            def start() -> dict[str, Any]:
                *_, last = self._results(inputs, run_manager)
                return _as_json(last)

            def resume(
                handle: dict[str, Any], action: str, answer: dict[str, Any], node: str | None
            ) -> dict[str, Any]:
                paused = PausedRun.model_validate(handle)
                return _as_json(answer_form(self, paused, action, answer, node))

            return self._outputs(run_in_graph(start, resume))
        *_, result = self._results(inputs, run_manager)
        return self._outputs(_as_result(result))

    async def _arun(
        self, value: dict[str, Any], run_manager: AsyncCallbackManagerForChainRun
    ) -> dict[str, Any]:
        fields = await self.ainput_fields() if self.check_inputs else None
        inputs = self._checked(value, fields)

        async def start() -> dict[str, Any]:
            last: str | Result = ""
            async for last in self._aresults(inputs, run_manager):  # noqa: B007 - the Result
                pass
            return _as_json(last)

        if in_graph():

            async def resume(
                handle: dict[str, Any], action: str, answer: dict[str, Any], node: str | None
            ) -> dict[str, Any]:
                paused = PausedRun.model_validate(handle)
                return _as_json(await aanswer_form(self, paused, action, answer, node))

            return self._outputs(await arun_in_graph(start, resume))
        return self._outputs(Result.model_validate(await start()))

    def _events(
        self, value: dict[str, Any], run_manager: CallbackManagerForChainRun
    ) -> Iterator[dict[str, Any]]:
        inputs = self._checked(value, self.input_fields() if self.check_inputs else None)
        for item in self._results(inputs, run_manager):
            yield {"text": item} if isinstance(item, str) else self._outputs(item)

    async def _aevents(
        self, value: dict[str, Any], run_manager: AsyncCallbackManagerForChainRun
    ) -> AsyncIterator[dict[str, Any]]:
        inputs = self._checked(value, await self.ainput_fields() if self.check_inputs else None)
        async for item in self._aresults(inputs, run_manager):
            yield {"text": item} if isinstance(item, str) else self._outputs(item)

    def invoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Run the workflow and return its outputs."""
        return self._call_with_config(self._run, input, config, **kwargs)

    async def ainvoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Async `invoke`."""
        return await self._acall_with_config(self._arun, input, config, **kwargs)

    def stream(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        """Yield ``{"text": delta}`` as text arrives, then the outputs."""

        def chunks(
            values: Iterator[dict[str, Any]], run_manager: CallbackManagerForChainRun
        ) -> Iterator[dict[str, Any]]:
            for value in values:
                yield from self._events(value, run_manager)

        yield from self._transform_stream_with_config(iter([input]), chunks, config, **kwargs)

    async def astream(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Async `stream`."""

        async def chunks(
            values: AsyncIterator[dict[str, Any]], run_manager: AsyncCallbackManagerForChainRun
        ) -> AsyncIterator[dict[str, Any]]:
            async for value in values:
                async for chunk in self._aevents(value, run_manager):
                    yield chunk

        async def once() -> AsyncIterator[dict[str, Any]]:
            yield input

        async for chunk in self._atransform_stream_with_config(once(), chunks, config, **kwargs):
            yield chunk

    # -- as a tool ------------------------------------------------------------------------

    def as_tool(  # type: ignore[override]
        self, name: str | None = None, description: str | None = None, **_: Any
    ) -> StructuredTool:
        """A tool whose name, description and argument schema come from the app.

        Reads ``GET /info`` and ``GET /parameters`` now (I/O); see `aas_tool`.
        """
        with translate_errors():
            info = self._client.get_info()
        return self._tool(info, self.input_fields(), name, description)

    async def aas_tool(
        self, name: str | None = None, description: str | None = None
    ) -> StructuredTool:
        """Async `as_tool` (reads the app's info and form without blocking)."""
        with translate_errors():
            info = await self._async_client.get_info()
        return self._tool(info, await self.ainput_fields(), name, description)

    def _tool(
        self,
        info: AppInfo,
        fields: list[InputField],
        name: str | None,
        description: str | None,
    ) -> StructuredTool:
        slug, about = workflow_tool_meta(info, name, description)
        schema = input_schema(fields, title=slug)

        def run(**inputs: Any) -> dict[str, Any]:
            try:
                return self.invoke(inputs)
            except DifyError as exc:
                raise DifyToolException(exc) from exc

        async def arun(**inputs: Any) -> dict[str, Any]:
            try:
                return await self.ainvoke(inputs)
            except DifyError as exc:
                raise DifyToolException(exc) from exc

        return StructuredTool.from_function(
            func=run,
            coroutine=arun,
            name=slug,
            description=about,
            args_schema=schema,
            handle_tool_error=False,
        )


def _as_result(item: str | Result) -> Result:
    if isinstance(item, Result):
        return item
    msg = "the Dify stream ended without a result"
    raise DifyError(msg)


def _as_json(item: str | Result) -> dict[str, Any]:
    return _as_result(item).model_dump(mode="json")


def _node(event: StreamEvent) -> dict[str, Any]:
    data = event.data.get("data")
    inner = data if isinstance(data, dict) else {}
    keys = ("id", "node_id", "node_type", "title", "status", "error", "elapsed_time")
    return {"event": event.event, **{k: inner.get(k) for k in keys if k in inner}}
