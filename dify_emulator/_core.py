"""The sans-IO core: request in, response out (routing, auth, faults, recording)."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from dify_emulator import _hitl, _routes_conv, _routes_extra, _routes_gen, _routes_kb, _routes_misc
from dify_emulator._apps import APPS, APPS_BY_KEY, DATASET_KEY, AppSpec
from dify_emulator._context import Ctx, Events, Route
from dify_emulator._faults import Faults, FaultSpecError, apply_faults, chaos_pick, status_error
from dify_emulator._http import Request, Response
from dify_emulator._runs import RunHub
from dify_emulator._store import Store
from dify_emulator._wire import ApiError, ParamError, Wire

__all__ = ["FAULT_HEADER", "MAX_BODY", "Core", "RecordedRequest", "StopCall"]

FAULT_HEADER: Final = "x-emulator-fault"
MAX_BODY: Final = 32 * 1024 * 1024
"""Largest request body accepted (the 30 MB audio limit plus multipart overhead)."""
logger = logging.getLogger("dify_emulator")
_UUID_RE: Final = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ALL_ROUTES: Final[list[Route]] = [
    *_routes_misc.ROUTES,
    *_routes_gen.ROUTES,
    *_routes_conv.ROUTES,
    *_routes_kb.ROUTES,
    *_hitl.ROUTES,
    *_routes_extra.ROUTES,
]


class StopCall(NamedTuple):
    """One call of a stop endpoint."""

    task_id: str
    user: str
    app: str


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the emulator received it (never the Authorization header)."""

    method: str
    path: str
    query: dict[str, str]
    app: str | None
    user: str | None
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    rejected: int | None = None
    """The status a ``status`` fault (or chaos mode) answered with before any work."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for ``GET /_emulator/requests``)."""
        return {"method": self.method, "path": self.path, "query": self.query, "app": self.app,
                "user": self.user, "body": self.body, "headers": self.headers,
                "rejected": self.rejected}  # fmt: skip


def _compile(pattern: str) -> re.Pattern[str]:
    def seg(m: re.Match[str]) -> str:
        name, _, kind = m.group(1).partition(":")
        return f"(?P<{name}>{_UUID_RE if kind == 'uuid' else '[^/]+'})"

    return re.compile("^" + re.sub(r"\{([^}]+)\}", seg, pattern.rstrip("/")) + "/?$")


class Core:
    """Dispatches requests for one emulator instance."""

    def __init__(self, wire: Wire, store: Store) -> None:
        self.wire = wire
        self.store = store
        self.base_url = "http://127.0.0.1/v1"
        self.max_body = MAX_BODY
        self.runs = RunHub()
        self.delay = 0.0  # seconds between text deltas unless a ``delay`` fault says otherwise
        self.requests: list[RecordedRequest] = []
        self.stop_calls: list[StopCall] = []
        self._lock = threading.Lock()
        self._rng = random.Random()  # chaos mode's draws  # noqa: S311 - not crypto
        self._app_faults: dict[str, Faults] = {}
        self._header_counts: dict[tuple[str | None, str], int] = {}
        self._routes = [
            (r, _compile(r.pattern)) for r in _ALL_ROUTES if r.wire in (None, wire.version)
        ]

    # -- state -----------------------------------------------------------------------------
    def attached_datasets(self) -> list[str]:
        """Datasets the chat app retrieves from (the two bundled ones)."""
        out = []
        for name in ("emulator-kb", "emulator-notes"):
            ds = self.store.dataset_by_name(name)
            if ds is not None:
                out.append(ds["id"])
        return out

    def record_stop(self, task_id: str, user: str, app: str) -> None:
        """Log a stop call."""
        with self._lock:
            self.stop_calls.append(StopCall(task_id, user, app))

    def set_faults(self, app: str, faults: Faults) -> None:
        """Faults for every request to ``app`` (name like ``"chat"`` or its key)."""
        name = APPS_BY_KEY[app].name if app in APPS_BY_KEY else app
        if name == DATASET_KEY:
            name = "dataset"
        if name not in APPS and name != "dataset":
            msg = f"unknown app {app!r}"
            raise KeyError(msg)
        with self._lock:
            self._app_faults[name] = faults

    def clear_faults(self) -> None:
        """Remove all faults."""
        with self._lock:
            self._app_faults.clear()
            self._header_counts.clear()

    def reset(self) -> None:
        """Wipe state, logs and faults."""
        self.store.reset()
        self.runs.reset()
        with self._lock:
            self.requests.clear()
            self.stop_calls.clear()
        self.clear_faults()

    # -- dispatch --------------------------------------------------------------------------
    def too_large(self) -> Response:
        """413 for a request body over :attr:`max_body` (werkzeug's RequestEntityTooLarge)."""
        return self.wire.error(
            ApiError(
                413,
                "request_entity_too_large",
                "The data value transmitted exceeds the capacity limit.",
            )
        )

    def handle(self, req: Request) -> Response:
        """Answer one request."""
        if len(req.body) > self.max_body:
            return self.too_large()
        try:
            return self._handle(req)
        except ApiError as err:
            return self.wire.error(err)
        except ParamError as err:
            return self.wire.param_error(err)
        except Exception:  # an emulator bug must still answer like Dify
            logger.exception("emulator error on %s %s", req.method, req.path)
            return self.wire.error(
                ApiError(
                    500, "internal_server_error", "Internal Server Error, please contact support."
                )
            )

    def _handle(self, req: Request) -> Response:
        if req.path.startswith("/_emulator/"):
            return self._debug(req)
        if req.method == "OPTIONS":
            return self._preflight(req)
        if req.path != "/v1" and not req.path.startswith("/v1/"):
            return self.wire.not_found_route()
        path = req.path[3:] or "/"
        matches = [(r, m) for r, rx in self._routes if (m := rx.match(path)) is not None]
        if not matches:
            return self.wire.not_found_route()
        chosen = next(((r, m) for r, m in matches if r.method == req.method), None)
        if chosen is None:
            return self.wire.method_not_allowed(sorted({r.method for r, _ in matches}))
        route, match = chosen
        ctx = Ctx(self, req, match.groupdict())
        app_name = self._identify(req)
        rec = self._record(ctx, app_name)
        faults = self._faults_for(req, app_name)
        if faults is not None and faults.chaos:
            faults = chaos_pick(faults, self._rng)
        pre_delay = (faults.first_byte_delay or 0.0) if faults else 0.0
        if faults is not None and faults.status is not None:
            self._mark_rejected(rec, faults.status)
            resp = self.wire.error(status_error(faults))
        else:
            resp = self._dispatch(ctx, route, faults)
        resp.pre_delay = pre_delay
        return resp

    def _dispatch(self, ctx: Ctx, route: Route, faults: Faults | None) -> Response:
        if route.auth != "none":
            ctx.spec = self._authenticate(ctx.req, route.auth)
        ctx.faults = faults
        try:
            result = route.handler(ctx)
        except ApiError as err:
            return self.wire.error(err)
        except ParamError as err:
            return self.wire.param_error(err)
        if isinstance(result, Events):
            if self.delay and (faults is None or faults.delay is None):
                faults = (faults or Faults()).merged(Faults(delay=self.delay))
            body = apply_faults(result.gen, self.wire, faults, own_errors=result.own_errors)
            return Response(200, self.wire.stream_headers(), body)
        return result

    def _authenticate(self, req: Request, kind: str) -> AppSpec | None:
        header = req.headers.get("authorization", "")
        scheme, _, token = header.strip().partition(" ")
        if not header or not token.strip():
            raise ApiError(
                401, "unauthorized", "Authorization header must be provided and start with 'Bearer'"
            )
        if scheme.lower() != "bearer":
            raise ApiError(401, "unauthorized", "Authorization scheme must be 'Bearer'")
        token = token.strip()
        if kind == "dataset":
            if token != DATASET_KEY:
                raise ApiError(401, "unauthorized", "Access token is invalid")
            return None
        spec = APPS_BY_KEY.get(token)
        if spec is None or spec.wire not in (None, self.wire.version):
            raise ApiError(401, "unauthorized", "Access token is invalid")
        return spec

    def _identify(self, req: Request) -> str | None:
        token = req.headers.get("authorization", "").strip().partition(" ")[2].strip()
        if token == DATASET_KEY:
            return "dataset"
        spec = APPS_BY_KEY.get(token)
        return spec.name if spec else None

    def _mark_rejected(self, rec: RecordedRequest, status: int) -> None:
        with self._lock:
            for i in range(len(self.requests) - 1, -1, -1):
                if self.requests[i] is rec:
                    self.requests[i] = dataclasses.replace(rec, rejected=status)
                    return

    def _record(self, ctx: Ctx, app: str | None) -> RecordedRequest:
        req = ctx.req
        body: Any = None
        user: str | None = req.query.get("user")
        ctype = req.headers.get("content-type", "")
        if req.body and "json" in ctype:
            try:
                body = json.loads(req.body)
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("user"), str):
                user = body["user"]
        elif ctype.startswith("multipart/form-data"):
            form_user = ctx.form_user()
            user = form_user if form_user != "DEFAULT-USER" else user
        headers = {k: v for k, v in req.headers.items() if k != "authorization"}
        rec = RecordedRequest(req.method, req.path, dict(req.query), app, user, body, headers)
        with self._lock:
            self.requests.append(rec)
        return rec

    def _faults_for(self, req: Request, app: str | None) -> Faults | None:
        with self._lock:
            faults = self._app_faults.get(app) if app else None
            if faults is not None and faults.status is not None and faults.times is not None:
                if faults.times <= 0:
                    faults.status = None
                else:
                    faults.times -= 1
            spec = req.headers.get(FAULT_HEADER)
            if spec:
                try:
                    extra = Faults.parse(spec)
                except FaultSpecError as err:
                    msg = f"[emulator] invalid X-Emulator-Fault header: {err}"
                    raise ApiError(400, "bad_request", msg) from None
                if extra.status is not None and extra.times is not None:
                    key = (app, spec)
                    used = self._header_counts.get(key, 0)
                    self._header_counts[key] = used + 1
                    if used >= extra.times:
                        extra.status = None
                faults = extra if faults is None else faults.merged(extra)
            if faults is not None:
                faults = Faults(**{k: getattr(faults, k) for k in faults.__slots__})
        return faults

    # -- extras ----------------------------------------------------------------------------
    def _preflight(self, req: Request) -> Response:
        headers = self.wire.headers("text/html; charset=utf-8")
        headers = [(k, v) for k, v in headers if k != "Access-Control-Allow-Origin"]
        headers += [
            ("Allow", "GET, POST, DELETE, OPTIONS"),
            ("Access-Control-Allow-Origin", req.headers.get("origin", "*")),
            ("Access-Control-Allow-Headers", "authorization, content-type"),
            ("Access-Control-Allow-Methods", "DELETE, GET, OPTIONS, PATCH, POST, PUT"),
            ("Vary", "Origin"),
        ]
        return Response(200, headers, b"")

    def _debug(self, req: Request) -> Response:
        with self._lock:
            requests = [r.as_dict() for r in self.requests]
            stops = [s._asdict() for s in self.stop_calls]
        if req.path == "/_emulator/requests" and req.method == "GET":
            return self.wire.json(requests)
        if req.path == "/_emulator/stop-calls" and req.method == "GET":
            return self.wire.json(stops)
        if req.path == "/_emulator/reset" and req.method == "POST":
            self.reset()
            return self.wire.json({"result": "success"})
        return self.wire.not_found_route()
