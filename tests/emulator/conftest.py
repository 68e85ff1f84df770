"""Fixtures for the emulator's own tests: fresh in-process emulators with httpx clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emu_helpers import Api

from dify_emulator import Emulator


def _api(wire: str) -> Iterator[Api]:
    emu = Emulator(wire=wire)
    with httpx.Client(transport=emu.transport(), base_url=emu.base_url) as client:
        yield Api(emu, client)


@pytest.fixture
def api() -> Iterator[Api]:
    """A fresh in-process 1.x emulator with a client."""
    yield from _api("1.x")


@pytest.fixture
def api015() -> Iterator[Api]:
    """A fresh in-process 0.15 emulator with a client."""
    yield from _api("0.15")


@pytest.fixture(params=["1.x", "0.15"])
def anyapi(request: pytest.FixtureRequest) -> Iterator[Api]:
    """Both wire generations."""
    yield from _api(request.param)
