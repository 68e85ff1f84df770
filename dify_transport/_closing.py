"""``with`` / ``async with`` mixins for anything with ``close()`` / ``aclose()``.

Plain mixins (no ABC), so they can sit first in front of pydantic, LangChain and
LlamaIndex bases without disturbing their method resolution order: both adapters'
components use `ClosingContext`; the streams and the transport clients use `Closing`
(`Stream`, `SyncAPIClient`) and `AsyncClosing` (`AsyncStream`, `AsyncAPIClient`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["AsyncClosing", "Closing", "ClosingContext"]


class Closing:
    """``with`` for an object with ``close()``: leaving the block closes it."""

    if TYPE_CHECKING:

        def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClosing:
    """``async with`` for an object with ``aclose()``: leaving the block closes it."""

    if TYPE_CHECKING:

        async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class ClosingContext(Closing, AsyncClosing):
    """``with`` / ``async with`` for a component that defines ``close()`` and ``aclose()``.

    Leaving the block closes what the component built; clients it was given stay open.
    """
