"""Shared wiring for the standard suites: the emulator in-process or over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
import pytest
import pytest_socket

if TYPE_CHECKING:
    from dify_emulator import Emulator


class EmulatorWiring:
    """Mix-in: binds the session emulator and fences sockets for each test.

    ``inprocess = True``: requests go through ``emu.transport()`` with sockets
    disabled; ``False``: over 127.0.0.1 with only that host allowed.
    """

    inprocess: ClassVar[bool] = True
    emu: ClassVar[Emulator]
    clients: ClassVar[dict[str, Any]] = {}

    @pytest.fixture(autouse=True)
    def _wire_emulator(self, emulator: Emulator) -> Iterator[None]:
        cls = type(self)
        cls.emu = emulator
        if self.inprocess:
            transport = emulator.transport()
            sync_client = httpx.Client(transport=transport)
            async_client = httpx.AsyncClient(transport=transport)
            cls.clients = {"http_client": sync_client, "http_async_client": async_client}
            pytest_socket.disable_socket(allow_unix_socket=True)
        else:
            cls.clients = {}
            pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
        try:
            yield
        finally:
            pytest_socket._remove_restrictions()
            for client in cls.clients.values():
                if isinstance(client, httpx.Client):
                    client.close()
            cls.clients = {}

    def connection(self, key: str) -> dict[str, Any]:
        return {"api_key": key, "base_url": self.emu.base_url, **self.clients}
