"""Multipart parts for ``/files/upload`` and ``/audio-to-text`` (pure; no I/O but reading files)."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import IO, TypeAlias

__all__ = ["FileTypes", "audio_mime", "audio_part", "file_part"]

FileTypes: TypeAlias = bytes | str | os.PathLike[str] | IO[bytes]
"""What ``upload_file``/``audio_to_text`` accept: bytes, a path, or a binary file object."""

_AUDIO_TYPES = {
    ".mp3": "audio/mp3",
    ".m4a": "audio/m4a",
    ".wav": "audio/wav",
    ".wave": "audio/wav",
    ".amr": "audio/amr",
    ".mpga": "audio/mpga",
}
"""File extension -> the MIME type Dify's ``audio-to-text`` accepts."""

_AUDIO_ALIASES = {
    "audio/mpeg": "audio/mp3",
    "audio/mpeg3": "audio/mp3",
    "audio/x-mpeg": "audio/mp3",
    "audio/x-mp3": "audio/mp3",
    "audio/x-mpeg-3": "audio/mp3",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-pn-wav": "audio/wav",
    "audio/mp4": "audio/m4a",
    "audio/x-m4a": "audio/m4a",
    "audio/amr-wb": "audio/amr",
}
"""Common audio MIME types -> the spelling Dify accepts (it takes only ``audio/<ext>``)."""


def _read(file: FileTypes, filename: str | None) -> tuple[str, bytes]:
    if isinstance(file, (bytes, bytearray, memoryview)):
        return filename or "upload.bin", bytes(file)
    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        return filename or path.name, path.read_bytes()
    data = file.read()
    name = filename or Path(str(getattr(file, "name", "upload.bin"))).name
    return name, data


def file_part(
    file: FileTypes, filename: str | None, mime_type: str | None
) -> tuple[str, bytes, str]:
    """Build the multipart ``file`` part of ``POST /files/upload``."""
    name, data = _read(file, filename)
    mime = mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return name, data, mime


def audio_part(
    file: FileTypes, filename: str | None, mime_type: str | None
) -> tuple[str, bytes, str]:
    """Build the ``file`` part of ``POST /audio-to-text`` with a MIME type Dify accepts."""
    name, data = _read(file, filename if filename else None)
    if name == "upload.bin":
        name = "audio.mp3"
    return name, data, audio_mime(mime_type, name)


def audio_mime(mime_type: str | None, filename: str) -> str:
    """The MIME type to declare for ``audio-to-text`` (Dify only takes ``audio/<ext>``).

    Args:
        mime_type: The caller's type, if any. Common aliases are mapped
            (``audio/mpeg`` -> ``audio/mp3``, ``audio/x-wav``/``audio/wave``/
            ``audio/vnd.wave`` -> ``audio/wav``, ``audio/mp4``/``audio/x-m4a`` ->
            ``audio/m4a``); unknown types are passed through unchanged.
        filename: The part's file name, used to infer the type when none is given.

    Returns:
        The MIME type (``audio/mp3`` when nothing is known).
    """
    if mime_type:
        base = mime_type.split(";", 1)[0].strip().lower()
        return _AUDIO_ALIASES.get(base, mime_type)
    suffix = Path(filename).suffix.lower()
    known = _AUDIO_TYPES.get(suffix)
    if known is not None:
        return known
    guessed = mimetypes.guess_type(filename)[0] if suffix else None
    if guessed is None:
        return "audio/mp3"
    return _AUDIO_ALIASES.get(guessed.lower(), guessed)
