"""`AsyncResumer`: the requests that resume a dropped run stream (see ``_reconnect.py``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

import httpx

from dify_transport import _app_api as api
from dify_transport import _app_api_1x as api1x
from dify_transport import _retry
from dify_transport._aggregate import StreamAccumulator
from dify_transport._base_client import Call, TimeoutTypes
from dify_transport._constants import LOGGER_NAME
from dify_transport._errors import APIError
from dify_transport._reconnect import ReconnectPolicy, Resumption, find_message

if TYPE_CHECKING:
    from dify_transport._async._engine import AsyncAPIClient

__all__ = ["AsyncResumer"]

T = TypeVar("T")
_log = logging.getLogger(LOGGER_NAME)
_MESSAGE_PAGE = 20


class AsyncResumer(Resumption):
    """Reopens one stream's run events and reads the finished run back (one per stream)."""

    def __init__(
        self,
        client: AsyncAPIClient,
        policy: ReconnectPolicy,
        *,
        user: str | None,
        timeout: TimeoutTypes,
        extra_headers: Mapping[str, str] | None,
    ) -> None:
        super().__init__(policy, user=user)
        self._client = client
        self._timeout = timeout
        self._headers = extra_headers

    async def reopen(self, run_id: str, cause: BaseException | None) -> httpx.Response:
        """Open ``GET /workflow/{run_id}/events`` (same user), retrying within the budget.

        Args:
            run_id: The run whose stream dropped.
            cause: The read failure (None: the stream ended without a terminal event).

        Raises:
            ReconnectError: The budget is spent, or the endpoint refused (404, older Dify).
        """
        self.begin()
        call = api1x.stream_workflow_events(run_id, user=self.user or "")
        sleep = self._client._sleep or _retry.async_sleep
        pause = self.backoff()  # > 0: the last reconnection of this drop brought nothing new
        last = cause
        while True:
            self.next_attempt(run_id, last, pause)
            if pause:
                await sleep(pause)
            try:
                response = await self._client._request(
                    call, timeout=self._timeout, extra_headers=self._headers, stream=True,
                    max_retries=0, deadline=self.deadline,
                )  # fmt: skip
            except APIError as exc:
                _log.debug("dify reconnect to run %s failed: %s", run_id, type(exc).__name__)
                last = exc
                pause = self.delay_after(exc, run_id)
                continue
            self.reconnected()
            _log.debug("dify stream of run %s resumed (reconnection %d)", run_id, self.resumes)
            return response

    async def complete(self, acc: StreamAccumulator) -> None:
        """Read the finished run's answer back (text sent while disconnected is lost)."""
        if not self.wants_completion(acc):
            return
        run_id = acc.workflow_run_id or ""
        acc.lost_ends()
        if acc.conversation_id is not None and acc.message_id is not None:
            call = api.get_messages(
                acc.conversation_id, user=self.user or "", first_id=None, limit=_MESSAGE_PAGE
            )
            page = await self._read_back(call, f"message {acc.message_id}")
            message = find_message(page.data, acc.message_id) if page is not None else None
            self.complete_chat(acc, message, run_id)
            return
        run = await self._read_back(api.get_workflow_run(run_id), f"run {run_id}")
        self.complete_workflow(acc, run)

    async def _read_back(self, call: Call[T], what: str) -> T | None:
        """``call``'s answer, or None when it fails (the stream ends with what it has)."""
        try:
            return await self._client._send(call, self._timeout, self._headers)
        except APIError as exc:
            _log.debug("dify: reading back %s failed: %r", what, exc)
            return None
