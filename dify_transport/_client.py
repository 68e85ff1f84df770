"""`DifyClient` (and, re-exported, `AsyncDifyClient`): the Service API for one app."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from dify_transport._async_client import AsyncDifyClient
from dify_transport._base_client import Call, SyncAPIClient, TimeoutTypes
from dify_transport._calls import (
    CHAT_STOP,
    COMPLETION_STOP,
    WORKFLOW_STOP,
    FileTypes,
    Headers,
    Rating,
    SortBy,
    audio_part,
    blocking_result,
    chat_call,
    completion_call,
    conversations_call,
    feedback_call,
    file_part,
    messages_call,
    oldest_first,
    rename_call,
    seg,
    text_to_audio_bytes,
    tts_call,
    workflow_call,
    workflow_run,
)
from dify_transport._constants import DEFAULT_MAX_RETRIES, ENV_API_KEY
from dify_transport._streaming import Stream
from dify_transport.types import (
    AppInfo,
    AppMeta,
    AppParameters,
    AppSite,
    Conversation,
    ConversationPage,
    FileInput,
    Message,
    MessagePage,
    Result,
    UploadedFile,
    WorkflowLogPage,
    WorkflowRun,
)

__all__ = ["AsyncDifyClient", "DifyClient"]


class DifyClient(SyncAPIClient):
    """Synchronous client for one Dify app's Service API.

    Setup: ``export DIFY_API_KEY=app-...`` (and ``DIFY_BASE_URL`` for self-hosted,
    ending in ``/v1``). The constructor does no I/O.

    Example:
        ```python
        from dify_transport import DifyClient

        with DifyClient() as client:
            result = client.chat("What is Dify?", user="alice")  # blocking
            print(result.answer, result.conversation_id)

            with client.stream_chat(
                "And in short?", user="alice", conversation_id=result.conversation_id
            ) as stream:
                for event in stream:  # breaking out calls the stop endpoint
                    print(event.text or "", end="")
            print(stream.final().usage)
        ```

    Async: `AsyncDifyClient` has the same methods; ``await`` them
    (``stream = await client.stream_chat(...)``; ``async for event in stream``).
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
        )

    _env_key = ENV_API_KEY

    def _stream(
        self, call: Call, stop_path: str, timeout: TimeoutTypes, headers: Headers
    ) -> Stream:
        response = self._request(call, timeout=timeout, extra_headers=headers, stream=True)
        user = call.user or ""
        stop = self._stop_quietly(stop_path, user, headers)
        return Stream(response, user=call.user, stop=stop, secret=self._secret)

    # -- generation -------------------------------------------------------------------

    def stream_chat(
        self,
        query: str,
        *,
        user: str,
        conversation_id: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        files: Sequence[FileInput | Mapping[str, Any]] | None = None,
        auto_generate_name: bool | None = None,
        workflow_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Stream:
        """Start a streaming turn of a chat, agent or chatflow app.

        Args:
            query: The user's message.
            user: End-user id (conversations, stop and history are scoped by it).
            conversation_id: Continue this conversation (None starts a new one).
            inputs: App input variables.
            files: Files for the turn (``FileInput`` dicts).
            auto_generate_name: Let Dify name a new conversation (default on).
            workflow_id: Pin a published chatflow version (1.x).
            timeout: Per-call timeout.
            extra_headers: Extra HTTP headers for this request.

        Returns:
            A `Stream` of events (HTTP errors before the stream starts raise here).
        """
        call = chat_call(
            query,
            user=user,
            streaming=True,
            conversation_id=conversation_id,
            inputs=inputs,
            files=files,
            auto_generate_name=auto_generate_name,
            workflow_id=workflow_id,
        )
        return self._stream(call, CHAT_STOP, timeout, extra_headers)

    def chat(
        self,
        query: str,
        *,
        user: str,
        conversation_id: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        files: Sequence[FileInput | Mapping[str, Any]] | None = None,
        auto_generate_name: bool | None = None,
        workflow_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Result:
        """Blocking turn (agent apps refuse it: use ``stream_chat(...).final()``)."""
        call = chat_call(
            query,
            user=user,
            streaming=False,
            conversation_id=conversation_id,
            inputs=inputs,
            files=files,
            auto_generate_name=auto_generate_name,
            workflow_id=workflow_id,
        )
        blocking = self._blocking_timeout(timeout)
        return blocking_result(self._request(call, timeout=blocking, extra_headers=extra_headers))

    def stream_completion(
        self,
        *,
        user: str,
        inputs: Mapping[str, Any] | None = None,
        query: str | None = None,
        files: Sequence[FileInput | Mapping[str, Any]] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Stream:
        """Stream a completion app's answer (``query`` goes into ``inputs["query"]``)."""
        call = completion_call(user=user, streaming=True, inputs=inputs, query=query, files=files)
        return self._stream(call, COMPLETION_STOP, timeout, extra_headers)

    def completion(
        self,
        *,
        user: str,
        inputs: Mapping[str, Any] | None = None,
        query: str | None = None,
        files: Sequence[FileInput | Mapping[str, Any]] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Result:
        """Blocking completion (``query`` goes into ``inputs["query"]``)."""
        call = completion_call(user=user, streaming=False, inputs=inputs, query=query, files=files)
        blocking = self._blocking_timeout(timeout)
        return blocking_result(self._request(call, timeout=blocking, extra_headers=extra_headers))

    def stream_workflow(
        self,
        *,
        user: str,
        inputs: Mapping[str, Any] | None = None,
        files: Sequence[FileInput | Mapping[str, Any]] | None = None,
        workflow_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Stream:
        """Stream a workflow run (``text_chunk`` deltas, ``workflow_finished``)."""
        call = workflow_call(
            user=user, streaming=True, inputs=inputs, files=files, workflow_id=workflow_id
        )
        return self._stream(call, WORKFLOW_STOP, timeout, extra_headers)

    def run_workflow(
        self,
        *,
        user: str,
        inputs: Mapping[str, Any] | None = None,
        files: Sequence[FileInput | Mapping[str, Any]] | None = None,
        workflow_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Result:
        """Blocking workflow run; ``status: "failed"`` raises `WorkflowFailedError`."""
        call = workflow_call(
            user=user, streaming=False, inputs=inputs, files=files, workflow_id=workflow_id
        )
        blocking = self._blocking_timeout(timeout)
        return blocking_result(self._request(call, timeout=blocking, extra_headers=extra_headers))

    def get_workflow_run(
        self, run_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> WorkflowRun:
        """Run detail; an unknown id raises `NotFoundError` on every Dify version."""
        call = Call("GET", f"/workflows/run/{seg(run_id)}")
        response = self._request(call, timeout=timeout, extra_headers=extra_headers)
        return workflow_run(response, run_id, self._secret)

    def get_workflow_logs(
        self,
        *,
        page: int = 1,
        limit: int = 20,
        keyword: str | None = None,
        status: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> WorkflowLogPage:
        """One page of workflow logs (page-number paging)."""
        params = {"page": page, "limit": limit, "keyword": keyword, "status": status}
        call = Call("GET", "/workflows/logs", params=params)
        return WorkflowLogPage.model_validate(
            self._json(call, timeout=timeout, extra_headers=extra_headers)
        )

    def _stop(self, path: str, task_id: str, user: str, timeout: TimeoutTypes, h: Headers) -> None:
        call = Call("POST", path.format(task_id=seg(task_id)), json={"user": user}, user=user)
        self._request(call, timeout=timeout, extra_headers=h).close()

    def stop_chat(
        self,
        task_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Stop a chat/agent/chatflow generation (same ``user`` as the stream, or no effect)."""
        self._stop(CHAT_STOP, task_id, user, timeout, extra_headers)

    def stop_completion(
        self,
        task_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Stop a completion generation."""
        self._stop(COMPLETION_STOP, task_id, user, timeout, extra_headers)

    def stop_workflow(
        self,
        task_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Stop a workflow run."""
        self._stop(WORKFLOW_STOP, task_id, user, timeout, extra_headers)

    # -- conversations and messages --------------------------------------------------

    def get_messages(
        self,
        conversation_id: str,
        *,
        user: str,
        first_id: str | None = None,
        limit: int = 20,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> MessagePage:
        """One page of history: the newest ``limit`` messages older than ``first_id``."""
        call = messages_call(conversation_id, user, first_id, limit)
        return MessagePage.model_validate(
            self._json(call, timeout=timeout, extra_headers=extra_headers)
        )

    def iter_messages(
        self,
        conversation_id: str,
        *,
        user: str,
        page_size: int = 100,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Iterator[Message]:
        """The whole conversation, oldest first, each message once (fetches every page)."""
        pages: list[list[Message]] = []
        first_id: str | None = None
        while True:
            page = self.get_messages(
                conversation_id,
                user=user,
                first_id=first_id,
                limit=page_size,
                timeout=timeout,
                extra_headers=extra_headers,
            )
            pages.append(page.data)
            if not page.has_more or not page.data or page.data[0].id == first_id:
                break
            first_id = page.data[0].id
        return iter(oldest_first(pages))

    def get_conversations(
        self,
        *,
        user: str,
        last_id: str | None = None,
        limit: int = 20,
        sort_by: SortBy = "-updated_at",
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ConversationPage:
        """One page of this user's conversations after ``last_id``."""
        call = conversations_call(user, last_id, limit, sort_by)
        return ConversationPage.model_validate(
            self._json(call, timeout=timeout, extra_headers=extra_headers)
        )

    def iter_conversations(
        self,
        *,
        user: str,
        page_size: int = 100,
        sort_by: SortBy = "-updated_at",
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Iterator[Conversation]:
        """Every conversation of ``user``, each once, page by page."""
        seen: set[str] = set()
        last_id: str | None = None
        while True:
            page = self.get_conversations(
                user=user,
                last_id=last_id,
                limit=page_size,
                sort_by=sort_by,
                timeout=timeout,
                extra_headers=extra_headers,
            )
            for conversation in page.data:
                if conversation.id not in seen:
                    seen.add(conversation.id)
                    yield conversation
            if not page.has_more or not page.data or page.data[-1].id == last_id:
                return
            last_id = page.data[-1].id

    def rename_conversation(
        self,
        conversation_id: str,
        *,
        user: str,
        name: str | None = None,
        auto_generate: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Conversation:
        """Rename a conversation (or let Dify generate a name)."""
        call = rename_call(conversation_id, user, name, auto_generate)
        return Conversation.model_validate(
            self._json(call, timeout=timeout, extra_headers=extra_headers)
        )

    def delete_conversation(
        self,
        conversation_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Delete a conversation (always sends a JSON body; accepts 204 and 200)."""
        call = Call(
            "DELETE", f"/conversations/{seg(conversation_id)}", json={"user": user}, user=user
        )
        self._request(call, timeout=timeout, extra_headers=extra_headers).close()

    def send_feedback(
        self,
        message_id: str,
        *,
        user: str,
        rating: Rating,
        content: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Like, dislike, or (``rating=None``) revoke feedback on a message."""
        call = feedback_call(message_id, user, rating, content)
        self._request(call, timeout=timeout, extra_headers=extra_headers).close()

    def get_suggested_questions(
        self,
        message_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> list[str]:
        """Follow-up questions Dify suggests after a message."""
        call = Call(
            "GET", f"/messages/{seg(message_id)}/suggested", params={"user": user}, user=user
        )
        body = self._json(call, timeout=timeout, extra_headers=extra_headers) or {}
        return [str(q) for q in body.get("data") or []]

    # -- app info ---------------------------------------------------------------------

    def get_server_info(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> dict[str, Any]:
        """``GET /v1/``: ``welcome``, ``api_version``, ``server_version`` (no key needed)."""
        body = self._json(Call("GET", "/"), timeout=timeout, extra_headers=extra_headers)
        return dict(body) if isinstance(body, dict) else {}

    def get_parameters(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> AppParameters:
        """The app's input form and features."""
        body = self._json(Call("GET", "/parameters"), timeout=timeout, extra_headers=extra_headers)
        return AppParameters.model_validate(body)

    def get_meta(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> AppMeta:
        """Tool icons."""
        body = self._json(Call("GET", "/meta"), timeout=timeout, extra_headers=extra_headers)
        return AppMeta.model_validate(body)

    def get_info(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> AppInfo:
        """App name, description, tags (and mode on 1.x)."""
        body = self._json(Call("GET", "/info"), timeout=timeout, extra_headers=extra_headers)
        return AppInfo.model_validate(body)

    def get_site(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> AppSite:
        """WebApp settings (1.x)."""
        body = self._json(Call("GET", "/site"), timeout=timeout, extra_headers=extra_headers)
        return AppSite.model_validate(body)

    # -- files and audio --------------------------------------------------------------

    def upload_file(
        self,
        file: FileTypes,
        *,
        user: str,
        filename: str | None = None,
        mime_type: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> UploadedFile:
        """Upload a file for later ``files=[{"transfer_method": "local_file", ...}]``."""
        part = file_part(file, filename, mime_type)
        call = Call(
            "POST",
            "/files/upload",
            files={"file": part},
            data={"user": user},
            idempotent=False,
            user=user,
        )
        return UploadedFile.model_validate(
            self._json(call, timeout=timeout, extra_headers=extra_headers)
        )

    def audio_to_text(
        self,
        file: FileTypes,
        *,
        user: str,
        filename: str | None = None,
        mime_type: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> str:
        """Transcribe audio (mp3, m4a, wav, amr, mpga; the part's MIME type is set for Dify)."""
        part = audio_part(file, filename, mime_type)
        call = Call(
            "POST",
            "/audio-to-text",
            files={"file": part},
            data={"user": user},
            idempotent=False,
            user=user,
        )
        body = self._json(call, timeout=timeout, extra_headers=extra_headers) or {}
        return str(body.get("text") or "")

    def text_to_audio(
        self,
        *,
        user: str,
        text: str | None = None,
        message_id: str | None = None,
        voice: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> bytes:
        """Synthesize speech for ``text`` or a message's answer."""
        call = tts_call(user, text, message_id, voice)
        return text_to_audio_bytes(
            self._request(call, timeout=timeout, extra_headers=extra_headers)
        )
