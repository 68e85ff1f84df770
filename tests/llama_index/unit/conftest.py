"""Unit tests for ``llama_index_dify``: no sockets (the in-process emulator is allowed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_socket


@pytest.fixture(autouse=True)
def _no_sockets(request: pytest.FixtureRequest) -> Iterator[None]:
    # A session emulator a test asks for must bind its port before sockets go.
    for name in ("emulator", "emulator_015"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        pytest_socket.enable_socket()
