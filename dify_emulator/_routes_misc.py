"""App metadata, files and audio endpoints, and the unauthenticated index."""

from __future__ import annotations

import hashlib
from typing import Any, Final

from dify_emulator._apps import app_info, app_meta, app_parameters, app_site, stable_id
from dify_emulator._context import Ctx, Route
from dify_emulator._extras import fake_mp3
from dify_emulator._http import Response
from dify_emulator._multipart import Part
from dify_emulator._wire import ApiError

__all__ = ["ROUTES"]

MIB: Final = 1024 * 1024
IMAGE_LIMIT: Final = 10 * MIB
FILE_LIMIT: Final = 15 * MIB
AUDIO_LIMIT: Final = 30 * MIB
_AUDIO_TYPES: Final = frozenset(f"audio/{e}" for e in ("mp3", "m4a", "wav", "amr", "mpga"))
_IMAGE_EXT: Final = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg"})
_KEY_ERROR: Final = "The browser (or proxy) sent a request that this server could not understand."


def index(ctx: Ctx) -> Response:
    """``GET /v1/`` (no auth)."""
    return ctx.wire.json(
        {"welcome": "Dify OpenAPI", "api_version": "v1", "server_version": ctx.wire.server_version}
    )


def parameters(ctx: Ctx) -> Response:
    """``GET /parameters``."""
    return ctx.wire.json(app_parameters(ctx.app))


def info(ctx: Ctx) -> Response:
    """``GET /info``."""
    return ctx.wire.json(app_info(ctx.app, v015=ctx.wire.v015))


def meta(ctx: Ctx) -> Response:
    """``GET /meta``."""
    return ctx.wire.json(app_meta(ctx.app, ctx.core.base_url))


def site(ctx: Ctx) -> Response:
    """``GET /site`` (1.x)."""
    return ctx.wire.json(app_site(ctx.app))


def _file_part(ctx: Ctx, *, audio: bool) -> Part:
    parts = ctx.parts()
    if parts is None:
        if audio:
            raise ApiError(400, "no_audio_uploaded", "Please upload your audio.")
        raise ApiError(400, "bad_request_key_error", _KEY_ERROR)
    files = [p for p in parts if p.filename is not None or p.name == "file"]
    names = {p.name for p in files}
    if "file" not in names:
        if audio:
            raise ApiError(400, "no_audio_uploaded", "Please upload your audio.")
        if ctx.wire.v015:
            raise ApiError(400, "bad_request_key_error", _KEY_ERROR)
        raise ApiError(400, "no_file_uploaded", "Please upload your file.")
    if len(names) > 1:
        raise ApiError(400, "too_many_files", "Only one file is allowed.")
    return next(p for p in files if p.name == "file")


def upload(ctx: Ctx) -> Response:
    """``POST /files/upload`` (multipart; 201; 413 over the size limit)."""
    part = _file_part(ctx, audio=False)
    user = ctx.form_user()
    if not part.filename:
        raise ApiError(400, "filename_not_exists_error", "The specified filename does not exist.")
    mime = part.content_type or ""
    if not mime:
        raise ApiError(415, "unsupported_file_type", "File type not allowed.")
    ext = part.filename.rsplit(".", 1)[-1].lower() if "." in part.filename else ""
    limit = IMAGE_LIMIT if ext in _IMAGE_EXT or mime.startswith("image/") else FILE_LIMIT
    if len(part.data) > limit:
        message = (
            "File size exceeded. {message}"
            if ctx.wire.v015
            else f"File size exceeded. {len(part.data) / MIB:.2f} MB > {limit // MIB} MB"
        )
        raise ApiError(413, "file_too_large", message)
    eu = ctx.end_user(user)
    rec = ctx.store.add_file(ctx.app.name, eu, part.filename, mime, part.data)
    body: dict[str, Any] = {"id": rec["id"], "name": rec["name"], "size": rec["size"],
                            "extension": rec["extension"], "mime_type": rec["mime_type"],
                            "created_by": eu, "created_at": int(rec["created"])}  # fmt: skip
    if not ctx.wire.v015:
        body.update(preview_url=None, source_url=None, original_url=None, user_id=None,
                    tenant_id=stable_id("tenant"), conversation_id=None,
                    file_key=f"upload_files/{rec['id']}.{rec['extension']}")  # fmt: skip
    return ctx.wire.json(body, 201)


def audio_to_text(ctx: Ctx) -> Response:
    """``POST /audio-to-text``: MIME allow-list, deterministic transcript."""
    if not ctx.app.stt:
        raise ApiError(400, "invalid_param", "Speech to text is not enabled")
    part = _file_part(ctx, audio=True)
    if (part.content_type or "").lower() not in _AUDIO_TYPES:
        raise ApiError(415, "unsupported_audio_type", "Audio type not allowed.")
    if len(part.data) > AUDIO_LIMIT:
        raise ApiError(413, "audio_too_large", "Audio size exceeded. Audio size larger than 30 mb")
    digest = hashlib.sha256(part.data).hexdigest()[:8]
    text = f"Emulator transcript of {part.filename or 'audio'} ({len(part.data)} bytes, {digest})."
    return ctx.wire.json({"text": text})


def text_to_audio(ctx: Ctx) -> Response:
    """``POST /text-to-audio``: ``audio/mpeg`` bytes (chat app only; others: TTS disabled)."""
    body = ctx.json()
    user = ctx.body_user(required=False)
    if not ctx.app.tts:
        raise ApiError(400, "invalid_param", "TTS is not enabled")
    text = body.get("text")
    message_id = body.get("message_id")
    if message_id:
        msg = ctx.store.message(ctx.app.name, ctx.end_user(user), str(message_id))
        if msg is None or not msg["answer"]:
            return ctx.wire.json(None)
        text = msg["answer"]
    if not isinstance(text, str) or not text:
        raise ApiError(400, "invalid_param", "Text is required")
    return Response(200, ctx.wire.headers("audio/mpeg"), fake_mp3(text))


ROUTES: Final = [
    Route("GET", "/", index, auth="none"),
    Route("GET", "/parameters", parameters),
    Route("GET", "/info", info),
    Route("GET", "/meta", meta),
    Route("GET", "/site", site, wire="1.x"),
    Route("POST", "/files/upload", upload),
    Route("POST", "/audio-to-text", audio_to_text),
    Route("POST", "/text-to-audio", text_to_audio),
]
