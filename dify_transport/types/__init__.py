"""Pydantic models of Dify responses.

Every model keeps unknown fields (``extra="allow"``: Dify adds fields every release)
and accepts both the 0.15.x and the 1.x wire: sparse metadata, prices as decimal
strings (``"0.0010330"``, ``"0E-7"``), timestamps as ints or RFC-822 strings, and
JSON-encoded ``inputs``/``outputs`` strings.

The models live in modules named for what they hold: ``_common`` (the base model and
wire helpers), ``_generation`` (a generation's result, usage, citations, agent steps),
``_conversations`` (history), ``_workflows`` (run detail, logs), ``_app`` (app
parameters, info, uploads) and ``_knowledge`` (datasets, documents, segments,
retrieve). Import them from here.
"""

from __future__ import annotations

from dify_transport.types._app import AppInfo, AppMeta, AppParameters, AppSite, UploadedFile
from dify_transport.types._app_extras import (
    Annotation,
    AnnotationPage,
    AnnotationReplyJob,
    AppFeedback,
    AppFeedbackPage,
    ConversationVariable,
    ConversationVariablePage,
    EndUser,
    HumanInputForm,
)
from dify_transport.types._common import DifyModel
from dify_transport.types._conversations import (
    Conversation,
    ConversationPage,
    Message,
    MessagePage,
)
from dify_transport.types._generation import (
    AgentThought,
    FileInput,
    NodeRun,
    PausedRun,
    PendingForm,
    Result,
    RetrieverResource,
    Usage,
)
from dify_transport.types._knowledge import (
    Dataset,
    DatasetPage,
    Document,
    DocumentCreated,
    DocumentPage,
    IndexingStatus,
    IndexingStatusList,
    RetrieveRecord,
    RetrieveResponse,
    Segment,
    SegmentDocument,
    SegmentPage,
)
from dify_transport.types._knowledge_admin import (
    BuiltInField,
    ChildChunk,
    ChildChunkPage,
    DatasetTags,
    DocumentDownload,
    DocumentMetadataValue,
    KnowledgeTag,
    MetadataField,
    MetadataFieldList,
    ModelProvider,
    ModelProviderList,
    SegmentDetail,
    SegmentList,
)
from dify_transport.types._stream_events import (
    AgentLogEvent,
    AgentLogStep,
    IterationEvent,
    LoopEvent,
    NodeRetryEvent,
    RunEventEnvelope,
    TextChunkEvent,
    TTSMessageEvent,
    WorkflowStartedEvent,
)
from dify_transport.types._workflows import WorkflowLogPage, WorkflowRun

__all__ = [
    "AgentLogEvent",
    "AgentLogStep",
    "AgentThought",
    "Annotation",
    "AnnotationPage",
    "AnnotationReplyJob",
    "AppFeedback",
    "AppFeedbackPage",
    "AppInfo",
    "AppMeta",
    "AppParameters",
    "AppSite",
    "BuiltInField",
    "ChildChunk",
    "ChildChunkPage",
    "Conversation",
    "ConversationPage",
    "ConversationVariable",
    "ConversationVariablePage",
    "Dataset",
    "DatasetPage",
    "DatasetTags",
    "DifyModel",
    "Document",
    "DocumentCreated",
    "DocumentDownload",
    "DocumentMetadataValue",
    "DocumentPage",
    "EndUser",
    "FileInput",
    "HumanInputForm",
    "IndexingStatus",
    "IndexingStatusList",
    "KnowledgeTag",
    "Message",
    "MessagePage",
    "MetadataField",
    "MetadataFieldList",
    "ModelProvider",
    "ModelProviderList",
    "IterationEvent",
    "LoopEvent",
    "NodeRetryEvent",
    "NodeRun",
    "PausedRun",
    "PendingForm",
    "Result",
    "RetrieveRecord",
    "RetrieveResponse",
    "RetrieverResource",
    "RunEventEnvelope",
    "Segment",
    "SegmentDetail",
    "SegmentDocument",
    "SegmentList",
    "SegmentPage",
    "TTSMessageEvent",
    "TextChunkEvent",
    "UploadedFile",
    "Usage",
    "WorkflowLogPage",
    "WorkflowRun",
    "WorkflowStartedEvent",
]
