"""Feedback and follow-up questions on a ``ChatDify`` answer (a mixin of ``ChatDify``).

An answer is the ``AIMessage`` (or chunk) the model returned, or its Dify
``message_id``. The user is the call's ``user=``, else the one recorded in the
answer's ``response_metadata``, else the model's (``dify_transport.answers``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from langchain_core.messages import BaseMessage

from dify_transport import answers
from dify_transport.answers import AnswerTarget, answer_target
from langchain_dify._errors import translate_errors

__all__ = ["AnswerActions", "DifyAnswer"]

DifyAnswer = BaseMessage | str
"""An answer from a Dify app (``AIMessage`` / ``AIMessageChunk``) or its ``message_id``."""


class AnswerActions(answers.AnswerActions[DifyAnswer]):
    """``send_feedback`` / ``suggested_questions`` (sync and async) for ``ChatDify``."""

    if TYPE_CHECKING:
        user: str

    def _answer_target(self, answer: DifyAnswer, user: str | None) -> AnswerTarget:
        if isinstance(answer, str):
            return answer_target(answer, call_user=user, answer_user=None, default_user=self.user)
        metadata = answer.response_metadata
        return answer_target(
            metadata.get("message_id") or answer.id,
            call_user=user,
            answer_user=metadata.get("user"),
            default_user=self.user,
        )

    def _answer_errors(self) -> AbstractContextManager[object]:
        return translate_errors()  # LangChain's error types
