"""A Dify workflow app as a LlamaIndex tool (``FunctionTool``) for agents.

The tool's name, description and ``fn_schema`` come from the app itself (``GET /info``,
``GET /parameters``); inputs are checked against the app's form before anything is
sent; the run streams (a long run never hits a read timeout) and the tool returns the
run's outputs (``ToolOutput.raw_output``).
"""

from __future__ import annotations

from typing import Any, Unpack

from llama_index.core.instrumentation.span import active_span_id
from llama_index.core.tools import FunctionTool, ToolMetadata

from dify_transport import AppInfo, AsyncDifyClient, DifyClient, DifyError, Result, trace_headers
from dify_transport._lifecycle import LazyClients
from dify_transport.inputs import (
    check_inputs,
    input_fields,
    input_model,
    workflow_tool_meta,
)
from dify_transport.types import AppParameters
from llama_index_dify._clients import Connection, connect, default_user

__all__ = ["DifyWorkflowTool"]


def _outputs(result: Result) -> dict[str, Any]:
    if result.paused is not None:
        forms = ", ".join(result.paused.forms) or "none"
        msg = (
            f"The Dify run {result.paused.workflow_run_id} paused for human input (forms at "
            f"nodes: {forms}); run it with arun_dify_workflow inside a LlamaIndex Workflow "
            "(pauses become InputRequiredEvent), or answer with submit_human_input_form"
        )
        raise DifyError(msg)
    return dict(result.outputs or {})


class DifyWorkflowTool(FunctionTool):
    """A Dify workflow app as a tool, sync and async (``FunctionAgent``, ``ReActAgent``).

    ```python
    from llama_index_dify import DifyWorkflowTool

    tool = DifyWorkflowTool.from_app(user="alice")  # $DIFY_API_KEY: a workflow app's key
    tool.metadata.name, tool.metadata.fn_schema  # from the app
    tool.call(text="Summarise Dify").raw_output  # the run's outputs
    ```

    ``from_app`` reads the app's info and form now (I/O); ``afrom_app`` does it without
    blocking; the tool itself runs the workflow each call.
    """

    @classmethod
    def from_app(
        cls,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        user: str | None = None,
        name: str | None = None,
        description: str | None = None,
        **connection: Unpack[Connection[DifyClient, AsyncDifyClient]],
    ) -> DifyWorkflowTool:
        """Build the tool from the app's own info and input form (reads them now).

        ``**connection``: the `Connection` keywords (``timeout``, ``client``, ...), as for
        :class:`DifyLLM`.
        """
        clients = _clients({"api_key": api_key, "base_url": base_url, **connection}, "from_app")
        sync = clients.sync()
        info, form = sync.get_info(), sync.get_parameters()
        return cls._build(clients, info, form, user=user, name=name, description=description)

    @classmethod
    async def afrom_app(
        cls,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        user: str | None = None,
        name: str | None = None,
        description: str | None = None,
        **connection: Unpack[Connection[DifyClient, AsyncDifyClient]],
    ) -> DifyWorkflowTool:
        """Async `from_app`."""
        clients = _clients({"api_key": api_key, "base_url": base_url, **connection}, "afrom_app")
        aio = clients.async_()
        info, form = await aio.get_info(), await aio.get_parameters()
        return cls._build(clients, info, form, user=user, name=name, description=description)

    @classmethod
    def _build(
        cls,
        clients: LazyClients[DifyClient, AsyncDifyClient],
        info: AppInfo,
        form: AppParameters,
        *,
        user: str | None,
        name: str | None,
        description: str | None,
    ) -> DifyWorkflowTool:
        fields = input_fields(form)
        end_user = user or default_user()
        slug, about = workflow_tool_meta(info, name, description)

        def run(**inputs: Any) -> dict[str, Any]:
            checked = check_inputs(fields, inputs)
            headers = trace_headers(active_span_id.get()) or None
            with clients.sync().stream_workflow(
                user=end_user, inputs=checked, extra_headers=headers
            ) as stream:
                return _outputs(stream.final())

        async def arun(**inputs: Any) -> dict[str, Any]:
            checked = check_inputs(fields, inputs)
            headers = trace_headers(active_span_id.get()) or None
            stream = await clients.async_().stream_workflow(
                user=end_user, inputs=checked, extra_headers=headers
            )
            async with stream:
                return _outputs(await stream.final())

        metadata = ToolMetadata(
            name=slug,
            description=about,
            fn_schema=input_model(fields, name=f"{slug}_inputs"),
        )
        return cls(fn=run, async_fn=arun, metadata=metadata)


def _clients(
    options: dict[str, Any], where: str = "from_app"
) -> LazyClients[DifyClient, AsyncDifyClient]:
    return connect((DifyClient, AsyncDifyClient), options, f"DifyWorkflowTool.{where}")
