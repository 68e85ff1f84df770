"""Sans-IO request/response types shared by the emulator core and its front-ends."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl

__all__ = ["DROP", "BodyItem", "Drop", "Request", "Response", "Sleep", "StreamBody"]


@dataclass(frozen=True, slots=True)
class Sleep:
    """A pause the front-end must honour before sending the next body item."""

    seconds: float


class Drop:
    """Marker: close the connection abruptly (no terminating chunk)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DROP"


DROP: Final = Drop()

BodyItem = bytes | Sleep | Drop
StreamBody = Generator[BodyItem, None, None]


@dataclass(slots=True)
class Request:
    """One HTTP request as the core sees it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    path: str = field(init=False)
    query: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.headers = {k.lower(): v for k, v in self.headers.items()}
        path, _, qs = self.target.partition("?")
        self.path = path
        query: dict[str, str] = {}
        for key, value in parse_qsl(qs, keep_blank_values=True):
            query.setdefault(key, value)
        self.query = query


@dataclass(slots=True)
class Response:
    """One HTTP response: ``body`` is bytes or a lazy stream of body items."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes | StreamBody = b""
    pre_delay: float = 0.0

    @property
    def streaming(self) -> bool:
        """Whether the body is a lazy stream (sent chunked)."""
        return not isinstance(self.body, bytes)

    def close(self) -> None:
        """Close a stream body early so its generator can clean up."""
        if not isinstance(self.body, bytes):
            self.body.close()
