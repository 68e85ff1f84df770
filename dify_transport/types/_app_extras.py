"""Dify 1.x app answers: variables, end users, feedbacks, annotations, human-input forms."""

# Pydantic copies list/dict defaults per instance; ruff cannot see across files that
# DifyModel is a BaseModel, hence:
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any

from dify_transport.types._common import DifyModel

__all__ = [
    "Annotation",
    "AnnotationPage",
    "AnnotationReplyJob",
    "AppFeedback",
    "AppFeedbackPage",
    "ConversationVariable",
    "ConversationVariablePage",
    "EndUser",
    "HumanInputForm",
]


class ConversationVariable(DifyModel):
    """One conversation variable of a chatflow (``GET /conversations/{id}/variables``)."""

    id: str
    name: str | None = None
    value_type: str | None = None
    """``string``, ``number``, ``object``, ``array[...]``, ..."""
    value: Any = None
    """The value as Dify sends it (a string for strings and numbers alike)."""
    description: str | None = None
    created_at: int | str | None = None
    updated_at: int | str | None = None


class ConversationVariablePage(DifyModel):
    """One page of conversation variables (cursor paging with ``last_id``)."""

    data: list[ConversationVariable] = []
    has_more: bool = False
    limit: int | None = None


class EndUser(DifyModel):
    """An end user of the app (``GET /end-users/{id}``); ``session_id`` is the ``user``."""

    id: str
    session_id: str | None = None
    """The ``user`` string the calls carried."""
    external_user_id: str | None = None
    is_anonymous: bool | None = None
    type: str | None = None
    created_at: int | str | None = None
    updated_at: int | str | None = None


class AppFeedback(DifyModel):
    """A like/dislike an end user gave a message (``GET /app/feedbacks``)."""

    id: str
    message_id: str | None = None
    conversation_id: str | None = None
    rating: str | None = None
    content: str | None = None
    from_end_user_id: str | None = None
    created_at: int | str | None = None


class AppFeedbackPage(DifyModel):
    """One page of the app's feedbacks (page-number paging)."""

    data: list[AppFeedback] = []


class Annotation(DifyModel):
    """An annotation: a question and the answer Dify replies with when it matches."""

    id: str
    question: str | None = None
    answer: str | None = None
    hit_count: int | None = None
    created_at: int | str | None = None


class AnnotationPage(DifyModel):
    """One page of annotations (page-number paging)."""

    data: list[Annotation] = []
    has_more: bool = False
    limit: int | None = None
    total: int | None = None
    page: int | None = None


class AnnotationReplyJob(DifyModel):
    """An enable/disable annotation-reply job (``waiting`` ... ``completed`` / ``error``)."""

    job_id: str
    job_status: str | None = None
    error_msg: str | None = None


class HumanInputForm(DifyModel):
    """A human-input form a paused run waits on (``GET /form/human_input/{form_token}``)."""

    form_content: str | None = None
    """The form's text (Markdown) shown to the human."""
    inputs: list[dict[str, Any]] = []
    """The fields: ``type``, ``output_variable_name``, ``default``, options ..."""
    resolved_default_values: dict[str, Any] = {}
    user_actions: list[dict[str, Any]] = []
    """The buttons: ``id``, ``title``, ``button_style``."""
    expiration_time: int | str | None = None
    """When the form expires (Unix seconds)."""
