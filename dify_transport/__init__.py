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

from dify_transport._aggregate import StreamAccumulator
from dify_transport._async._app_client import AsyncDifyClient
from dify_transport._async._knowledge_client import AsyncDifyKnowledgeClient
from dify_transport._base_client import AsyncHttpClient, HttpClient, TimeoutTypes
from dify_transport._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_USER,
    STOP_TIMEOUT,
)
from dify_transport._error_mapping import error_from_event, make_status_error
from dify_transport._errors import (
    AgentBlockingModeError,
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AppUnavailableError,
    AuthenticationError,
    BadRequestError,
    CompletionRequestError,
    ContentTooLargeError,
    ConversationNotFoundError,
    CursorNotFoundError,
    DifyConfigError,
    DifyError,
    IncompleteStreamError,
    InternalServerError,
    InvalidParamError,
    MessageNotFoundError,
    NotChatAppError,
    NotFoundError,
    NotWorkflowAppError,
    PermissionDeniedError,
    ProviderNotInitializeError,
    ProviderQuotaExceededError,
    RateLimitError,
    UnsupportedMediaTypeError,
    WorkflowFailedError,
)
from dify_transport._events import StreamEvent
from dify_transport._sse import SSEDecoder
from dify_transport._streaming import AsyncStream, Stream
from dify_transport._sync._app_client import DifyClient
from dify_transport._sync._knowledge_client import DifyKnowledgeClient
from dify_transport.types import (
    AgentThought,
    AppInfo,
    AppMeta,
    AppParameters,
    AppSite,
    Conversation,
    ConversationPage,
    Dataset,
    DatasetPage,
    Document,
    DocumentCreated,
    DocumentPage,
    FileInput,
    IndexingStatus,
    IndexingStatusList,
    Message,
    MessagePage,
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
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DEFAULT_USER",
    "STOP_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AgentBlockingModeError",
    "AgentThought",
    "AppInfo",
    "AppMeta",
    "AppParameters",
    "AppSite",
    "AppUnavailableError",
    "AsyncDifyClient",
    "AsyncDifyKnowledgeClient",
    "AsyncHttpClient",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "CompletionRequestError",
    "ContentTooLargeError",
    "Conversation",
    "ConversationNotFoundError",
    "ConversationPage",
    "CursorNotFoundError",
    "Dataset",
    "DatasetPage",
    "DifyClient",
    "DifyConfigError",
    "DifyError",
    "DifyKnowledgeClient",
    "Document",
    "DocumentCreated",
    "DocumentPage",
    "FileInput",
    "HttpClient",
    "IncompleteStreamError",
    "IndexingStatus",
    "IndexingStatusList",
    "InternalServerError",
    "InvalidParamError",
    "Message",
    "MessageNotFoundError",
    "MessagePage",
    "NotChatAppError",
    "NotFoundError",
    "NotWorkflowAppError",
    "PermissionDeniedError",
    "ProviderNotInitializeError",
    "ProviderQuotaExceededError",
    "RateLimitError",
    "Result",
    "RetrieveRecord",
    "RetrieveResponse",
    "RetrieverResource",
    "SSEDecoder",
    "Segment",
    "SegmentDocument",
    "SegmentPage",
    "Stream",
    "StreamAccumulator",
    "StreamEvent",
    "TimeoutTypes",
    "UnsupportedMediaTypeError",
    "UploadedFile",
    "Usage",
    "WorkflowFailedError",
    "WorkflowLogPage",
    "WorkflowRun",
    "error_from_event",
    "make_status_error",
]
