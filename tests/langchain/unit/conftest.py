"""Unit tests for ``langchain_dify``: no sockets (the in-process emulator is allowed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_socket


@pytest.fixture(autouse=True)
def _no_sockets(request: pytest.FixtureRequest) -> Iterator[None]:
    # Start the session emulator (if a test uses it) before sockets are disabled.
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator")
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        pytest_socket.enable_socket()
