"""Pydantic models of Dify responses.

Every model keeps unknown fields (``extra="allow"``: Dify adds fields every release)
and accepts both the 0.15.x and the 1.x wire: sparse metadata, prices as decimal
strings (``"0.0010330"``, ``"0E-7"``), timestamps as ints or RFC-822 strings, and
JSON-encoded ``inputs``/``outputs`` strings.
"""

from __future__ import annotations

import json
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = [
    "AgentThought",
    "AppInfo",
    "AppMeta",
    "AppParameters",
    "AppSite",
    "Conversation",
    "ConversationPage",
    "Dataset",
    "DatasetPage",
    "DifyModel",
    "Document",
    "DocumentCreated",
    "DocumentPage",
    "FileInput",
    "IndexingStatus",
    "IndexingStatusList",
    "Message",
    "MessagePage",
    "Result",
    "RetrieveRecord",
    "RetrieveResponse",
    "RetrieverResource",
    "Segment",
    "SegmentDocument",
    "SegmentPage",
    "UploadedFile",
    "Usage",
    "WorkflowLogPage",
    "WorkflowRun",
]


class FileInput(TypedDict, total=False):
    """A file attached to a generation request (``files=[...]``)."""

    type: Literal["image", "document", "audio", "video", "custom"]
    transfer_method: Literal["remote_url", "local_file"]
    url: str
    upload_file_id: str


def _to_timestamp(value: object) -> object:
    """Accept int seconds, numeric strings and RFC-822 dates (0.15 run detail)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(float(text))
        except ValueError:
            pass
        try:
            return int(parsedate_to_datetime(text).timestamp())
        except (TypeError, ValueError):
            return value
    if isinstance(value, float):
        return int(value)
    return value


def _from_json_text(value: object) -> object:
    """Decode a JSON-encoded string (1.12 run detail ``inputs``/``outputs``)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class DifyModel(BaseModel):
    """Base of every response model: unknown fields are kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


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
    """Knowledge base name."""
    document_id: str | None = None
    """Document id (external knowledge: maybe the title)."""
    document_name: str | None = None
    """Document name."""
    segment_id: str | None = None
    """Segment (chunk) id."""
    score: float | None = None
    """Retrieval score."""
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
    """Workflow status (``succeeded``, ``failed``, ``stopped``, ``partial-succeeded``)."""
    error: str | None = None
    """Workflow error text, if any."""
    finish_reason: str | None = None
    """``"stop"``; ``"stopped"`` when the generation was stopped."""
    metadata: dict[str, Any] = {}
    """The raw ``message_end``/blocking ``metadata`` object."""
    created_at: int | None = None
    """Creation time, Unix seconds."""


class Message(DifyModel):
    """One turn of a conversation's history (``GET /messages``)."""

    id: str
    """Message id."""
    conversation_id: str | None = None
    """Conversation id."""
    parent_message_id: str | None = None
    """Parent message id (the nil UUID for Service API conversations)."""
    inputs: dict[str, Any] = {}
    """App inputs sent with this turn."""
    query: str = ""
    """The user's query."""
    answer: str = ""
    """The answer."""
    feedback: dict[str, Any] | None = None
    """This user's feedback, e.g. ``{"rating": "like"}``."""
    retriever_resources: list[RetrieverResource] = []
    """Cited passages (1.12: ``id`` fields are regenerated on every call)."""
    agent_thoughts: list[AgentThought] = []
    """Agent steps."""
    message_files: list[dict[str, Any]] = []
    """Files attached to the turn."""
    status: str | None = None
    """``normal`` or ``error``."""
    error: str | None = None
    """Error text for failed turns."""
    created_at: int | None = None
    """Creation time, Unix seconds."""

    @field_validator("inputs", mode="before")
    @classmethod
    def _none_inputs(cls, value: object) -> object:
        return {} if value is None else value

    @field_validator("retriever_resources", "agent_thoughts", "message_files", mode="before")
    @classmethod
    def _none_list(cls, value: object) -> object:
        return [] if value is None else value


class MessagePage(DifyModel):
    """A page of history: newest page first, items oldest-first within the page."""

    data: list[Message] = []
    """The messages, ascending by time."""
    has_more: bool = False
    """True when older messages exist (pass ``first_id=data[0].id``)."""
    limit: int = 20
    """The page size asked for."""


class Conversation(DifyModel):
    """A conversation (``GET /conversations`` item, rename result)."""

    id: str
    """Conversation id."""
    name: str | None = None
    """Display name."""
    inputs: dict[str, Any] = {}
    """Inputs the conversation was started with."""
    status: str | None = None
    """``normal``."""
    introduction: str | None = None
    """The app's opening statement."""
    created_at: int | None = None
    """Creation time, Unix seconds."""
    updated_at: int | None = None
    """Last update, Unix seconds."""

    @field_validator("inputs", mode="before")
    @classmethod
    def _none_inputs(cls, value: object) -> object:
        return {} if value is None else value


class ConversationPage(DifyModel):
    """A page of conversations (pass ``last_id=data[-1].id`` for the next)."""

    data: list[Conversation] = []
    """The conversations, in ``sort_by`` order."""
    has_more: bool = False
    """True when more conversations exist."""
    limit: int = 20
    """The page size asked for."""


class WorkflowRun(DifyModel):
    """A workflow run's detail (``GET /workflows/run/{id}``), either wire generation."""

    id: str | None = None
    """Run id."""
    workflow_id: str | None = None
    """Workflow (version) id."""
    status: str | None = None
    """``running``, ``succeeded``, ``failed``, ``stopped``, ``partial-succeeded``."""
    inputs: dict[str, Any] | None = None
    """Inputs incl. ``sys.*`` keys (decoded from Dify's JSON string)."""
    outputs: dict[str, Any] | None = None
    """Outputs (decoded from a JSON string when needed)."""
    error: str | None = None
    """Error text of a failed run."""
    total_steps: int | None = None
    """Number of node executions."""
    total_tokens: int | None = None
    """Tokens used."""
    created_at: int | None = None
    """Start, Unix seconds (0.15's RFC-822 strings are converted)."""
    finished_at: int | None = None
    """End, Unix seconds."""
    elapsed_time: float | None = None
    """Seconds the run took."""

    @field_validator("inputs", "outputs", mode="before")
    @classmethod
    def _json_text(cls, value: object) -> object:
        return _from_json_text(value)

    @field_validator("created_at", "finished_at", mode="before")
    @classmethod
    def _timestamps(cls, value: object) -> object:
        return _to_timestamp(value)


class WorkflowLogPage(DifyModel):
    """A page of workflow logs (``GET /workflows/logs``)."""

    page: int = 1
    """Page number (1-based)."""
    limit: int = 20
    """Page size."""
    total: int = 0
    """Number of log entries."""
    has_more: bool = False
    """True when later pages exist."""
    data: list[dict[str, Any]] = []
    """Entries as Dify sent them (``workflow_run``, ``created_by_end_user``, ...)."""


class AppParameters(DifyModel):
    """The app's input form and feature switches (``GET /parameters``)."""

    opening_statement: str | None = None
    """Opening statement shown before the first turn."""
    suggested_questions: list[str] = []
    """Suggested first questions."""
    suggested_questions_after_answer: dict[str, Any] = {}
    """``{"enabled": bool}``."""
    speech_to_text: dict[str, Any] = {}
    """``{"enabled": bool}``."""
    text_to_speech: dict[str, Any] = {}
    """``{"enabled": bool, "voice": ..., "language": ...}``."""
    retriever_resource: dict[str, Any] = {}
    """``{"enabled": bool}``: whether answers cite passages."""
    annotation_reply: dict[str, Any] = {}
    """``{"enabled": bool}``."""
    more_like_this: dict[str, Any] = {}
    """``{"enabled": bool}``."""
    user_input_form: list[dict[str, Any]] = []
    """Input variables, each ``{"<type>": {"variable", "label", "required", ...}}``."""
    sensitive_word_avoidance: dict[str, Any] = {}
    """Moderation settings."""
    file_upload: dict[str, Any] = {}
    """File upload settings."""
    system_parameters: dict[str, Any] = {}
    """Server upload limits."""


class AppMeta(DifyModel):
    """Tool icons (``GET /meta``)."""

    tool_icons: dict[str, Any] = {}
    """Tool name to icon URL or ``{"background", "content"}``."""


class AppInfo(DifyModel):
    """Basic app info (``GET /info``; 0.15 has no ``mode``/``author_name``)."""

    name: str | None = None
    """App name."""
    description: str | None = None
    """App description."""
    tags: list[str] = []
    """Tags."""
    mode: str | None = None
    """App mode (1.x)."""
    author_name: str | None = None
    """Author (1.x)."""


class AppSite(DifyModel):
    """The app's WebApp settings (``GET /site``, 1.x)."""

    title: str | None = None
    """WebApp title."""
    description: str | None = None
    """Description."""
    icon_type: str | None = None
    """``emoji`` or ``image``."""
    icon: str | None = None
    """Icon."""
    icon_background: str | None = None
    """Icon background colour."""
    icon_url: str | None = None
    """Icon URL."""
    default_language: str | None = None
    """Default language."""
    copyright: str | None = None
    """Copyright text."""
    privacy_policy: str | None = None
    """Privacy policy URL."""
    custom_disclaimer: str | None = None
    """Disclaimer."""


class UploadedFile(DifyModel):
    """A file uploaded with ``POST /files/upload`` (use ``id`` as ``upload_file_id``)."""

    id: str
    """Upload file id."""
    name: str | None = None
    """File name."""
    size: int | None = None
    """Size in bytes."""
    extension: str | None = None
    """Extension without dot."""
    mime_type: str | None = None
    """MIME type."""
    created_by: str | None = None
    """End-user id that owns it."""
    created_at: int | None = None
    """Upload time, Unix seconds."""


class SegmentDocument(DifyModel):
    """The document a retrieved segment belongs to."""

    id: str | None = None
    """Document id."""
    name: str | None = None
    """Document name."""
    data_source_type: str | None = None
    """``upload_file``, ``notion_import``, ..."""
    doc_type: str | None = None
    """Document type."""


class Segment(DifyModel):
    """A knowledge segment (chunk)."""

    id: str
    """Segment id."""
    position: int | None = None
    """Position in its document."""
    document_id: str | None = None
    """Document id."""
    content: str = ""
    """Segment text."""
    answer: str | None = None
    """Answer part of Q&A segments."""
    word_count: int | None = None
    """Characters."""
    tokens: int | None = None
    """Tokens."""
    keywords: list[str] | None = None
    """Keywords."""
    status: str | None = None
    """Indexing status."""
    enabled: bool | None = None
    """Whether the segment is enabled."""
    document: SegmentDocument | None = None
    """The segment's document (retrieve only)."""


class RetrieveRecord(DifyModel):
    """One hit of ``POST /datasets/{id}/retrieve``."""

    segment: Segment
    """The matching segment."""
    score: float | None = None
    """Similarity score."""
    child_chunks: list[dict[str, Any]] | None = None
    """Matching child chunks (parent-child indexing)."""
    tsne_position: Any = None
    """Unused by the API."""


class RetrieveResponse(DifyModel):
    """The answer of ``POST /datasets/{id}/retrieve``."""

    query: dict[str, Any] = {}
    """``{"content": <query>}``."""
    records: list[RetrieveRecord] = []
    """Hits, best first."""


class Dataset(DifyModel):
    """A knowledge base."""

    id: str
    """Dataset id."""
    name: str | None = None
    """Name."""
    description: str | None = None
    """Description."""
    indexing_technique: str | None = None
    """``high_quality`` or ``economy``."""
    document_count: int | None = None
    """Number of documents."""
    word_count: int | None = None
    """Number of characters."""
    created_at: int | None = None
    """Creation time, Unix seconds."""


class DatasetPage(DifyModel):
    """A page of knowledge bases (page-number paging)."""

    data: list[Dataset] = []
    """The knowledge bases."""
    has_more: bool = False
    """True when later pages exist."""
    limit: int = 20
    """Page size."""
    total: int = 0
    """Number of knowledge bases."""
    page: int = 1
    """Page number."""


class Document(DifyModel):
    """A knowledge document."""

    id: str
    """Document id."""
    name: str | None = None
    """Name."""
    position: int | None = None
    """Position in the knowledge base."""
    data_source_type: str | None = None
    """Source type."""
    indexing_status: str | None = None
    """``waiting``, ``indexing``, ``completed``, ``error``..."""
    enabled: bool | None = None
    """Whether the document is enabled."""
    word_count: int | None = None
    """Characters."""
    created_at: int | None = None
    """Creation time, Unix seconds."""


class DocumentCreated(DifyModel):
    """The answer of a document creation: the document and its indexing batch."""

    document: Document
    """The new document."""
    batch: str = ""
    """Batch id for ``get_indexing_status``."""


class DocumentPage(DifyModel):
    """A page of documents."""

    data: list[Document] = []
    """The documents."""
    has_more: bool = False
    """True when later pages exist."""
    limit: int = 20
    """Page size."""
    total: int = 0
    """Number of documents."""
    page: int = 1
    """Page number."""


class IndexingStatus(DifyModel):
    """Indexing progress of one document."""

    id: str
    """Document id."""
    indexing_status: str | None = None
    """``waiting``, ``parsing``, ``indexing``, ``completed``, ``error``..."""
    completed_segments: int | None = None
    """Segments indexed so far."""
    total_segments: int | None = None
    """Segments in total."""
    error: str | None = None
    """Error text."""


class IndexingStatusList(DifyModel):
    """Indexing progress of a batch."""

    data: list[IndexingStatus] = []
    """One entry per document of the batch."""


class SegmentPage(DifyModel):
    """Segments of a document."""

    data: list[Segment] = []
    """The segments."""
    doc_form: str | None = None
    """``text_model``, ``qa_model``, ``hierarchical_model``."""
    has_more: bool = False
    """True when later pages exist (1.x)."""
    total: int | None = None
    """Number of segments (1.x)."""
