"""`ClosingContext`: ``with`` / ``async with`` for anything with ``close()`` and ``aclose()``.

Framework-free, so both adapters' components (pydantic models, LangChain and
LlamaIndex classes) share this one mixin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["ClosingContext"]


class ClosingContext:
    """``with`` / ``async with`` for a component that defines ``close()`` and ``aclose()``.

    A plain mixin (no ABC), so it can sit first in front of pydantic, LangChain and
    LlamaIndex bases without disturbing their method resolution order. Leaving the
    block closes what the component built; clients it was given stay open.
    """

    if TYPE_CHECKING:

        def close(self) -> None: ...

        async def aclose(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
