"""A framework-free, typed client for Dify's Service API (sync and async, streaming).

Example:
    ```python
    from dify_transport import DifyClient

    client = DifyClient(api_key="app-...", base_url="https://api.dify.ai/v1")
    with client.stream_chat("Hello", user="alice") as stream:
        for event in stream:
            print(event.text or "", end="")
    ```
"""

from __future__ import annotations

from dify_transport import _errors
from dify_transport._aggregate import StreamAccumulator
from dify_transport._async._app_client import AsyncDifyClient
from dify_transport._async._knowledge_client import AsyncDifyKnowledgeClient
from dify_transport._base_client import AsyncHttpClient, HttpClient, TimeoutTypes, trace_headers
from dify_transport._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_USER,
    STOP_TIMEOUT,
)
from dify_transport._error_mapping import error_from_event, make_status_error
from dify_transport._errors import *  # noqa: F403 - the error tree, as its __all__ lists it
from dify_transport._events import StreamEvent
from dify_transport._indexing import (
    IndexingError,
    IndexingFailedError,
    IndexingPausedError,
    IndexingTimeoutError,
)
from dify_transport._ingest import TextDocument
from dify_transport._reconnect import ReconnectPolicy
from dify_transport._sse import SSEDecoder
from dify_transport._streaming import AsyncStream, Stream
from dify_transport._sync._app_client import DifyClient
from dify_transport._sync._knowledge_client import DifyKnowledgeClient
from dify_transport.metadata_filter import MetadataFilterError
from dify_transport.types import (
    AgentLogStep,
    AgentThought,
    Annotation,
    AnnotationPage,
    AnnotationReplyJob,
    AppFeedback,
    AppFeedbackPage,
    AppInfo,
    AppMeta,
    AppParameters,
    AppSite,
    Conversation,
    ConversationPage,
    ConversationVariable,
    ConversationVariablePage,
    Dataset,
    DatasetPage,
    Document,
    DocumentCreated,
    DocumentPage,
    EndUser,
    FileInput,
    HumanInputForm,
    IndexingStatus,
    IndexingStatusList,
    Message,
    MessagePage,
    NodeRun,
    PausedRun,
    PendingForm,
    Result,
    RetrieveRecord,
    RetrieveResponse,
    RetrieverResource,
    Segment,
    SegmentDocument,
    SegmentPage,
    UploadedFile,
    Usage,
    WorkflowLogPage,
    WorkflowRun,
)

__all__ = [
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
    "AsyncDifyClient",
    "AsyncDifyKnowledgeClient",
    "AsyncHttpClient",
    "AsyncStream",
    "Conversation",
    "ConversationPage",
    "ConversationVariable",
    "ConversationVariablePage",
    "Dataset",
    "DatasetPage",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DEFAULT_USER",
    "DifyClient",
    "DifyKnowledgeClient",
    "Document",
    "DocumentCreated",
    "DocumentPage",
    "EndUser",
    "error_from_event",
    "FileInput",
    "HttpClient",
    "HumanInputForm",
    "IndexingStatus",
    "IndexingStatusList",
    "make_status_error",
    "Message",
    "MessagePage",
    "NodeRun",
    "PausedRun",
    "PendingForm",
    "ReconnectPolicy",
    "Result",
    "RetrieveRecord",
    "RetrieveResponse",
    "RetrieverResource",
    "Segment",
    "SegmentDocument",
    "SegmentPage",
    "SSEDecoder",
    "STOP_TIMEOUT",
    "Stream",
    "StreamAccumulator",
    "StreamEvent",
    "TimeoutTypes",
    "trace_headers",
    "UploadedFile",
    "Usage",
    "WorkflowLogPage",
    "WorkflowRun",
    # knowledge (issue 12)
    "IndexingError",
    "IndexingFailedError",
    "IndexingPausedError",
    "IndexingTimeoutError",
    "MetadataFilterError",
    "TextDocument",
]
__all__ += _errors.__all__
