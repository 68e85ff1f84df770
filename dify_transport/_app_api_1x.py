"""App-key endpoints Dify added in 1.x, defined once (pure: no I/O).

Conversation variables, end users, file preview, feedback listing, annotations,
human-input forms and a run's event stream. Same rules as ``_app_api.py``: one
builder per endpoint returning a `Call` with its parser; a POST creates work unless
it says ``creates_work=False``.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import httpx

from dify_transport._app_api import model_parser, no_content, raw_content
from dify_transport._base_client import Call, parse_json, seg
from dify_transport.types import (
    Annotation,
    AnnotationPage,
    AnnotationReplyJob,
    AppFeedbackPage,
    ConversationVariable,
    ConversationVariablePage,
    EndUser,
    HumanInputForm,
    Result,
)

__all__ = [
    "ReplyAction",
    "create_annotation",
    "delete_annotation",
    "get_annotation_reply_status",
    "get_app_feedbacks",
    "get_conversation_variables",
    "get_end_user",
    "get_file_preview",
    "get_human_input_form",
    "list_annotations",
    "set_annotation_reply",
    "stream_workflow_events",
    "submit_human_input_form",
    "update_annotation",
    "update_conversation_variable",
]

ReplyAction: TypeAlias = Literal["enable", "disable"]


def get_conversation_variables(
    conversation_id: str,
    *,
    user: str,
    last_id: str | None,
    limit: int,
    variable_name: str | None,
) -> Call[ConversationVariablePage]:
    """``GET /conversations/{id}/variables`` (chatflow apps)."""
    params = {"user": user, "last_id": last_id, "limit": limit, "variable_name": variable_name}
    return Call(
        "GET",
        f"/conversations/{seg(conversation_id)}/variables",
        parse=model_parser(ConversationVariablePage),
        params=params,
        user=user,
        since="1.0",
    )


def update_conversation_variable(
    conversation_id: str, variable_id: str, *, user: str, value: Any
) -> Call[ConversationVariable]:
    """``PUT /conversations/{id}/variables/{variable_id}`` (the value must fit its type)."""
    path = f"/conversations/{seg(conversation_id)}/variables/{seg(variable_id)}"
    body = {"value": value, "user": user}
    return Call(
        "PUT", path, parse=model_parser(ConversationVariable), json=body, user=user, since="1.0"
    )


def get_end_user(end_user_id: str) -> Call[EndUser]:
    """``GET /end-users/{id}`` (the id Dify gives an end user, not the ``user`` string)."""
    return Call("GET", f"/end-users/{seg(end_user_id)}", parse=model_parser(EndUser), since="1.13")


def get_file_preview(file_id: str, *, user: str | None, as_attachment: bool) -> Call[bytes]:
    """``GET /files/{id}/preview``: the bytes of an uploaded or generated file."""
    params = {"user": user, "as_attachment": "true" if as_attachment else None}
    return Call(
        "GET", f"/files/{seg(file_id)}/preview", parse=raw_content, params=params, user=user
    )


def get_app_feedbacks(*, page: int, limit: int) -> Call[AppFeedbackPage]:
    """``GET /app/feedbacks`` (every end user's likes and dislikes, page-number paging)."""
    params = {"page": page, "limit": limit}
    return Call("GET", "/app/feedbacks", parse=model_parser(AppFeedbackPage), params=params)


def create_annotation(question: str, answer: str) -> Call[Annotation]:
    """``POST /apps/annotations`` (not resent: a second one would be a duplicate)."""
    body = {"question": question, "answer": answer}
    return Call("POST", "/apps/annotations", parse=model_parser(Annotation), json=body)


def list_annotations(*, page: int, limit: int, keyword: str | None) -> Call[AnnotationPage]:
    """``GET /apps/annotations``."""
    params = {"page": page, "limit": limit, "keyword": keyword}
    return Call(
        "GET", "/apps/annotations", parse=model_parser(AnnotationPage), params=params, since="1.x"
    )


def update_annotation(annotation_id: str, *, question: str, answer: str) -> Call[Annotation]:
    """``PUT /apps/annotations/{id}``."""
    body = {"question": question, "answer": answer}
    path = f"/apps/annotations/{seg(annotation_id)}"
    return Call("PUT", path, parse=model_parser(Annotation), json=body)


def delete_annotation(annotation_id: str) -> Call[None]:
    """``DELETE /apps/annotations/{id}`` (204)."""
    return Call("DELETE", f"/apps/annotations/{seg(annotation_id)}", parse=no_content)


def set_annotation_reply(
    action: ReplyAction,
    *,
    embedding_provider_name: str,
    embedding_model_name: str,
    score_threshold: float,
) -> Call[AnnotationReplyJob]:
    """``POST /apps/annotation-reply/{enable|disable}``: starts a job (poll its status)."""
    body = {
        "embedding_provider_name": embedding_provider_name,
        "embedding_model_name": embedding_model_name,
        "score_threshold": score_threshold,
    }
    path = f"/apps/annotation-reply/{seg(action)}"
    return Call("POST", path, parse=model_parser(AnnotationReplyJob), json=body)


def get_annotation_reply_status(action: ReplyAction, job_id: str) -> Call[AnnotationReplyJob]:
    """``GET /apps/annotation-reply/{action}/status/{job_id}``."""
    path = f"/apps/annotation-reply/{seg(action)}/status/{seg(job_id)}"
    return Call("GET", path, parse=model_parser(AnnotationReplyJob))


def get_human_input_form(form_token: str) -> Call[HumanInputForm]:
    """``GET /form/human_input/{form_token}``: the form a paused run waits on."""
    path = f"/form/human_input/{seg(form_token)}"
    return Call("GET", path, parse=model_parser(HumanInputForm), since="1.14")


def _submitted(response: httpx.Response) -> None:
    parse_json(response)  # ``{}``; a body that is not JSON raises


def submit_human_input_form(
    form_token: str, *, user: str, action: str, inputs: dict[str, Any]
) -> Call[None]:
    """``POST /form/human_input/{form_token}``: answer the form (a form works once)."""
    body = {"inputs": dict(inputs), "action": action, "user": user}
    path = f"/form/human_input/{seg(form_token)}"
    return Call("POST", path, parse=_submitted, json=body, user=user, since="1.14")


def _no_result(response: httpx.Response) -> Result:  # a stream: never parsed whole
    raise TypeError(f"{response.request.url} is a stream")


def stream_workflow_events(workflow_run_id: str, *, user: str) -> Call[Result]:
    """``GET /workflow/{run_id}/events``: a run's events from now on (same ``user``).

    Leaving this stream does not stop the run (it only watches it): stop it with
    ``stop_workflow`` / ``stop_chat`` and the run's task id.
    """
    path = f"/workflow/{seg(workflow_run_id)}/events"
    return Call("GET", path, parse=_no_result, params={"user": user}, user=user, since="1.14")
