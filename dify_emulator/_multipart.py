"""A small multipart/form-data parser (enough for file uploads)."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Part", "parse_multipart"]

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_DISPO_PARAM = re.compile(r';\s*([a-zA-Z*]+)="((?:[^"\\]|\\.)*)"|;\s*([a-zA-Z*]+)=([^;\s]+)')


@dataclass(frozen=True, slots=True)
class Part:
    """One form part."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """Split a multipart/form-data body into parts (malformed parts are skipped)."""
    m = _BOUNDARY.search(content_type)
    if m is None:
        return []
    delimiter = b"--" + m.group(1).encode("latin-1")
    parts: list[Part] = []
    for raw in body.split(delimiter)[1:]:
        if raw.startswith(b"--"):
            break
        chunk = raw.removeprefix(b"\r\n")
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        data = data.removesuffix(b"\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, colon, value = line.partition(":")
            if colon:
                headers[key.strip().lower()] = value.strip()
        params: dict[str, str] = {}
        for pm in _DISPO_PARAM.finditer(headers.get("content-disposition", "")):
            if pm.group(1):
                params[pm.group(1).lower()] = pm.group(2).replace('\\"', '"')
            else:
                params[pm.group(3).lower()] = pm.group(4)
        if "name" not in params:
            continue
        parts.append(
            Part(params["name"], params.get("filename"), headers.get("content-type"), data)
        )
    return parts
