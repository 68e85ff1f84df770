"""Reading a whole conversation through ``GET /messages`` without losing a message.

Dify pages backwards (``first_id``: strictly older) and stores whole seconds, so a page
boundary inside a second would skip the rest of it; how :class:`MessagePager` avoids
that is docs/architecture.md (``iter_messages``) and :meth:`MessagePager._plan`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from dify_transport._app_api import PageGuard
from dify_transport.types import Message, MessagePage

__all__ = ["MAX_LIMIT", "MessagePager"]

logger = logging.getLogger("dify_transport")

MAX_LIMIT = 100
"""Dify's largest ``limit`` for ``GET /messages``."""


class MessagePager:
    """Plans the ``GET /messages`` requests of one conversation (pure, no I/O).

    Loop: send ``(first_id, limit)``, :meth:`add` the page, until :attr:`done`;
    then :meth:`messages`.
    """

    def __init__(self, conversation_id: str, page_size: int) -> None:
        self.page_size = page_size
        self.first_id: str | None = None
        self.limit = page_size
        self.done = False
        self._what = f"the messages of conversation {conversation_id!r}"
        self._guard = PageGuard(self._what)
        self._pages: list[list[Message]] = []
        self._seen: dict[str, Message] = {}

    def add(self, page: MessagePage) -> None:
        """Take one page and plan the next request (or set :attr:`done`)."""
        data = page.data
        fresh = [m for m in data if m.id not in self._seen]
        self._pages.append(data)
        self._seen.update((m.id, m) for m in data)
        repeated = bool(data) and data[0].id == self.first_id
        if not page.has_more or not data or repeated or (self.first_id is None and not fresh):
            self.done = True
            return
        self._guard.next_page([m.id for m in data])
        self._plan(data)

    def _plan(self, data: Sequence[Message]) -> None:
        oldest = min(_second(m) for m in self._seen.values())
        newer = [m for m in self._seen.values() if _second(m) > oldest]
        if newer:
            # Continue from the next newer second: its strictly-older read holds the
            # whole oldest second again, read so far or not.
            cursor_second = min(_second(m) for m in newer)
            rereads = sum(1 for m in self._seen.values() if _second(m) < cursor_second)
            cursor = next(m for m in newer if _second(m) == cursor_second)
            if rereads < MAX_LIMIT:
                self.first_id, self.limit = cursor.id, min(MAX_LIMIT, rereads + self.page_size)
                return
        elif len(self._seen) < MAX_LIMIT:
            # All read so far is one second: read the newest messages again, more of them.
            self.first_id, self.limit = None, min(MAX_LIMIT, len(self._seen) + self.page_size)
            return
        logger.warning(
            "Dify stores message times to the second and more than %d messages of %s share "
            "one second: paging past it may skip some of them",
            MAX_LIMIT,
            self._what,
        )
        self.first_id, self.limit = data[0].id, self.page_size

    def messages(self) -> list[Message]:
        """Every message once, oldest first (ties in the order of the page that read them)."""
        seen: set[str] = set()
        out: list[Message] = []
        for page in reversed(self._pages):
            for message in page:
                if message.id not in seen:
                    seen.add(message.id)
                    out.append(message)
        return sorted(out, key=_second)


def _second(message: Message) -> int:
    created = message.created_at
    return int(created) if isinstance(created, (int, float)) else 0
