"""Feedback and follow-up questions on an answer (a mixin of ``DifyLLM`` and ``DifyChatEngine``).

An answer is what the component returned (``ChatResponse``, its ``ChatMessage``, an
engine's ``AgentChatResponse`` / streaming response) or its Dify ``message_id``. The
user is the call's ``user=``, else the one the answer records, else the component's
(``dify_transport.answers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse

from dify_transport import answers
from dify_transport.answers import AnswerTarget, answer_target

__all__ = ["AnswerActions"]


def _metadata(answer: object) -> Mapping[str, Any]:
    """Where an answer object keeps its Dify ids."""
    if isinstance(answer, ChatResponse):
        return {**answer.additional_kwargs, **answer.message.additional_kwargs}
    if isinstance(answer, ChatMessage):
        return answer.additional_kwargs
    metadata = getattr(answer, "metadata", None)  # AgentChatResponse, streaming responses
    if isinstance(metadata, Mapping):
        message = getattr(answer, "message", None)
        extra = message.additional_kwargs if isinstance(message, ChatMessage) else {}
        return {**metadata, **extra}
    return {}


class AnswerActions(answers.AnswerActions[object]):
    """``send_feedback`` / ``suggested_questions`` (sync and async)."""

    if TYPE_CHECKING:

        @property
        def _answer_user(self) -> str: ...

    def _answer_target(self, answer: object, user: str | None) -> AnswerTarget:
        if isinstance(answer, str):
            return answer_target(
                answer, call_user=user, answer_user=None, default_user=self._answer_user
            )
        metadata = _metadata(answer)
        return answer_target(
            metadata.get("message_id"),
            call_user=user,
            answer_user=metadata.get("user"),
            default_user=self._answer_user,
        )
