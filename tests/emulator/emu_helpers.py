"""Helpers for the emulator tests (plain httpx; no dify_transport client)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from dify_emulator import Emulator

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"


def parse_sse(raw: bytes | str) -> list[dict[str, Any] | None]:
    """Frames of an SSE body: dicts for data frames, None for pings."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    out: list[dict[str, Any] | None] = []
    for block in text.split("\n\n"):
        if not block:
            continue
        if block == "event: ping":
            out.append(None)
            continue
        assert block.startswith("data: "), block
        out.append(json.loads(block[6:]))
    return out


def events(raw: bytes | str) -> list[dict[str, Any]]:
    """Data events only."""
    return [e for e in parse_sse(raw) if e is not None]


def recording(name: str) -> Path:
    path = RECORDINGS / name
    if not path.exists():
        pytest.skip(f"recording {name} not available")
    return path


class Api:
    """Tiny helper around an httpx client bound to one emulator."""

    def __init__(self, emu: Emulator, client: httpx.Client) -> None:
        self.emu = emu
        self.client = client

    def auth(self, app: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self.emu.keys, app)}"}

    def post(self, app: str, path: str, json_body: Any = None, **kw: Any) -> httpx.Response:
        headers = {**self.auth(app), **kw.pop("headers", {})}
        return self.client.post(path, json=json_body, headers=headers, **kw)

    def get(self, app: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self.auth(app), **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)

    def chat(self, query: str, user: str = "u1", app: str = "chat", **body: Any) -> httpx.Response:
        return self.post(
            app,
            "/chat-messages",
            {"inputs": {}, "query": query, "user": user, "response_mode": "blocking", **body},
        )

    def stream(self, app: str, path: str, body: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
        r = self.post(app, path, {**body, "response_mode": "streaming"}, **kw)
        assert r.status_code == 200, r.text
        return events(r.content)
