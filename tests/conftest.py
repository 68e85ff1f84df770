"""Test-wide fixtures: a clean environment and the shared Dify emulator.

Live tests (marked ``live``) run only when ``DIFY_BASE_URL`` and ``DIFY_API_KEY`` are
set; every other test runs with all ``DIFY_*`` variables removed, so a developer's
shell cannot change a result (the Stainless SDKs do the same).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from dify_emulator import Emulator

LIVE = bool(os.environ.get("DIFY_BASE_URL") and os.environ.get("DIFY_API_KEY"))
_LIVE_ENV = {k: v for k, v in os.environ.items() if k.startswith("DIFY_")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip live tests unless a real Dify is configured."""
    if LIVE:
        return
    skip = pytest.mark.skip(reason="set DIFY_BASE_URL and DIFY_API_KEY to run live tests")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_dify_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Strip ambient ``DIFY_*`` variables except in live tests."""
    if "live" in request.keywords:
        return
    for name in list(os.environ):
        if name.startswith("DIFY_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def live_env() -> dict[str, str]:
    """The ``DIFY_*`` variables the session started with (for live tests)."""
    return dict(_LIVE_ENV)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One Dify emulator on 127.0.0.1 for the whole session (1.x wire)."""
    from dify_emulator import start_emulator

    emu = start_emulator(wire="1.x")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def emulator_015() -> Iterator[Emulator]:
    """A second emulator speaking the Dify 0.15 wire."""
    from dify_emulator import start_emulator

    emu = start_emulator(wire="0.15")
    try:
        yield emu
    finally:
        emu.stop()
