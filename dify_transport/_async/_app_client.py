"""`AsyncDifyClient`: the Service API of one app (app key).

Each method sends one endpoint defined in ``dify_transport/_app_api.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from dify_transport import _app_api as api
from dify_transport._app_api import Files, Headers, Inputs, Rating, SortBy
from dify_transport._async._app_client_1x import AsyncAppEndpoints1x
from dify_transport._base_client import TimeoutTypes
from dify_transport._constants import ENV_API_KEY
from dify_transport._files import FileTypes
from dify_transport._history import MessagePager
from dify_transport._reconnect import ReconnectPolicy
from dify_transport._streaming import AsyncStream
from dify_transport.types import (
    AppInfo,
    AppMeta,
    AppParameters,
    AppSite,
    Conversation,
    ConversationPage,
    Message,
    MessagePage,
    Result,
    UploadedFile,
    WorkflowLogPage,
    WorkflowRun,
)

__all__ = ["AsyncDifyClient"]


class AsyncDifyClient(AsyncAppEndpoints1x):
    """Asynchronous client for one Dify app's Service API.

    Setup: ``export DIFY_API_KEY=app-...`` (and ``DIFY_BASE_URL`` for self-hosted,
    ending in ``/v1``). The constructor does no I/O (it builds the HTTP client, so
    the first call pays no setup). ``max_connections`` (default
    ``DEFAULT_MAX_CONNECTIONS``, 1,000) bounds the connections, hence the concurrent
    streams, of that HTTP client; a request that finds them all busy for the timeout's
    ``pool`` phase raises `PoolTimeoutError`. `AsyncDifyClient` and `DifyClient` have
    the same methods.

    Example:
        ```python
        from dify_transport import AsyncDifyClient

        async with AsyncDifyClient() as client:
            result = await client.chat("What is Dify?", user="alice")
            print(result.answer, result.conversation_id)
            stream = await client.stream_chat("More?", user="alice")
            async with stream:
                async for event in stream:  # leaving early stops the Dify task
                    print(event.text or "", end="")
            final = await stream.final()
            print(final.usage)
        ```
    """

    _env_key = ENV_API_KEY

    # -- generation -------------------------------------------------------------------

    async def stream_chat(
        self,
        query: str,
        *,
        user: str,
        conversation_id: str | None = None,
        inputs: Inputs = None,
        files: Files = None,
        auto_generate_name: bool | None = None,
        workflow_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
        deadline: float | None = None,
        reconnect: bool | ReconnectPolicy | None = None,
    ) -> AsyncStream:
        """Start a streaming turn of a chat, agent or chatflow app.

        Args:
            query: The user's message.
            user: End-user id (conversations, stop and history are scoped by it).
            conversation_id: Continue this conversation (None starts a new one).
            inputs: App input variables.
            files: Files for the turn (``FileInput`` dicts).
            auto_generate_name: Let Dify name a new conversation (default on).
            workflow_id: Pin a published chatflow version (1.x).
            timeout: Per-call timeout (each connect / read / gap between reads).
            extra_headers: Extra HTTP headers for this request.
            deadline: Total seconds for the call, retries and the whole stream (None:
                the client's ``deadline``). When it passes mid-stream, reading raises
                `APITimeoutError` carrying the partial answer and the task is stopped.
            reconnect: A chatflow stream that drops resumes from the run's events
                (None: the client's setting; False: off; a `ReconnectPolicy`).

        Returns:
            A stream of events (HTTP errors before the stream starts raise here).
        """
        call = api.chat(
            query,
            user=user,
            streaming=True,
            conversation_id=conversation_id,
            inputs=inputs,
            files=files,
            auto_generate_name=auto_generate_name,
            workflow_id=workflow_id,
        )
        return await self._stream(call, timeout, extra_headers, deadline, reconnect)

    async def chat(
        self,
        query: str,
        *,
        user: str,
        conversation_id: str | None = None,
        inputs: Inputs = None,
        files: Files = None,
        auto_generate_name: bool | None = None,
        workflow_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
        deadline: float | None = None,
    ) -> Result:
        """Blocking turn (agent apps refuse it: use ``stream_chat(...).final()``)."""
        call = api.chat(
            query,
            user=user,
            streaming=False,
            conversation_id=conversation_id,
            inputs=inputs,
            files=files,
            auto_generate_name=auto_generate_name,
            workflow_id=workflow_id,
        )
        return await self._send(call, timeout, extra_headers, deadline)

    async def stream_completion(
        self,
        *,
        user: str,
        inputs: Inputs = None,
        query: str | None = None,
        files: Files = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
        deadline: float | None = None,
    ) -> AsyncStream:
        """Stream a completion app's answer (``query`` goes into ``inputs["query"]``)."""
        call = api.completion(user=user, streaming=True, inputs=inputs, query=query, files=files)
        return await self._stream(call, timeout, extra_headers, deadline)

    async def completion(
        self,
        *,
        user: str,
        inputs: Inputs = None,
        query: str | None = None,
        files: Files = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
        deadline: float | None = None,
    ) -> Result:
        """Blocking completion (``query`` goes into ``inputs["query"]``)."""
        call = api.completion(user=user, streaming=False, inputs=inputs, query=query, files=files)
        return await self._send(call, timeout, extra_headers, deadline)

    async def stream_workflow(
        self,
        *,
        user: str,
        inputs: Inputs = None,
        files: Files = None,
        workflow_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
        deadline: float | None = None,
        reconnect: bool | ReconnectPolicy | None = None,
    ) -> AsyncStream:
        """Stream a workflow run (``text_chunk`` deltas, ``workflow_finished``).

        A dropped connection resumes from the run's events endpoint (``reconnect``:
        None = the client's setting, False = off, or a `ReconnectPolicy`).
        """
        call = api.run_workflow(
            user=user, streaming=True, inputs=inputs, files=files, workflow_id=workflow_id
        )
        return await self._stream(call, timeout, extra_headers, deadline, reconnect)

    async def run_workflow(
        self,
        *,
        user: str,
        inputs: Inputs = None,
        files: Files = None,
        workflow_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
        deadline: float | None = None,
    ) -> Result:
        """Blocking workflow run; ``status: "failed"`` raises `WorkflowFailedError`."""
        call = api.run_workflow(
            user=user, streaming=False, inputs=inputs, files=files, workflow_id=workflow_id
        )
        return await self._send(call, timeout, extra_headers, deadline)

    async def cite(
        self,
        query: str,
        *,
        user: str,
        inputs: Inputs = None,
        delete_conversation: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Result:
        """Ask a chat app ``query`` and return the turn with the passages it cites.

        What the retrievers of both frameworks use: the app's own knowledge settings
        decide what is found (it must have citations, "retriever resource", enabled).
        The turn streams (agent apps refuse blocking), starts a new conversation that
        Dify is asked not to title (``auto_generate_name=False`` saves an LLM call),
        and ``retriever_resources`` come in citation order (``position``).
        ``delete_conversation=True`` deletes the conversation the question created.
        """
        stream = await self.stream_chat(
            query,
            user=user,
            inputs=inputs,
            auto_generate_name=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        async with stream:
            result = await stream.final()
        if delete_conversation and result.conversation_id:
            await self.delete_conversation(
                result.conversation_id, user=user, timeout=timeout, extra_headers=extra_headers
            )
        return api.in_citation_order(result)

    async def get_workflow_run(
        self, run_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> WorkflowRun:
        """Run detail; an unknown id raises `NotFoundError` on every Dify version."""
        return await self._send(api.get_workflow_run(run_id), timeout, extra_headers)

    async def get_workflow_logs(
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
        call = api.get_workflow_logs(page=page, limit=limit, keyword=keyword, status=status)
        return await self._send(call, timeout, extra_headers)

    async def stop_chat(
        self,
        task_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Stop a chat/agent/chatflow generation (same ``user`` as the stream, or no effect)."""
        await self._send(api.stop_task(api.CHAT_STOP, task_id, user=user), timeout, extra_headers)

    async def stop_completion(
        self,
        task_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Stop a completion generation."""
        call = api.stop_task(api.COMPLETION_STOP, task_id, user=user)
        await self._send(call, timeout, extra_headers)

    async def stop_workflow(
        self,
        task_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Stop a workflow run."""
        call = api.stop_task(api.WORKFLOW_STOP, task_id, user=user)
        await self._send(call, timeout, extra_headers)

    # -- conversations and messages --------------------------------------------------

    async def get_messages(
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
        call = api.get_messages(conversation_id, user=user, first_id=first_id, limit=limit)
        return await self._send(call, timeout, extra_headers)

    async def iter_messages(
        self,
        conversation_id: str,
        *,
        user: str,
        page_size: int = 100,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AsyncIterator[Message]:
        """The whole conversation, oldest first, each message once (fetches every page).

        Same-second messages are never skipped at a page boundary (see ``_history``).
        """
        pager = MessagePager(conversation_id, page_size)
        while not pager.done:
            call = api.get_messages(
                conversation_id, user=user, first_id=pager.first_id, limit=pager.limit
            )
            pager.add(await self._send(call, timeout, extra_headers))
        for message in pager.messages():
            yield message

    async def get_conversations(
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
        call = api.get_conversations(user=user, last_id=last_id, limit=limit, sort_by=sort_by)
        return await self._send(call, timeout, extra_headers)

    async def iter_conversations(
        self,
        *,
        user: str,
        page_size: int = 100,
        sort_by: SortBy = "-updated_at",
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AsyncIterator[Conversation]:
        """Every conversation of ``user``, each once, page by page."""
        seen: set[str] = set()
        last_id: str | None = None
        guard = api.PageGuard(f"the conversations of user {user!r}")
        while True:
            call = api.get_conversations(
                user=user, last_id=last_id, limit=page_size, sort_by=sort_by
            )
            page = await self._send(call, timeout, extra_headers)
            for conversation in page.data:
                if conversation.id not in seen:
                    seen.add(conversation.id)
                    yield conversation
            if not page.has_more or not page.data or page.data[-1].id == last_id:
                return
            guard.next_page([c.id for c in page.data])
            last_id = page.data[-1].id

    async def rename_conversation(
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
        call = api.rename_conversation(
            conversation_id, user=user, name=name, auto_generate=auto_generate
        )
        return await self._send(call, timeout, extra_headers)

    async def delete_conversation(
        self,
        conversation_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Delete a conversation (always sends a JSON body; accepts 204 and 200)."""
        call = api.delete_conversation(conversation_id, user=user)
        await self._send(call, timeout, extra_headers)

    async def send_feedback(
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
        call = api.send_feedback(message_id, user=user, rating=rating, content=content)
        await self._send(call, timeout, extra_headers)

    async def get_suggested_questions(
        self,
        message_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> list[str]:
        """Follow-up questions Dify suggests after a message."""
        call = api.get_suggested_questions(message_id, user=user)
        return await self._send(call, timeout, extra_headers)

    # -- app info ---------------------------------------------------------------------

    async def get_server_info(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> dict[str, Any]:
        """``GET /v1/``: ``welcome``, ``api_version``, ``server_version`` (no key needed)."""
        return await self._send(api.get_server_info(), timeout, extra_headers)

    async def get_parameters(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> AppParameters:
        """The app's input form and features."""
        return await self._send(api.get_parameters(), timeout, extra_headers)

    async def get_meta(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> AppMeta:
        """Tool icons."""
        return await self._send(api.get_meta(), timeout, extra_headers)

    async def get_info(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> AppInfo:
        """App name, description, tags (and mode on 1.x)."""
        return await self._send(api.get_info(), timeout, extra_headers)

    async def get_site(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> AppSite:
        """WebApp settings (1.x)."""
        return await self._send(api.get_site(), timeout, extra_headers)

    # -- files and audio --------------------------------------------------------------

    async def upload_file(
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
        call = api.upload_file(file, user=user, filename=filename, mime_type=mime_type)
        return await self._send(call, timeout, extra_headers)

    async def audio_to_text(
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
        call = api.audio_to_text(file, user=user, filename=filename, mime_type=mime_type)
        return await self._send(call, timeout, extra_headers)

    async def text_to_audio(
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
        call = api.text_to_audio(user=user, text=text, message_id=message_id, voice=voice)
        return await self._send(call, timeout, extra_headers)
