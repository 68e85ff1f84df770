"""Shared fixtures for the ``langchain_dify`` tests."""

from __future__ import annotations

import gc
from collections.abc import Generator
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Finalize the connection pools a test's models left open, right after the test.

    Models build their HTTP clients lazily and keep them for their lifetime; the
    standard suites never close them. Collecting once the test's fixtures are gone
    keeps those finalizers out of unrelated code: on CPython 3.11.7 a finalizer
    that runs inside ``ast.parse`` (pytest rewriting a late import) crashes the run
    with "AST constructor recursion depth mismatch".
    """
    try:
        return (yield)
    finally:
        if HERE in Path(str(item.path)).parents:
            gc.collect()
