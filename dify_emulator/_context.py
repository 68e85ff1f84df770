"""Per-request context, route type and the argument checks every endpoint shares."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from dify_emulator._apps import AppSpec, InputField
from dify_emulator._faults import EventItem, Faults
from dify_emulator._http import Request, Response
from dify_emulator._multipart import Part, parse_multipart
from dify_emulator._store import DEFAULT_USER, Store
from dify_emulator._wire import ApiError, ParamError, Wire

if TYPE_CHECKING:
    from dify_emulator._core import Core

__all__ = [
    "MODE_MESSAGE",
    "Ctx",
    "Events",
    "Handler",
    "Route",
    "check_inputs",
    "check_limit",
    "check_uuid",
    "not_found",
]

MODE_MESSAGE: Final = "Please check if your app mode matches the right API route."
_BAD_REQUEST: Final = "The browser (or proxy) sent a request that this server could not understand."


class Events:
    """A handler result: an event stream the core encodes (with faults) as SSE.

    ``own_errors``: the generator applies the ``error_after`` fault itself.
    """

    __slots__ = ("gen", "own_errors")

    def __init__(self, gen: Generator[EventItem, None, None], *, own_errors: bool = False) -> None:
        self.gen = gen
        self.own_errors = own_errors


Handler = Callable[["Ctx"], "Response | Events"]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: method, path pattern (``{name}`` segments), auth kind, handler."""

    method: str
    pattern: str
    handler: Handler
    auth: str = "app"  # "app" | "dataset" | "none"
    wire: str | None = None  # only on this wire generation


@dataclass(slots=True)
class Ctx:
    """One request being handled."""

    core: Core
    req: Request
    params: dict[str, str]
    spec: AppSpec | None = None
    faults: Faults | None = None
    _json: Any = field(default=None)
    _parsed: bool = False
    _parts: list[Part] | None = None

    @property
    def wire(self) -> Wire:
        """The wire generation."""
        return self.core.wire

    @property
    def store(self) -> Store:
        """The state store."""
        return self.core.store

    @property
    def app(self) -> AppSpec:
        """The authenticated app."""
        assert self.spec is not None
        return self.spec

    def json(self) -> dict[str, Any]:
        """The JSON body with Flask ``get_json()`` semantics (415 / 400 errors)."""
        if not self._parsed:
            ctype = self.req.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json" and not ctype.endswith("+json"):
                raise ApiError(
                    415,
                    "unsupported_media_type",
                    "Did not attempt to load JSON data because the request Content-Type was "
                    "not 'application/json'.",
                )
            try:
                self._json = json.loads(self.req.body)
            except ValueError:
                msg = (
                    _BAD_REQUEST
                    if self.wire.v015
                    else "Invalid JSON payload received or JSON payload is empty."
                )
                raise ApiError(400, "bad_request", msg) from None
            self._parsed = True
        if not isinstance(self._json, dict):
            raise ApiError(400, "invalid_param", "The JSON body must be an object.")
        return self._json

    def body_user(self, *, required: bool = True) -> str:
        """``user`` from the JSON body (``Arg user must be provided.`` when required)."""
        user = self.json().get("user")
        if isinstance(user, str) and user:
            return user
        if required:
            raise ApiError(400, "invalid_param", "Arg user must be provided.")
        return DEFAULT_USER

    def query_user(self, *, required: bool = False) -> str:
        """``user`` from the query string."""
        user = self.req.query.get("user")
        if user:
            return user
        if required:
            raise ApiError(400, "invalid_param", "Arg user must be provided.")
        return DEFAULT_USER

    def parts(self) -> list[Part] | None:
        """Multipart parts, or None when the body is not multipart/form-data."""
        if self._parts is None:
            ctype = self.req.headers.get("content-type", "")
            if not ctype.lower().startswith("multipart/form-data"):
                return None
            self._parts = parse_multipart(ctype, self.req.body)
        return self._parts

    def form_user(self) -> str:
        """``user`` from a multipart form field."""
        for part in self.parts() or []:
            if part.name == "user" and part.filename is None:
                return part.data.decode("utf-8", "replace") or DEFAULT_USER
        return DEFAULT_USER

    def end_user(self, user: str) -> str:
        """The end-user id of ``user`` in this app."""
        return self.store.end_user(self.app.name, user)

    def require_chat(self) -> None:
        """400 ``not_chat_app`` unless the app is chat, agent-chat or advanced-chat."""
        if not self.app.chat_family:
            raise ApiError(400, "not_chat_app", MODE_MESSAGE)

    def missing(self, name: str, where: str = "JSON body") -> ParamError:
        """The validation error for a missing required argument."""
        if self.wire.v015:
            return ParamError(name, f"Missing required parameter in the {where}")
        return ParamError(name, "Field required")

    @property
    def root_url(self) -> str:
        """The server root (base URL without ``/v1``)."""
        return self.core.base_url.removesuffix("/v1")


def not_found(message: str) -> ApiError:
    """404 ``not_found``."""
    return ApiError(404, "not_found", message)


def check_uuid(name: str, value: str) -> str:
    """Validate a UUID argument (400 in the generation's validation shape)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ParamError(name, f"{value} is not a valid uuid.") from None


def check_limit(ctx: Ctx, default: int = 20, maximum: int = 100) -> int:
    """``limit`` from the query string, 1..maximum."""
    raw = ctx.req.query.get("limit", "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParamError("limit", f"invalid literal for int() with base 10: '{raw}'") from None
    if not 1 <= value <= maximum:
        raise ParamError("limit", f"Invalid limit: {value}. Must be between 1 and {maximum}.")
    return value


def _check_one(f: InputField, value: Any) -> Any:
    if value is None or value == "":
        if f.required:
            raise ApiError(400, "invalid_param", f"{f.variable} is required in input form")
        return None
    if f.kind == "number":
        if isinstance(value, bool):
            raise ApiError(
                400, "invalid_param", f"{f.variable} in input form must be a valid number"
            )
        if isinstance(value, int | float):
            return value
        try:
            num = float(str(value))
        except ValueError:
            raise ApiError(
                400, "invalid_param", f"{f.variable} in input form must be a valid number"
            ) from None
        return int(num) if num.is_integer() and "." not in str(value) else num
    if not isinstance(value, str):
        raise ApiError(400, "invalid_param", f"{f.variable} in input form must be a string")
    if f.kind == "select" and value not in f.options:
        raise ApiError(
            400,
            "invalid_param",
            f"{f.variable} in input form must be one of the following: {list(f.options)}",
        )
    if f.max_length is not None and len(value) > f.max_length:
        raise ApiError(
            400,
            "invalid_param",
            f"{f.variable} in input form must be less than {f.max_length} characters",
        )
    return value


def check_inputs(spec: AppSpec, inputs: dict[str, Any]) -> dict[str, Any]:
    """Validate inputs against the app's form; undeclared keys are dropped silently."""
    return {f.variable: _check_one(f, inputs.get(f.variable)) for f in spec.inputs}
