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

from dify_transport.answers import AnswerTarget, answer_target, check_rating

if TYPE_CHECKING:
    from dify_transport import AsyncDifyClient, DifyClient
    from dify_transport._app_api import Rating

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


class AnswerActions:
    """``send_feedback`` / ``suggested_questions`` (sync and async)."""

    if TYPE_CHECKING:

        @property
        def client(self) -> DifyClient: ...
        @property
        def async_client(self) -> AsyncDifyClient: ...
        @property
        def _answer_user(self) -> str: ...

    def _target(self, answer: object, user: str | None) -> AnswerTarget:
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

    def send_feedback(
        self, answer: object, rating: Rating, *, content: str | None = None, user: str | None = None
    ) -> None:
        """Like (``"like"``), dislike (``"dislike"``) or revoke (None) feedback on an answer.

        Args:
            answer: The response (or message) returned, or its Dify ``message_id``.
            rating: ``"like"``, ``"dislike"``, or None to revoke.
            content: An optional comment, stored with the rating.
            user: The Dify end user (default: the answer's, else the component's).
        """
        target = self._target(answer, user)
        self.client.send_feedback(
            target.message_id, user=target.user, rating=check_rating(rating), content=content
        )

    async def asend_feedback(
        self, answer: object, rating: Rating, *, content: str | None = None, user: str | None = None
    ) -> None:
        """Async :meth:`send_feedback`."""
        target = self._target(answer, user)
        await self.async_client.send_feedback(
            target.message_id, user=target.user, rating=check_rating(rating), content=content
        )

    def suggested_questions(self, answer: object, *, user: str | None = None) -> list[str]:
        """The follow-up questions Dify suggests after an answer (the app's feature must be on)."""
        target = self._target(answer, user)
        return self.client.get_suggested_questions(target.message_id, user=target.user)

    async def asuggested_questions(self, answer: object, *, user: str | None = None) -> list[str]:
        """Async :meth:`suggested_questions`."""
        target = self._target(answer, user)
        return await self.async_client.get_suggested_questions(target.message_id, user=target.user)
