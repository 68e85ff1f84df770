"""What to do with an answer once it arrived: feedback and follow-up questions.

Both adapters hand their framework's answer object (or a bare Dify ``message_id``)
to :func:`answer_target`, which applies the one rule for which message and which
Dify ``user``: the message id the answer carries; the ``user`` given to the call,
else the one recorded in the answer's metadata, else the component's own.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from dify_transport._app_api import Rating
from dify_transport._errors import DifyConfigError

if TYPE_CHECKING:
    from dify_transport._async._app_client import AsyncDifyClient
    from dify_transport._sync._app_client import DifyClient

__all__ = ["AnswerActions", "AnswerTarget", "Rating", "answer_target", "check_rating"]

Answer = TypeVar("Answer")


@dataclass(frozen=True, slots=True)
class AnswerTarget:
    """The Dify message an action is about, and the end user it belongs to."""

    message_id: str
    user: str


def answer_target(
    message_id: object, *, call_user: str | None, answer_user: object, default_user: str
) -> AnswerTarget:
    """Resolve the message and the user (see the module docstring).

    Raises:
        DifyConfigError: The answer carries no Dify message id (nothing is sent).
    """
    if not isinstance(message_id, str) or not message_id:
        msg = (
            "This answer carries no Dify message_id (it did not come from a Dify app, "
            "or the stream was stopped before Dify assigned one): pass the answer "
            "returned by the model, or its message_id."
        )
        raise DifyConfigError(msg)
    recorded = answer_user if isinstance(answer_user, str) and answer_user else None
    return AnswerTarget(message_id, call_user or recorded or default_user)


def check_rating(rating: object) -> Rating:
    """``rating`` if it is ``"like"``, ``"dislike"`` or None (revoke)."""
    if rating == "like" or rating == "dislike" or rating is None:  # noqa: PLR1714 - narrows
        return rating
    msg = f"rating must be 'like', 'dislike' or None (revoke), not {rating!r}."
    raise DifyConfigError(msg)


class AnswerActions(Generic[Answer]):
    """``send_feedback`` / ``suggested_questions`` (sync and async), an adapter's mixin.

    The adapter says which message and user an ``Answer`` (its framework's answer
    object, or a ``message_id``) is about (``_answer_target``, through :func:`answer_target`)
    and how failures surface (``_answer_errors``: as the transport raises them, by default).
    """

    if TYPE_CHECKING:

        @property
        def client(self) -> DifyClient:
            """The component's sync app client."""

        @property
        def async_client(self) -> AsyncDifyClient:
            """The component's async app client."""

        def _answer_target(self, answer: Answer, user: str | None) -> AnswerTarget: ...

    def _answer_errors(self) -> AbstractContextManager[object]:
        return nullcontext()

    def send_feedback(
        self, answer: Answer, rating: Rating, *, content: str | None = None, user: str | None = None
    ) -> None:
        """Like (``"like"``), dislike (``"dislike"``) or revoke (None) feedback on an answer.

        Args:
            answer: The answer the component returned, or its Dify ``message_id``.
            rating: ``"like"``, ``"dislike"``, or None to revoke.
            content: An optional comment, stored with the rating.
            user: The Dify end user (default: the answer's, else the component's).
        """
        target = self._answer_target(answer, user)
        with self._answer_errors():
            self.client.send_feedback(
                target.message_id, user=target.user, rating=check_rating(rating), content=content
            )

    async def asend_feedback(
        self, answer: Answer, rating: Rating, *, content: str | None = None, user: str | None = None
    ) -> None:
        """Async :meth:`send_feedback`."""
        target = self._answer_target(answer, user)
        with self._answer_errors():
            await self.async_client.send_feedback(
                target.message_id, user=target.user, rating=check_rating(rating), content=content
            )

    def suggested_questions(self, answer: Answer, *, user: str | None = None) -> list[str]:
        """The follow-up questions Dify suggests after an answer (the app's feature must be on)."""
        target = self._answer_target(answer, user)
        with self._answer_errors():
            return self.client.get_suggested_questions(target.message_id, user=target.user)

    async def asuggested_questions(self, answer: Answer, *, user: str | None = None) -> list[str]:
        """Async :meth:`suggested_questions`."""
        target = self._answer_target(answer, user)
        with self._answer_errors():
            return await self.async_client.get_suggested_questions(
                target.message_id, user=target.user
            )
