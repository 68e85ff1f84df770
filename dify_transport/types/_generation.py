"""One generation: its request files, its answer, token usage, citations and agent steps."""

# Pydantic copies list/dict defaults per instance; ruff cannot see across files that
# DifyModel is a BaseModel (as it could in the single-module types.py), hence:
# ruff: noqa: RUF012

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, TypedDict

from dify_transport.display import nodes_html, nodes_markdown, result_html, result_markdown
from dify_transport.types._common import DifyModel
from dify_transport.types._stream_events import AgentLogStep

__all__ = [
    "AgentThought",
    "FileInput",
    "NodeRun",
    "PausedRun",
    "PendingForm",
    "Result",
    "RetrieverResource",
    "Usage",
]


class FileInput(TypedDict, total=False):
    """A file attached to a generation request (``files=[...]``)."""

    type: Literal["image", "document", "audio", "video", "custom"]
    transfer_method: Literal["remote_url", "local_file"]
    url: str
    upload_file_id: str


class Usage(DifyModel):
    """Token usage and cost of one generation (``metadata.usage``)."""

    prompt_tokens: int = 0
    """Tokens in the prompt."""
    completion_tokens: int = 0
    """Tokens generated."""
    total_tokens: int = 0
    """Prompt plus completion tokens."""
    prompt_unit_price: Decimal | None = None
    """Price per prompt price unit."""
    prompt_price_unit: Decimal | None = None
    """Token count the prompt unit price applies to."""
    prompt_price: Decimal | None = None
    """Cost of the prompt."""
    completion_unit_price: Decimal | None = None
    """Price per completion price unit."""
    completion_price_unit: Decimal | None = None
    """Token count the completion unit price applies to."""
    completion_price: Decimal | None = None
    """Cost of the completion."""
    total_price: Decimal | None = None
    """Total cost (exact decimal; Dify sends a string such as ``"0.0010330"``)."""
    currency: str | None = None
    """Currency of the prices, e.g. ``"USD"``."""
    latency: float | None = None
    """Seconds the model call took."""
    time_to_first_token: float | None = None
    """Seconds to the first token (1.x only)."""
    time_to_generate: float | None = None
    """Seconds spent generating (1.x only)."""


class RetrieverResource(DifyModel):
    """A knowledge passage cited by an answer (``metadata.retriever_resources[]``)."""

    position: int | None = None
    """1-based rank after de-duplication."""
    dataset_id: str | None = None
    """Knowledge base id."""
    dataset_name: str | None = None
    document_id: str | None = None
    """Document id (external knowledge: maybe the title)."""
    document_name: str | None = None
    segment_id: str | None = None
    """Segment (chunk) id."""
    score: float | None = None
    content: str | None = None
    """The passage text."""


class AgentThought(DifyModel):
    """One step of an agent (``agent_thought`` events, ``Message.agent_thoughts``)."""

    id: str | None = None
    """Thought id; Dify re-sends the same id as the step progresses."""
    position: int | None = None
    """1-based step number."""
    thought: str | None = None
    """The model's reasoning text (the last thought repeats the answer)."""
    observation: str | None = None
    """Tool output (often JSON text)."""
    tool: str | None = None
    """Tool name(s), ``;``-separated."""
    tool_input: str | None = None
    """Tool input as JSON text keyed by tool name."""
    tool_labels: dict[str, Any] | None = None
    """I18n labels of the tools."""
    message_files: list[Any] | None = None
    """File ids produced by this step (stream form)."""


class NodeRun(DifyModel):
    """One node execution of a workflow or chatflow run, as its events told it."""

    id: str
    """The execution id (``node_started.data.id``; retries keep it)."""
    node_id: str | None = None
    node_type: str | None = None
    title: str | None = None
    index: int | None = None
    status: str | None = None
    """``running`` until ``node_finished``: ``succeeded``, ``failed``, ``exception``, ...;
    None when a resumed stream's run ended but this node's end was sent while disconnected."""
    error: str | None = None
    elapsed_time: float | None = None
    """Seconds."""
    retries: int = 0
    """How many ``node_retry`` events came for it."""
    iteration_id: str | None = None
    loop_id: str | None = None
    iterations: int | None = None
    """An iteration node: how many rounds ran (``iteration_next`` / ``steps``)."""
    loops: int | None = None
    """A loop node: how many rounds ran (``loop_next`` / ``steps``)."""
    agent_log: list[AgentLogStep] = []
    """An Agent node's steps (``agent_log`` events), one per step id, in arrival order."""

    def _repr_html_(self) -> str:
        """Notebook display: one timeline row (`dify_transport.display.nodes_html`)."""
        return nodes_html([self])

    def _repr_markdown_(self) -> str:
        """Notebook display in Markdown."""
        return nodes_markdown([self])


class PendingForm(DifyModel):
    """A human-input form a paused run waits on (``human_input_required``)."""

    node_id: str
    """The Human Input node (forms are keyed by it)."""
    form_token: str | None = None
    """What `submit_human_input_form` takes; None when Dify delivers the form elsewhere
    (e-mail, the web app)."""
    form_id: str | None = None
    node_title: str | None = None
    form_content: str | None = None
    """The form's text shown to the human (Markdown)."""
    inputs: list[dict[str, Any]] = []
    """The fields: ``type``, ``output_variable_name``, ``default``."""
    actions: list[dict[str, Any]] = []
    """The buttons: ``id``, ``title``, ``button_style``."""
    resolved_default_values: dict[str, Any] = {}
    expiration_time: int | None = None
    """When the form expires (Unix seconds)."""


class PausedRun(DifyModel):
    """Where a paused workflow or chatflow run stands: plain data a checkpointer can store.

    Answer a form and follow the rest of the run with the client's
    ``answer_form(paused, action=..., inputs=...)``.
    """

    workflow_run_id: str | None = None
    task_id: str | None = None
    user: str | None = None
    """The ``user`` the run belongs to (the events endpoint needs the same one)."""
    mode: str | None = None
    """``workflow`` or ``advanced-chat`` (a chatflow) when known."""
    conversation_id: str | None = None
    message_id: str | None = None
    forms: dict[str, PendingForm] = {}
    """The pending forms, keyed by ``node_id``."""
    outputs: dict[str, Any] = {}
    """Partial outputs so far."""

    def form_token(self, node_id: str | None = None) -> str:
        """The token that answers the form of ``node_id`` (None: the one pending form).

        Raises:
            DifyError: Several forms are pending and no ``node_id`` was named, there is
                no such form, or Dify delivers it elsewhere (no token).
        """
        from dify_transport._errors import DifyError  # noqa: PLC0415 - types stay import-light

        forms = self.forms
        if node_id is None and len(forms) != 1:
            msg = f"{len(forms)} forms are pending; pass node_id= (one of {list(forms)})"
            raise DifyError(msg)
        form = forms.get(node_id) if node_id is not None else next(iter(forms.values()))
        if form is None or not form.form_token:
            msg = (
                "Dify delivers this form elsewhere (no form token), or no such form: "
                "answer it there"
            )
            raise DifyError(msg)
        return form.form_token

    def form_views(self) -> dict[str, dict[str, Any]]:
        """The pending forms as plain data by node id (what the adapters' interrupts carry)."""
        return {
            node: {
                "title": form.node_title,
                "content": form.form_content,
                "fields": form.inputs,
                "actions": form.actions,
                "expiration_time": form.expiration_time,
            }
            for node, form in self.forms.items()
        }


class Result(DifyModel):
    """The complete answer of one generation: a blocking call, or an aggregated stream."""

    answer: str = ""
    """The answer text (the moderation replacement when ``message_replace`` fired)."""
    conversation_id: str | None = None
    """Conversation id (chat-family apps); pass it back to continue the conversation."""
    message_id: str | None = None
    """Message id (chat-family and completion apps)."""
    task_id: str | None = None
    """Task id (what the stop endpoints take)."""
    mode: str | None = None
    """App mode when Dify says it (``chat``, ``advanced-chat``, ``completion``...)."""
    usage: Usage | None = None
    """Token usage and price."""
    retriever_resources: list[RetrieverResource] = []
    """Cited knowledge passages."""
    agent_thoughts: list[AgentThought] = []
    """Agent steps, one per thought id, in position order."""
    files: list[dict[str, Any]] = []
    """Files Dify attached to the answer (``message_file`` events, chatflow ``files``)."""
    message_replace: str | None = None
    """The replacement text when output moderation fired."""
    workflow_run_id: str | None = None
    """Workflow run id (workflow and chatflow apps)."""
    outputs: dict[str, Any] | None = None
    """Workflow outputs."""
    status: str | None = None
    """Workflow status (``succeeded``, ``failed``, ``stopped``, ``partial-succeeded``,
    ``paused``)."""
    error: str | None = None
    """Workflow error text, if any."""
    finish_reason: str | None = None
    """``"stop"``; ``"stopped"`` when the generation was stopped; ``"paused"`` when the
    run waits for human input (see ``paused``)."""
    reasoning: str = ""
    """The model's reasoning (``reasoning_chunk`` events, or a leading ``<think>`` block
    of the answer); never part of ``answer``."""
    paused: PausedRun | None = None
    """Set when the run paused for human input (not an error: answer the forms)."""
    nodes: list[NodeRun] = []
    """Node executions in start order (workflow and chatflow streams)."""
    start_reason: str | None = None
    """``workflow_started.data.reason`` (1.15+): ``"initial"``, or ``"resumption"`` when
    the stream follows a run that continued after a human-input pause."""
    resumed: bool = False
    """True when the stream dropped and was resumed from the run's events endpoint: the
    answer and outputs then come from the finished run (text sent while disconnected is
    not replayed by Dify, so the streamed events have a gap)."""
    metadata: dict[str, Any] = {}
    """The raw ``message_end``/blocking ``metadata`` object."""
    created_at: int | None = None
    """Creation time, Unix seconds."""

    def _repr_html_(self) -> str:
        """Notebook display: answer, cited passages, nodes, usage (`dify_transport.display`)."""
        return result_html(self)

    def _repr_markdown_(self) -> str:
        """Notebook display in Markdown (the same parts as the HTML)."""
        return result_markdown(self)
