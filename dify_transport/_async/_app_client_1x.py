"""`AsyncAppEndpoints1x`: the app-key endpoints Dify added in 1.x, as client methods.

A base of `AsyncDifyClient` (kept apart only to keep modules small); each method sends
one endpoint defined in ``dify_transport/_app_api_1x.py``.
"""

from __future__ import annotations

from typing import Any

from dify_transport import _app_api_1x as api1x
from dify_transport._app_api import Headers
from dify_transport._app_api_1x import ReplyAction
from dify_transport._async._engine import AsyncAPIClient
from dify_transport._base_client import TimeoutTypes
from dify_transport._errors import DifyConfigError
from dify_transport._reconnect import ReconnectPolicy
from dify_transport._streaming import AsyncStream
from dify_transport.types import (
    Annotation,
    AnnotationPage,
    AnnotationReplyJob,
    AppFeedbackPage,
    ConversationVariable,
    ConversationVariablePage,
    EndUser,
    HumanInputForm,
    PausedRun,
    Result,
)

__all__ = ["AsyncAppEndpoints1x"]


class AsyncAppEndpoints1x(AsyncAPIClient):
    """Conversation variables, end users, feedbacks, annotations, human input, run events."""

    # -- Dify 1.x: conversation variables, end users, feedbacks ------------------------

    async def get_conversation_variables(
        self,
        conversation_id: str,
        *,
        user: str,
        last_id: str | None = None,
        limit: int = 20,
        variable_name: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ConversationVariablePage:
        """One page of a chatflow conversation's variables (1.x)."""
        call = api1x.get_conversation_variables(
            conversation_id, user=user, last_id=last_id, limit=limit, variable_name=variable_name
        )
        return await self._send(call, timeout, extra_headers)

    async def update_conversation_variable(
        self,
        conversation_id: str,
        variable_id: str,
        *,
        user: str,
        value: Any,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ConversationVariable:
        """Set one conversation variable (the value must fit its ``value_type``; 1.x)."""
        call = api1x.update_conversation_variable(
            conversation_id, variable_id, user=user, value=value
        )
        return await self._send(call, timeout, extra_headers)

    async def get_end_user(
        self, end_user_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> EndUser:
        """An end user by Dify's id for it (1.x)."""
        return await self._send(api1x.get_end_user(end_user_id), timeout, extra_headers)

    async def get_file_preview(
        self,
        file_id: str,
        *,
        user: str | None = None,
        as_attachment: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> bytes:
        """The bytes of an uploaded or generated file (1.x)."""
        call = api1x.get_file_preview(file_id, user=user, as_attachment=as_attachment)
        return await self._send(call, timeout, extra_headers)

    async def get_app_feedbacks(
        self,
        *,
        page: int = 1,
        limit: int = 20,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AppFeedbackPage:
        """Every end user's likes and dislikes on this app, one page (1.x)."""
        return await self._send(
            api1x.get_app_feedbacks(page=page, limit=limit), timeout, extra_headers
        )

    # -- Dify 1.x: annotations --------------------------------------------------------

    async def create_annotation(
        self,
        question: str,
        answer: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Annotation:
        """Add an annotation (Dify replies ``answer`` to matching questions when enabled)."""
        return await self._send(api1x.create_annotation(question, answer), timeout, extra_headers)

    async def list_annotations(
        self,
        *,
        page: int = 1,
        limit: int = 20,
        keyword: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AnnotationPage:
        """One page of the app's annotations."""
        call = api1x.list_annotations(page=page, limit=limit, keyword=keyword)
        return await self._send(call, timeout, extra_headers)

    async def update_annotation(
        self,
        annotation_id: str,
        *,
        question: str,
        answer: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Annotation:
        """Replace an annotation's question and answer."""
        call = api1x.update_annotation(annotation_id, question=question, answer=answer)
        return await self._send(call, timeout, extra_headers)

    async def delete_annotation(
        self, annotation_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> None:
        """Delete an annotation."""
        await self._send(api1x.delete_annotation(annotation_id), timeout, extra_headers)

    async def set_annotation_reply(
        self,
        action: ReplyAction,
        *,
        embedding_provider_name: str,
        embedding_model_name: str,
        score_threshold: float,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AnnotationReplyJob:
        """Start enabling or disabling annotation reply (poll `get_annotation_reply_status`)."""
        call = api1x.set_annotation_reply(
            action,
            embedding_provider_name=embedding_provider_name,
            embedding_model_name=embedding_model_name,
            score_threshold=score_threshold,
        )
        return await self._send(call, timeout, extra_headers)

    async def get_annotation_reply_status(
        self,
        action: ReplyAction,
        job_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AnnotationReplyJob:
        """The status of an annotation-reply job."""
        call = api1x.get_annotation_reply_status(action, job_id)
        return await self._send(call, timeout, extra_headers)

    # -- Dify 1.x: human input and run events -----------------------------------------

    async def get_human_input_form(
        self, form_token: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> HumanInputForm:
        """The human-input form a paused run waits on (by its ``form_token``)."""
        return await self._send(api1x.get_human_input_form(form_token), timeout, extra_headers)

    async def submit_human_input_form(
        self,
        form_token: str,
        *,
        user: str,
        action: str,
        inputs: dict[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Answer a human-input form; the run resumes (follow it: `stream_workflow_events`).

        A form works once: a second answer raises (``human_input_form_submitted``), an
        expired form too (``human_input_form_expired``).
        """
        call = api1x.submit_human_input_form(
            form_token, user=user, action=action, inputs=dict(inputs or {})
        )
        await self._send(call, timeout, extra_headers)

    async def stream_workflow_events(
        self,
        workflow_run_id: str,
        *,
        user: str,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
        reconnect: bool | ReconnectPolicy | None = None,
    ) -> AsyncStream:
        """Follow a workflow or chatflow run's events from now on (same ``user`` as the run).

        Used after answering a human-input form, or to reconnect to a run. Leaving this
        stream does not stop the run. If its connection drops it resumes like
        `stream_workflow` (``reconnect``: None = the client's setting, False = off).
        """
        call = api1x.stream_workflow_events(workflow_run_id, user=user)
        return await self._stream(call, timeout, extra_headers, reconnect=reconnect)

    async def answer_form(
        self,
        paused: PausedRun,
        *,
        action: str,
        inputs: dict[str, Any] | None = None,
        node_id: str | None = None,
        user: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Result:
        """Answer a paused run's form and follow the same run to its end (never a new POST).

        `submit_human_input_form` with ``paused.form_token(node_id)``, then
        `stream_workflow_events` read to its `Result` (which may pause again at a later
        form: ``result.paused``). The run's own ``paused.user`` is used; ``user`` only
        when the handle has none.
        """
        run_user = paused.user or user
        if not run_user:
            raise DifyConfigError("The paused run names no user: pass user=... (the run's user)")
        run_id = paused.workflow_run_id
        if not run_id:
            raise DifyConfigError(
                "The paused run has no workflow_run_id, so its events cannot be followed: "
                "pass the PausedRun of a Result (result.paused) or of a paused error"
            )
        token = paused.form_token(node_id)
        await self.submit_human_input_form(
            token,
            user=run_user,
            action=action,
            inputs=inputs,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        events = await self.stream_workflow_events(
            run_id,
            user=run_user,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        async with events:
            return await events.final()
