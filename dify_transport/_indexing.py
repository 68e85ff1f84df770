"""Waiting for a document batch to be indexed: the status rules, errors and progress (pure).

`wait_for_indexing` on both knowledge clients polls
``GET /datasets/{id}/documents/{batch}/indexing-status`` and hands each answer to
`IndexingWatch`, which decides (done / failed / paused / keep polling) and reports
progress: a tqdm bar when tqdm is installed, else one plain line per change on stderr.
Progress is off by default unless stderr is a terminal or the code runs in a notebook.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Final, TextIO

from dify_transport._errors import DifyError
from dify_transport.types import IndexingStatus, IndexingStatusList

__all__ = [
    "DEFAULT_MAX_WAIT",
    "DEFAULT_POLL_INTERVAL",
    "IndexingError",
    "IndexingFailedError",
    "IndexingPausedError",
    "IndexingTimeoutError",
    "IndexingWatch",
    "progress_default",
]

DEFAULT_MAX_WAIT: Final = 600.0
"""Seconds `wait_for_indexing` waits in total by default."""
DEFAULT_POLL_INTERVAL: Final = 1.0
"""Seconds between two status polls by default."""


class IndexingError(DifyError):
    """A document batch did not finish indexing (``.statuses``: the last answer)."""

    def __init__(
        self, message: str, *, batch: str = "", statuses: list[IndexingStatus] | None = None
    ) -> None:
        super().__init__(message)
        self.batch = batch
        self.statuses = statuses or []


class IndexingFailedError(IndexingError):
    """Dify reported ``error`` for a document of the batch (its ``error`` text is quoted)."""


class IndexingPausedError(IndexingError):
    """Indexing was ``paused`` (in Dify's UI or by a plan limit); resume it there."""


class IndexingTimeoutError(IndexingError):
    """Indexing had not completed within ``max_wait`` seconds (it may still finish)."""


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    if get_ipython is None:
        return False
    ip = get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def progress_default() -> bool:
    """Show progress by default only on a terminal (stderr) or in a notebook."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty()) or _in_notebook()


class IndexingWatch:
    """Reads successive batch statuses; raises on ``error``/``paused``; reports progress."""

    def __init__(
        self,
        batch: str,
        *,
        max_wait: float,
        progress: bool | None,
        stream: TextIO | None = None,
    ) -> None:
        self.batch = batch
        self.max_wait = max_wait
        self.deadline = time.monotonic() + max_wait
        self.show = progress_default() if progress is None else progress
        self._stream = stream
        self._bar: Any = None
        self._last: tuple[int, int, str] | None = None

    def done(self, listing: IndexingStatusList) -> bool:
        """True when every document is ``completed``; raises on ``error`` / ``paused``."""
        statuses = listing.data
        for st in statuses:
            if st.indexing_status == "error":
                self.close()
                msg = (
                    f"Indexing of document {st.id} (batch {self.batch}) failed: "
                    f"{st.error or 'no reason given'}. Fix the document and upload it again."
                )
                raise IndexingFailedError(msg, batch=self.batch, statuses=statuses)
            if st.indexing_status == "paused":
                self.close()
                msg = (
                    f"Indexing of document {st.id} (batch {self.batch}) is paused; resume it "
                    "in Dify (Knowledge > the document) and wait again."
                )
                raise IndexingPausedError(msg, batch=self.batch, statuses=statuses)
        finished = bool(statuses) and all(s.indexing_status == "completed" for s in statuses)
        self._report(statuses, finished)
        if finished:
            self.close()
        return finished

    def remaining(self) -> float:
        """Seconds left before the deadline."""
        return self.deadline - time.monotonic()

    def timed_out(self, listing: IndexingStatusList | None) -> IndexingTimeoutError:
        """The error for a wait past its deadline."""
        self.close()
        statuses = listing.data if listing is not None else []
        states = ", ".join(f"{s.id}: {s.indexing_status}" for s in statuses) or "no status"
        msg = (
            f"Indexing of batch {self.batch} did not complete within {self.max_wait:g} s "
            f"({states}); it may still finish: wait again with a larger max_wait."
        )
        return IndexingTimeoutError(msg, batch=self.batch, statuses=statuses)

    def _report(self, statuses: list[IndexingStatus], finished: bool) -> None:
        if not self.show:
            return
        done = sum(s.completed_segments or 0 for s in statuses)
        total = sum(s.total_segments or 0 for s in statuses)
        phase = "completed" if finished else _phase(statuses)
        state = (done, total, phase)
        if state == self._last:
            return
        self._last = state
        if self._bar is None and self._stream is None:
            self._bar = self._make_bar(total)
        if self._bar is not None:
            self._bar.total = max(total, 1)
            self._bar.n = done if total else int(finished)
            self._bar.set_postfix_str(phase, refresh=False)
            self._bar.refresh()
            return
        out = self._stream or sys.stderr
        out.write(f"Indexing batch {self.batch}: {done}/{total} segments ({phase})\n")
        out.flush()

    def _make_bar(self, total: int) -> Any:
        try:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]  # noqa: PLC0415
        except ImportError:
            return None
        return tqdm(total=max(total, 1), desc=f"Indexing {self.batch}", unit="segment")

    def close(self) -> None:
        """Close the progress bar, if any."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _phase(statuses: list[IndexingStatus]) -> str:
    phases = [s.indexing_status or "waiting" for s in statuses]
    for phase in ("indexing", "splitting", "cleaning", "parsing", "waiting"):
        if phase in phases:
            return phase
    return phases[0] if phases else "waiting"
