"""Wire generations: JSON encodings, headers and error envelopes of Dify 0.15 and 1.x.

``"0.15"`` models Dify 0.15.3 as recorded (``tests/fixtures/recordings``). ``"1.x"``
models Dify 1.13.3: the 1.12.1 code the wire reference was read from plus the two
client-visible changes documented after it (chatflow ``message_end`` before
``workflow_finished``; ``DELETE /conversations/{id}`` ownership check restored, PR #32686).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, Final

from dify_emulator._http import Response

__all__ = ["ApiError", "ParamError", "Wire"]

HTML_404: Final = (
    b"<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    b"<p>The requested URL was not found on the server. If you entered the URL manually "
    b"please check your spelling and try again.</p>\n"
)


class ApiError(Exception):
    """A Dify error envelope: ``{"code", "message", "status"}`` with an HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


class ParamError(Exception):
    """A request-argument validation failure (reqparse in 0.15, pydantic in 1.x)."""

    def __init__(self, field: str, message: str, *, model: str = "Payload") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.model = model


class Wire:
    """Everything that differs between the Dify 0.15 and 1.x wire formats."""

    def __init__(self, version: str) -> None:
        if version not in ("0.15", "1.x"):
            msg = f"wire must be '0.15' or '1.x', not {version!r}"
            raise ValueError(msg)
        self.version = version
        self.v015 = version == "0.15"
        self.server_version = "0.15.3" if self.v015 else "1.13.3"
        self._base: list[tuple[str, str]] = [
            ("Server", "gunicorn"),
            ("Access-Control-Allow-Origin", "*"),
            ("X-Version", self.server_version),
            ("X-Env", "PRODUCTION"),
        ]
        if self.v015:
            self._sse_dumps = json.JSONEncoder().encode
        else:
            self._sse_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    # -- encodings -------------------------------------------------------------------------
    def sse(self, event: dict[str, Any]) -> bytes:
        r"""One SSE data frame (``data: <json>\\n\\n``)."""
        return b"data: " + self._sse_dumps(event).encode() + b"\n\n"

    def dumps(self, obj: Any) -> bytes:
        """JSON for REST bodies (0.15: spaced ASCII; 1.x: compact UTF-8), trailing newline."""
        if self.v015:
            return json.dumps(obj).encode() + b"\n"
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"

    # -- responses -------------------------------------------------------------------------
    def headers(self, content_type: str | None = None) -> list[tuple[str, str]]:
        """The server's standard headers plus an optional content type."""
        out = list(self._base)
        if content_type is not None:
            out.append(("Content-Type", content_type))
        return out

    def json(self, obj: Any, status: int = 200) -> Response:
        """A REST JSON response."""
        return Response(status, self.headers("application/json"), self.dumps(obj))

    def blocking(self, obj: Any) -> Response:
        """A blocking generation body: stdlib ``json.dumps`` (spaced, ASCII), no newline."""
        ctype = "application/json" if self.v015 else "application/json; charset=utf-8"
        return Response(200, self.headers(ctype), json.dumps(obj).encode())

    def stream_headers(self) -> list[tuple[str, str]]:
        """Headers of an SSE response."""
        return self.headers("text/event-stream; charset=utf-8")

    def error(self, err: ApiError) -> Response:
        """Render a Dify error envelope."""
        body: dict[str, Any] = {"code": err.code, "message": err.message, "status": err.status}
        resp = self.json(body, err.status)
        resp.headers.extend(err.headers)
        if err.status == 401 and not self.v015:
            resp.headers.append(("WWW-Authenticate", 'Bearer realm="api"'))
        return resp

    def param_error(self, err: ParamError) -> Response:
        """Render a validation failure in this generation's shape."""
        if self.v015:
            return self.json(
                {"code": "invalid_param", "message": err.message, "params": err.field}, 400
            )
        text = (
            f"1 validation error for {err.model}\n{err.field}\n  {err.message} "
            f"[type=value_error, input_type=dict]"
        )
        return self.json({"code": "invalid_param", "message": text, "status": 400}, 400)

    def not_found_route(self) -> Response:
        """Werkzeug's HTML 404 page for an unknown route."""
        return Response(404, self.headers("text/html; charset=utf-8"), HTML_404)

    def method_not_allowed(self, allowed: list[str]) -> Response:
        """JSON 405 with an ``Allow`` header."""
        resp = self.error(
            ApiError(405, "method_not_allowed", "The method is not allowed for the requested URL.")
        )
        resp.headers.append(("Allow", ", ".join([*allowed, "OPTIONS"])))
        return resp

    @staticmethod
    def reason(status: int) -> bytes:
        """Werkzeug-style upper-case reason phrase."""
        try:
            return HTTPStatus(status).phrase.upper().encode()
        except ValueError:
            return b"UNKNOWN"
