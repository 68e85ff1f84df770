"""A Dify workflow app as a LangChain ``Runnable`` and as a tool for agents.

``DifyWorkflow`` is a ``Runnable[dict, dict]``: ``invoke`` returns the run's outputs,
``stream`` yields ``{"text": delta}`` chunks as the workflow's ``text_chunk`` events
arrive and then the outputs; node progress goes to callbacks as custom events named
``dify_node`` (``astream_events`` shows them as ``on_custom_event``). Inputs are checked
against the app's input form (``GET /parameters``, read once) before anything is
sent. ``as_tool()`` builds a ``StructuredTool`` whose name, description and argument
schema come from the app itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForChainRun,
    CallbackManagerForChainRun,
)
from langchain_core.callbacks.manager import adispatch_custom_event, dispatch_custom_event
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from langchain_core.tools import StructuredTool, ToolException
from langchain_core.utils import from_env, secret_from_env
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr

from dify_transport import (
    DEFAULT_BASE_URL,
    DEFAULT_USER,
    AppInfo,
    AsyncDifyClient,
    AsyncHttpClient,
    DifyClient,
    DifyError,
    HttpClient,
    PausedRun,
    Result,
    StreamEvent,
    TimeoutTypes,
    trace_headers,
)
from dify_transport.inputs import (
    InputField,
    check_inputs,
    input_fields,
    input_schema,
    tool_name,
)
from langchain_dify._clients import ClientOwner
from langchain_dify._errors import translate_errors

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

    def _token(self, node_id: str | None) -> str:
        forms = self.paused.forms
        if node_id is None and len(forms) != 1:
            msg = f"{len(forms)} forms are pending; pass node_id= (one of {list(forms)})"
            raise DifyError(msg)
        form = forms[node_id] if node_id is not None else next(iter(forms.values()))
        if not form.form_token:
            msg = "Dify delivers this form elsewhere (no form token): answer it there"
            raise DifyError(msg)
        return form.form_token

    def resume(
        self, *, action: str, inputs: dict[str, Any] | None = None, node_id: str | None = None
    ) -> dict[str, Any]:
        """Answer the form and follow the same run to its end; return its outputs."""
        client, user = self._workflow._client, self.paused.user or self._workflow.user
        with translate_errors():
            client.submit_human_input_form(
                self._token(node_id), user=user, action=action, inputs=inputs
            )
            with client.stream_workflow_events(
                self.paused.workflow_run_id or "", user=user
            ) as stream:
                result = stream.final()
        return self._workflow._outputs(result)

    async def aresume(
        self, *, action: str, inputs: dict[str, Any] | None = None, node_id: str | None = None
    ) -> dict[str, Any]:
        """Async `resume`."""
        client, user = self._workflow._async_client, self.paused.user or self._workflow.user
        with translate_errors():
            await client.submit_human_input_form(
                self._token(node_id), user=user, action=action, inputs=inputs
            )
            stream = await client.stream_workflow_events(
                self.paused.workflow_run_id or "", user=user
            )
            async with stream:
                result = await stream.final()
        return self._workflow._outputs(result)


class DifyWorkflow(ClientOwner, RunnableSerializable[dict[str, Any], dict[str, Any]]):
    """A Dify workflow app as a ``Runnable[dict, dict]``.

    ```python
    from langchain_dify import DifyWorkflow

    workflow = DifyWorkflow()  # $DIFY_API_KEY (a workflow app's key), $DIFY_BASE_URL
    workflow.invoke({"text": "Summarise Dify in one line"})  # -> the run's outputs
    for chunk in workflow.stream({"text": "..."}):
        print(chunk)  # {"text": delta} ... then the outputs
    tool = workflow.as_tool()  # name, description and args schema from the app
    ```

    A failed run raises ``WorkflowFailedError`` (its node's error in the message);
    breaking out of ``stream`` stops the run; a run that pauses for human input raises
    `DifyWorkflowPausedError`, whose ``resume(...)`` continues the same run.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)

    api_key: SecretStr | None = Field(
        default_factory=secret_from_env("DIFY_API_KEY", default=None), repr=False
    )
    """The workflow app's API key (``app-...``); ``$DIFY_API_KEY`` if not given."""

    base_url: str = Field(default_factory=from_env("DIFY_BASE_URL", default=DEFAULT_BASE_URL))
    """Service API root ending in ``/v1``."""

    user: str = Field(default_factory=from_env("DIFY_USER", default=DEFAULT_USER))
    """End-user id the runs are recorded under."""

    check_inputs: bool = True
    """Check inputs against the app's form (read once from ``GET /parameters``)."""

    timeout: TimeoutTypes = None
    """Read timeout in seconds (None: the transport default)."""

    max_retries: int = 2
    """Retries for failures that are safe to retry (a run is never sent twice)."""

    http_client: HttpClient | None = Field(default=None, exclude=True)
    """An ``httpx.Client`` to send requests with (you own it)."""

    http_async_client: AsyncHttpClient | None = Field(default=None, exclude=True)
    """An ``httpx.AsyncClient`` for the async methods (you own it)."""

    _fields: list[InputField] | None = PrivateAttr(default=None)

    @property
    def _client(self) -> DifyClient:
        client: DifyClient = self._lazy_clients().sync()
        return client

    @property
    def _async_client(self) -> AsyncDifyClient:
        client: AsyncDifyClient = self._lazy_clients().async_()
        return client

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

    def _events(
        self, value: dict[str, Any], run_manager: CallbackManagerForChainRun
    ) -> Iterator[dict[str, Any]]:
        fields = self.input_fields() if self.check_inputs else None
        inputs = self._checked(value, fields)
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
                    yield {"text": event.text}
            result = stream.final()
        yield self._outputs(result)

    async def _aevents(
        self, value: dict[str, Any], run_manager: AsyncCallbackManagerForChainRun
    ) -> AsyncIterator[dict[str, Any]]:
        fields = await self.ainput_fields() if self.check_inputs else None
        inputs = self._checked(value, fields)
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
                        yield {"text": event.text}
                result = await stream.final()
        yield self._outputs(result)

    def _run(
        self, value: dict[str, Any], run_manager: CallbackManagerForChainRun
    ) -> dict[str, Any]:
        *_, outputs = self._events(value, run_manager)
        return outputs

    async def _arun(
        self, value: dict[str, Any], run_manager: AsyncCallbackManagerForChainRun
    ) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        async for outputs in self._aevents(value, run_manager):  # noqa: B007 - the last one
            pass
        return outputs

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
        slug = name or tool_name(info.name, "dify_workflow")
        schema = input_schema(fields, title=slug)

        def run(**inputs: Any) -> dict[str, Any]:
            try:
                return self.invoke(inputs)
            except DifyError as exc:
                raise ToolException(str(exc)) from exc

        async def arun(**inputs: Any) -> dict[str, Any]:
            try:
                return await self.ainvoke(inputs)
            except DifyError as exc:
                raise ToolException(str(exc)) from exc

        return StructuredTool.from_function(
            func=run,
            coroutine=arun,
            name=slug,
            description=description or info.description or f"Runs the Dify workflow {info.name}",
            args_schema=schema,
            handle_tool_error=False,
        )


def _node(event: StreamEvent) -> dict[str, Any]:
    data = event.data.get("data")
    inner = data if isinstance(data, dict) else {}
    keys = ("id", "node_id", "node_type", "title", "status", "error", "elapsed_time")
    return {"event": event.event, **{k: inner.get(k) for k in keys if k in inner}}
