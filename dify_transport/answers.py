"""What to do with an answer once it arrived: feedback and follow-up questions.

Both adapters hand their framework's answer object (or a bare Dify ``message_id``)
to :func:`answer_target`, which applies the one rule for which message and which
Dify ``user``: the message id the answer carries; the ``user`` given to the call,
else the one recorded in the answer's metadata, else the component's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from dify_transport._app_api import Rating
from dify_transport._errors import DifyConfigError

__all__ = ["AnswerTarget", "Rating", "answer_target", "check_rating"]


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
