"""Shared fixtures for the ``langchain_dify`` tests."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

ASSETS = Path(__file__).parent / "assets"
TINY_PNG = (ASSETS / "tiny.png").read_bytes()


@pytest.fixture(autouse=True)
def _serve_standard_test_image(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``test_image_inputs`` downloads a PNG from GitHub: hand it a bundled one instead."""
    if not request.node.name.startswith("test_image_inputs") or "live" in request.keywords:
        return

    def fake_get(url: str, **_: object) -> httpx.Response:
        return httpx.Response(200, content=TINY_PNG, request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", fake_get)
