"""Conversations and their message history (``GET /conversations``, ``GET /messages``)."""

# Pydantic copies list/dict defaults per instance; ruff cannot see across files that
# DifyModel is a BaseModel (as it could in the single-module types.py), hence:
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from dify_transport.types._common import DifyModel
from dify_transport.types._generation import AgentThought, RetrieverResource

__all__ = [
    "Conversation",
    "ConversationPage",
    "Message",
    "MessagePage",
]


class Message(DifyModel):
    """One turn of a conversation's history (``GET /messages``)."""

    id: str
    """Message id."""
    conversation_id: str | None = None
    """Conversation id."""
    parent_message_id: str | None = None
    """Parent message id (the nil UUID for Service API conversations)."""
    inputs: dict[str, Any] = {}
    """App inputs sent with this turn."""
    query: str = ""
    """The user's query."""
    answer: str = ""
    """The answer."""
    feedback: dict[str, Any] | None = None
    """This user's feedback, e.g. ``{"rating": "like"}``."""
    retriever_resources: list[RetrieverResource] = []
    """Cited passages (1.12: ``id`` fields are regenerated on every call)."""
    agent_thoughts: list[AgentThought] = []
    """Agent steps."""
    message_files: list[dict[str, Any]] = []
    """Files attached to the turn."""
    status: str | None = None
    """``normal`` or ``error``."""
    error: str | None = None
    """Error text for failed turns."""
    created_at: int | None = None
    """Creation time, Unix seconds."""

    @field_validator("inputs", mode="before")
    @classmethod
    def _none_inputs(cls, value: object) -> object:
        return {} if value is None else value

    @field_validator("retriever_resources", "agent_thoughts", "message_files", mode="before")
    @classmethod
    def _none_list(cls, value: object) -> object:
        return [] if value is None else value


class MessagePage(DifyModel):
    """A page of history: newest page first, items oldest-first within the page."""

    data: list[Message] = []
    """The messages, ascending by time."""
    has_more: bool = False
    """True when older messages exist (pass ``first_id=data[0].id``)."""
    limit: int = 20
    """The page size asked for."""


class Conversation(DifyModel):
    """A conversation (``GET /conversations`` item, rename result)."""

    id: str
    """Conversation id."""
    name: str | None = None
    """Display name."""
    inputs: dict[str, Any] = {}
    """Inputs the conversation was started with."""
    status: str | None = None
    """``normal``."""
    introduction: str | None = None
    """The app's opening statement."""
    created_at: int | None = None
    """Creation time, Unix seconds."""
    updated_at: int | None = None
    """Last update, Unix seconds."""

    @field_validator("inputs", mode="before")
    @classmethod
    def _none_inputs(cls, value: object) -> object:
        return {} if value is None else value


class ConversationPage(DifyModel):
    """A page of conversations (pass ``last_id=data[-1].id`` for the next)."""

    data: list[Conversation] = []
    """The conversations, in ``sort_by`` order."""
    has_more: bool = False
    """True when more conversations exist."""
    limit: int = 20
    """The page size asked for."""
