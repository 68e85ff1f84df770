"""Feedback and follow-up questions on a ``ChatDify`` answer (a mixin of ``ChatDify``).

An answer is the ``AIMessage`` (or chunk) the model returned, or its Dify
``message_id``. The user is the call's ``user=``, else the one recorded in the
answer's ``response_metadata``, else the model's (``dify_transport.answers``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.messages import BaseMessage

from dify_transport.answers import AnswerTarget, answer_target, check_rating
from langchain_dify._errors import translate_errors

if TYPE_CHECKING:
    from dify_transport import AsyncDifyClient, DifyClient
    from dify_transport._app_api import Rating

__all__ = ["AnswerActions", "DifyAnswer"]

DifyAnswer = BaseMessage | str
"""An answer from a Dify app (``AIMessage`` / ``AIMessageChunk``) or its ``message_id``."""


def _target(answer: DifyAnswer, user: str | None, default_user: str) -> AnswerTarget:
    if isinstance(answer, str):
        return answer_target(answer, call_user=user, answer_user=None, default_user=default_user)
    metadata = answer.response_metadata
    return answer_target(
        metadata.get("message_id") or answer.id,
        call_user=user,
        answer_user=metadata.get("user"),
        default_user=default_user,
    )


class AnswerActions:
    """``send_feedback`` / ``suggested_questions`` (sync and async) for ``ChatDify``."""

    if TYPE_CHECKING:
        user: str

        @property
        def client(self) -> DifyClient: ...
        @property
        def async_client(self) -> AsyncDifyClient: ...

    def send_feedback(
        self,
        answer: DifyAnswer,
        rating: Rating,
        *,
        content: str | None = None,
        user: str | None = None,
    ) -> None:
        """Like (``"like"``), dislike (``"dislike"``) or revoke (None) feedback on an answer.

        Args:
            answer: The ``AIMessage`` the model returned, or its Dify ``message_id``.
            rating: ``"like"``, ``"dislike"``, or None to revoke.
            content: An optional comment, stored with the rating.
            user: The Dify end user (default: the answer's, else the model's).
        """
        target = _target(answer, user, self.user)
        with translate_errors():
            self.client.send_feedback(
                target.message_id, user=target.user, rating=check_rating(rating), content=content
            )

    async def asend_feedback(
        self,
        answer: DifyAnswer,
        rating: Rating,
        *,
        content: str | None = None,
        user: str | None = None,
    ) -> None:
        """Async :meth:`send_feedback`."""
        target = _target(answer, user, self.user)
        with translate_errors():
            await self.async_client.send_feedback(
                target.message_id, user=target.user, rating=check_rating(rating), content=content
            )

    def suggested_questions(self, answer: DifyAnswer, *, user: str | None = None) -> list[str]:
        """The follow-up questions Dify suggests after an answer (the app's feature must be on)."""
        target = _target(answer, user, self.user)
        with translate_errors():
            return self.client.get_suggested_questions(target.message_id, user=target.user)

    async def asuggested_questions(
        self, answer: DifyAnswer, *, user: str | None = None
    ) -> list[str]:
        """Async :meth:`suggested_questions`."""
        target = _target(answer, user, self.user)
        with translate_errors():
            return await self.async_client.get_suggested_questions(
                target.message_id, user=target.user
            )
