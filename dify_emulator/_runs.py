"""Workflow runs that outlive their HTTP stream (1.x): live listeners, resumption, detach.

Every chatflow/workflow run publishes its events to a :class:`Channel`, which
``GET /workflow/{workflow_run_id}/events`` follows (see ``dify_emulator/_hitl.py``):

* a run in progress: events from the moment of connection (nothing sent earlier is
  replayed);
* a run resumed after a human-input form: the resumed segment from its first event
  (``human_input_form_filled`` / ``human_input_form_timeout``) for the first listener;
* a paused run: its ``workflow_paused`` event; a finished run: its ``workflow_finished``;
* with the ``replay`` fault, a running run's ``workflow_started`` and node events sent so
  far come first (a state snapshot's repeats).

The ``detach_after=N`` fault drops the stream after N events while a thread finishes
the run server-side.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator
from typing import Any, Final

from dify_emulator._faults import EventItem, is_delta
from dify_emulator._http import DROP, Sleep

__all__ = ["Channel", "Resume", "RunHub"]

POLL: Final = 0.02
MAX_FOLLOW: Final = 600.0
_LAST: Final = frozenset({"workflow_finished", "workflow_paused"})
_SNAPSHOT: Final = frozenset({"workflow_started", "node_started", "node_finished"})

Resume = Callable[[str, dict[str, Any], bool], Generator[EventItem, None, None]]
"""Continues a paused run: ``(action_id, submitted inputs, timed_out) -> events``."""


class Channel:
    """The event fan-out of one workflow run."""

    def __init__(self, run_id: str, app: str, user: str) -> None:
        self.run_id = run_id
        self.app = app
        self.user = user
        self.lock = threading.Lock()
        self.active = True
        self.last: dict[str, Any] | None = None
        self.replay: list[dict[str, Any]] | None = None
        self.snapshot: list[dict[str, Any]] = []
        self._listeners: list[queue.SimpleQueue[dict[str, Any] | None]] = []

    def publish(self, event: dict[str, Any]) -> None:
        """Hand one event to every listener (and to the unread resumed segment)."""
        with self.lock:
            if self.replay is not None:
                self.replay.append(event)
            if event.get("event") in _LAST:
                self.last = event
            elif event.get("event") in _SNAPSHOT:
                self.snapshot.append(event)
            for q in self._listeners:
                q.put(event)

    def end(self) -> None:
        """The producer is done (finished, paused or failed)."""
        with self.lock:
            self.active = False
            for q in self._listeners:
                q.put(None)

    def follow(self, *, snapshot: bool = False) -> Generator[EventItem, None, None]:
        """The events a new listener gets (see the module docstring), then the end."""
        q: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        with self.lock:
            if snapshot and self.active and self.replay is None:
                for event in self.snapshot:
                    q.put(event)
            if self.replay is not None:
                for event in self.replay:
                    q.put(event)
                self.replay = None
            elif not self.active and self.last is not None:
                q.put(self.last)
            if not self.active:
                q.put(None)
            self._listeners.append(q)
        deadline = time.monotonic() + MAX_FOLLOW
        try:
            while time.monotonic() < deadline:
                try:
                    got = q.get_nowait()
                except queue.Empty:
                    yield Sleep(POLL)
                    continue
                if got is None:
                    return
                yield got
        finally:
            with self.lock:
                self._listeners.remove(q)


class RunHub:
    """All channels and the continuations of paused runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channels: dict[str, Channel] = {}
        self._paused: dict[str, Resume] = {}

    def reset(self) -> None:
        """Forget every run."""
        with self._lock:
            self._channels.clear()
            self._paused.clear()

    def channel(self, run_id: str) -> Channel | None:
        """The channel of a run, if it ran in this emulator."""
        with self._lock:
            return self._channels.get(run_id)

    def track(
        self,
        gen: Generator[EventItem, None, None],
        *,
        app: str,
        user: str,
        detach_after: int | None = None,
        delay: float = 0.0,
    ) -> Generator[EventItem, None, None]:
        """Publish a run's events as they are produced; detach after N events if asked."""
        ch: Channel | None = None
        detached = False
        count = 0
        try:
            for item in gen:
                if isinstance(item, dict):
                    if ch is None:
                        ch = Channel(str(item.get("workflow_run_id", "")), app, user)
                        with self._lock:
                            self._channels[ch.run_id] = ch
                    ch.publish(item)
                    count += 1
                yield item
                if detach_after is not None and count >= detach_after and ch is not None:
                    detached = True
                    self._spawn(gen, ch, delay)
                    yield DROP
                    return
        finally:
            if not detached:
                gen.close()
                if ch is not None:
                    ch.end()

    def park(self, run_id: str, resume: Resume) -> None:
        """Remember how to continue a paused run."""
        with self._lock:
            self._paused[run_id] = resume

    def resume(
        self, run_id: str, action: str, data: dict[str, Any], *, timed_out: bool, delay: float
    ) -> bool:
        """Continue a paused run in a thread; its segment is kept for the first listener."""
        with self._lock:
            cont = self._paused.pop(run_id, None)
            ch = self._channels.get(run_id)
        if cont is None or ch is None:
            return False
        with ch.lock:
            ch.active = True
            ch.replay = []
        self._spawn(cont(action, data, timed_out), ch, delay)
        return True

    @staticmethod
    def _spawn(gen: Generator[EventItem, None, None], ch: Channel, delay: float) -> None:
        def drain() -> None:
            deltas = 0
            try:
                for item in gen:
                    if isinstance(item, Sleep):
                        time.sleep(item.seconds)
                        continue
                    if not isinstance(item, dict):
                        continue
                    if is_delta(item):
                        if delay and deltas:
                            time.sleep(delay)
                        deltas += 1
                    ch.publish(item)
            finally:
                gen.close()
                ch.end()

        threading.Thread(target=drain, name=f"dify-run-{ch.run_id[:8]}", daemon=True).start()
