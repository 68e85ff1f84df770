"""Shared fixtures for the ``llama_index_dify`` tests.

``target`` points components at the session emulator two ways: ``inproc`` (its
in-process httpx transport, with sockets disabled for the test) and ``loopback``
(real sockets to 127.0.0.1). Every test gets its own end user, so tests never see
each other's conversations and can filter ``emu.requests`` by user.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import pytest_socket

from dify_transport import DifyClient
from llama_index_dify import (
    DifyChatEngine,
    DifyChatStore,
    DifyKnowledgeRetriever,
    DifyLLM,
    DifyRetriever,
)

if TYPE_CHECKING:
    from dify_emulator import Emulator, RecordedRequest


@dataclass
class Target:
    """How a test reaches the emulator, plus helpers to build components against it."""

    emu: Emulator
    inproc: bool
    user: str = field(default_factory=lambda: f"li-{uuid.uuid4().hex[:12]}")
    built: list[Any] = field(default_factory=list)
    _opened: list[httpx.Client | httpx.AsyncClient] = field(default_factory=list)

    def key(self, app: str) -> str:
        return str(getattr(self.emu.keys, app))

    def wiring(self, app: str = "chat") -> dict[str, Any]:
        """``api_key``/``base_url`` (and in-process http clients) for an app or the dataset."""
        kwargs: dict[str, Any] = {"api_key": self.key(app), "base_url": self.emu.base_url}
        if self.inproc:
            sync, aio = (
                httpx.Client(transport=self.emu.transport()),
                httpx.AsyncClient(transport=self.emu.transport()),
            )
            self._opened += [sync, aio]
            kwargs |= {"http_client": sync, "async_http_client": aio}
        return kwargs

    def track(self, component: Any) -> Any:
        """Remember a component so the fixture closes the clients it built."""
        self.built.append(component)
        return component

    def llm(self, app: str = "chat", **kwargs: Any) -> DifyLLM:
        return self.track(DifyLLM(**{"user": self.user, **self.wiring(app), **kwargs}))

    def engine(self, app: str = "chat", **kwargs: Any) -> DifyChatEngine:
        return self.track(DifyChatEngine.from_defaults(llm=self.llm(app), **kwargs))

    def retriever(self, app: str = "chat", **kwargs: Any) -> DifyRetriever:
        return self.track(DifyRetriever(**{"user": self.user, **self.wiring(app), **kwargs}))

    def knowledge(self, **kwargs: Any) -> DifyKnowledgeRetriever:
        wiring = self.wiring("dataset")
        return self.track(
            DifyKnowledgeRetriever(**{"dataset_id": self.emu.dataset_id, **wiring, **kwargs})
        )

    def store(self, app: str = "chat", **kwargs: Any) -> DifyChatStore:
        return self.track(DifyChatStore(**{"user": self.user, **self.wiring(app), **kwargs}))

    def client(self, app: str = "chat") -> DifyClient:
        """A plain transport client, to check server state."""
        wiring = self.wiring(app)
        return DifyClient(
            api_key=wiring["api_key"],
            base_url=wiring["base_url"],
            http_client=wiring.get("http_client"),
        )

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        """This test's requests (by user), optionally only those to ``path``."""
        return [
            r
            for r in self.emu.requests
            if r.user == self.user and (path is None or r.path.endswith(path))
        ]

    def stops(self) -> list[Any]:
        return [s for s in self.emu.stop_calls if s.user == self.user]

    def close(self) -> None:
        for component in self.built:
            component.close()
        for client in self._opened:
            if isinstance(client, httpx.Client):
                client.close()

    async def aclose(self) -> None:
        for component in self.built:
            await component.aclose()
        for client in self._opened:
            if isinstance(client, httpx.AsyncClient):
                await client.aclose()


@pytest.fixture(params=["inproc", "loopback"])
def target(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[Target]:
    """The session emulator, reached in-process (no sockets) or over 127.0.0.1."""
    inproc = request.param == "inproc"
    t = Target(emu=emulator, inproc=inproc)
    if inproc:
        pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        yield t
    finally:
        if inproc:
            pytest_socket.enable_socket()
        t.close()


@pytest.fixture
async def atarget(target: Target) -> AsyncIterator[Target]:
    """``target`` for async tests: async clients are closed inside the test's loop."""
    yield target
    await target.aclose()
