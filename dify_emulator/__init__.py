"""An offline, Dify-compatible Service API server for tests, notebooks and demos.

```python
from dify_emulator import start_emulator

with start_emulator(wire="1.x") as emu:
    emu.base_url  # "http://127.0.0.1:PORT/v1"
    emu.keys.chat  # "app-emulator-chat"
```

``Emulator(...)`` without ``start()`` serves only in-process through
:meth:`Emulator.transport` (no sockets, e.g. under ``--disable-socket``).

Which Dify versions the two wires model:

* ``wire="0.15"`` is Dify 0.15.3 as recorded (``X-Version: 0.15.3``): spaced ASCII JSON,
  chatflow ``workflow_finished`` then ``message_end``, ``DELETE /conversations/{id}`` →
  200 ``{"result": "success"}`` and 404 for an unknown or another user's conversation.
* ``wire="1.x"`` is Dify 1.13.3 (``X-Version: 1.13.3``): the 1.12.1 code the wire
  reference was read from, plus the two later changes the reference documents
  (docs 1.15): chatflow ``message_end`` then ``workflow_finished``, and the restored
  ownership check on ``DELETE /conversations/{id}`` (204 when owned, else 404, PR
  #32686), plus the newest documented features (human input, the run events endpoint,
  ``reasoning_chunk``, conversation variables, end users, annotations; see the "Emulator"
  section of ``docs/architecture.md``). Wire trap T5 (``docs/wire-traps.md``: answer deltas named
  ``message_file`` when the request carries files) is kept on because clients must survive it.
"""

from __future__ import annotations

from types import TracebackType

from dify_emulator._apps import KEYS, Keys
from dify_emulator._core import FAULT_HEADER, MAX_BODY, Core, RecordedRequest, StopCall
from dify_emulator._faults import Faults
from dify_emulator._server import IDLE_TIMEOUT, Server, ThreadedServer
from dify_emulator._store import Store
from dify_emulator._transport import EmulatorTransport
from dify_emulator._wire import Wire

__all__ = [
    "DEFAULT_PORT",
    "FAULT_HEADER",
    "Emulator",
    "EmulatorTransport",
    "Faults",
    "Keys",
    "RecordedRequest",
    "StopCall",
    "start_emulator",
]

IN_PROCESS_BASE_URL = "http://dify-emulator.local/v1"
DEFAULT_PORT = 5055
"""The command line's port (real Dify's API listens on 5001)."""


class Emulator:
    """One emulated Dify deployment: five apps, a knowledge base, SQLite state."""

    def __init__(
        self,
        *,
        wire: str = "1.x",
        db_path: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        idle_timeout: float = IDLE_TIMEOUT,
        max_body: int = MAX_BODY,
        delay_ms: float = 0,
    ) -> None:
        self.wire = wire
        self.keys: Keys = KEYS
        self._store = Store(db_path or ":memory:")
        self._core = Core(Wire(wire), self._store)
        self._core.base_url = IN_PROCESS_BASE_URL
        self._core.max_body = max_body
        self._core.delay = max(delay_ms, 0) / 1000
        self._host = host
        self._port = port
        self._idle_timeout = idle_timeout
        self._server: ThreadedServer | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Emulator:
        """Serve on ``host:port`` (port 0: a free port) from a daemon thread."""
        if self._server is None:
            server = ThreadedServer(
                Server(self._core, self._host, self._port, idle_timeout=self._idle_timeout)
            )
            server.start()
            self._server = server
            self._core.base_url = f"http://{self._host}:{server.port}/v1"
        return self

    def stop(self) -> None:
        """Stop the server thread (idempotent); the in-process transport keeps working."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Emulator(base_url={self.base_url!r}, wire={self.wire!r})"

    # -- accessors -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` (in-process only: ``http://dify-emulator.local/v1``)."""
        return self._core.base_url

    @property
    def port(self) -> int | None:
        """The bound port, or None when not serving on a socket."""
        return None if self._server is None else self._server.port

    @property
    def dataset_id(self) -> str:
        """The id of the bundled knowledge base (queried with ``keys.dataset``)."""
        return self._store.main_dataset_id

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received (never the Authorization header), oldest first."""
        return self._core.requests

    @property
    def stop_calls(self) -> list[StopCall]:
        """Every stop call as ``(task_id, user, app)``."""
        return self._core.stop_calls

    def transport(self) -> EmulatorTransport:
        """An httpx transport (sync and async) that serves requests in-process."""
        return EmulatorTransport(self._core)

    # -- control ---------------------------------------------------------------------------
    def set_faults(self, app: str, faults: Faults) -> None:
        """Inject faults into every request to ``app`` (``"chat"``, ..., ``"dataset"`` or a key)."""
        self._core.set_faults(app, faults)

    def clear_faults(self) -> None:
        """Remove all injected faults."""
        self._core.clear_faults()

    def reset(self) -> None:
        """Wipe conversations, messages, files, runs, added knowledge, logs and faults."""
        self._core.reset()


def start_emulator(
    wire: str = "1.x",
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    db_path: str | None = None,
    serve: bool = True,
    idle_timeout: float = IDLE_TIMEOUT,
    max_body: int = MAX_BODY,
    delay_ms: float = 0,
) -> Emulator:
    """Create an emulator and (unless ``serve=False``) start serving it on a socket.

    ``port`` 0 picks a free port (``python -m dify_emulator`` defaults to
    :data:`DEFAULT_PORT`). ``delay_ms``: pause between streamed text deltas (0: as fast as
    possible); ``idle_timeout``: seconds a silent connection stays open; ``max_body``:
    largest request body in bytes (larger: 413 ``request_entity_too_large``).
    """
    emu = Emulator(
        wire=wire, db_path=db_path, host=host, port=port, idle_timeout=idle_timeout,
        max_body=max_body, delay_ms=delay_ms,
    )  # fmt: skip
    return emu.start() if serve else emu
