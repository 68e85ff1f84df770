"""The app's parameters, meta, info and WebApp site, and uploaded files."""

# Pydantic copies list/dict defaults per instance; ruff cannot see across files that
# DifyModel is a BaseModel (as it could in the single-module types.py), hence:
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Any

from dify_transport.types._common import DifyModel

__all__ = [
    "AppInfo",
    "AppMeta",
    "AppParameters",
    "AppSite",
    "UploadedFile",
]


class AppParameters(DifyModel):
    """The app's input form and feature switches (``GET /parameters``)."""

    opening_statement: str | None = None
    """Opening statement shown before the first turn."""
    suggested_questions: list[str] = []
    """Suggested first questions."""
    suggested_questions_after_answer: dict[str, Any] = {}
    """``{"enabled": bool}``."""
    speech_to_text: dict[str, Any] = {}
    """``{"enabled": bool}``."""
    text_to_speech: dict[str, Any] = {}
    """``{"enabled": bool, "voice": ..., "language": ...}``."""
    retriever_resource: dict[str, Any] = {}
    """``{"enabled": bool}``: whether answers cite passages."""
    annotation_reply: dict[str, Any] = {}
    """``{"enabled": bool}``."""
    more_like_this: dict[str, Any] = {}
    """``{"enabled": bool}``."""
    user_input_form: list[dict[str, Any]] = []
    """Input variables, each ``{"<type>": {"variable", "label", "required", ...}}``."""
    sensitive_word_avoidance: dict[str, Any] = {}
    """Moderation settings."""
    file_upload: dict[str, Any] = {}
    """File upload settings."""
    system_parameters: dict[str, Any] = {}
    """Server upload limits."""


class AppMeta(DifyModel):
    """Tool icons (``GET /meta``)."""

    tool_icons: dict[str, Any] = {}
    """Tool name to icon URL or ``{"background", "content"}``."""


class AppInfo(DifyModel):
    """Basic app info (``GET /info``; 0.15 has no ``mode``/``author_name``)."""

    name: str | None = None
    description: str | None = None
    tags: list[str] = []
    mode: str | None = None
    """App mode (1.x)."""
    author_name: str | None = None
    """Author (1.x)."""


class AppSite(DifyModel):
    """The app's WebApp settings (``GET /site``, 1.x)."""

    title: str | None = None
    description: str | None = None
    icon_type: str | None = None
    """``emoji`` or ``image``."""
    icon: str | None = None
    icon_background: str | None = None
    icon_url: str | None = None
    default_language: str | None = None
    copyright: str | None = None
    privacy_policy: str | None = None
    """Privacy policy URL."""
    custom_disclaimer: str | None = None


class UploadedFile(DifyModel):
    """A file uploaded with ``POST /files/upload`` (use ``id`` as ``upload_file_id``)."""

    id: str
    """Upload file id."""
    name: str | None = None
    size: int | None = None
    """Size in bytes."""
    extension: str | None = None
    """Extension without dot."""
    mime_type: str | None = None
    created_by: str | None = None
    """End-user id that owns it."""
    created_at: int | None = None
    """Upload time, Unix seconds."""
