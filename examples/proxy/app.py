"""The proxy's web application (Starlette): login, SSE and WebSocket chat, stop.

The Dify key lives only in this process (``ChatDify``); the browser gets a session
cookie (random, HttpOnly, SameSite=Strict) and sees answers, sources and usage,
never the key nor Dify's ids for other users. Each browser user maps to one Dify
end user (``dify_user_prefix + username``), so Dify keeps each user's
conversations apart, and the page's stop button stops that user's Dify task.

Routes:

- ``GET /``: the page; ``GET /static/...``: its script and style.
- ``POST /api/login`` ``{"username", "password"}``; ``POST /api/logout``; ``GET /api/me``.
- ``POST /api/chat`` ``{"message"}`` -> ``{"turn_id"}``; then ``GET
  /api/chat/{turn_id}/events`` streams the turn as server-sent events, and ``POST
  /api/chat/{turn_id}/stop`` stops it.
- ``WS /api/ws``: send ``{"type": "ask", "message"}`` / ``{"type": "stop"}``, receive
  the same events as JSON messages.
- ``POST /api/conversation/new``: the next question starts a new Dify conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from dify_transport import DifyConfigError
from examples.proxy.turns import ChatSession, Turn
from langchain_dify import ChatDify

__all__ = ["COOKIE", "DEMO_USERS", "ProxySettings", "create_app"]

STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "proxy_session"
DEMO_USERS = {"alice": "alice-password", "bob": "bob-password"}
"""Demo logins; a real deployment checks its own identity provider instead."""
MAX_MESSAGE = 4000
SSE_KEEPALIVE = 15.0
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class ProxySettings:
    """What the proxy needs: the Dify app (key stays here) and who may log in."""

    api_key: str | None = None
    """The Dify app key; None reads ``$DIFY_API_KEY``."""
    base_url: str | None = None
    """The Dify Service API root; None reads ``$DIFY_BASE_URL``."""
    users: Mapping[str, str] = field(default_factory=lambda: dict(DEMO_USERS))
    """username -> password."""
    dify_user_prefix: str = "web-"
    """Dify end-user id = prefix + username."""
    secure_cookies: bool = False
    """Send the session cookie over HTTPS only (set True behind TLS)."""


class _Sessions:
    """Server-side sessions keyed by a random cookie value."""

    def __init__(self) -> None:
        self._by_token: dict[str, ChatSession] = {}

    def create(self, username: str, dify_user: str) -> str:
        token = secrets.token_urlsafe(32)
        self._by_token[token] = ChatSession(username=username, dify_user=dify_user)
        return token

    def get(self, conn: HTTPConnection) -> ChatSession | None:
        token = conn.cookies.get(COOKIE)
        return self._by_token.get(token) if token else None

    def drop(self, conn: HTTPConnection) -> ChatSession | None:
        token = conn.cookies.get(COOKIE)
        return self._by_token.pop(token, None) if token else None


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=_SECURITY_HEADERS)


def _same_origin(conn: HTTPConnection) -> bool:
    """True when the request's Origin (if any) is this server: no cross-site use of the cookie."""
    origin = conn.headers.get("origin")
    if origin is None:
        return bool(conn.scope["type"] == "http")  # browsers always send Origin on a WebSocket
    return origin.rstrip("/") in {f"http://{conn.headers.get('host')}", _https(conn)}


def _https(conn: HTTPConnection) -> str:
    return f"https://{conn.headers.get('host')}"


def create_app(settings: ProxySettings | None = None, *, llm: ChatDify | None = None) -> Starlette:
    """Build the proxy application.

    Args:
        settings: Dify and login settings (defaults: ``$DIFY_*`` and `DEMO_USERS`).
        llm: A ready ``ChatDify`` (tests); by default one is built from ``settings``.

    Returns:
        The ASGI application; its ``ChatDify`` is closed at shutdown.
    """
    settings = settings or ProxySettings()
    given = {"api_key": settings.api_key, "base_url": settings.base_url}
    model = llm or ChatDify.model_validate(
        {"model": "dify-proxy", **{k: v for k, v in given.items() if v}}
    )
    if model.api_key is None:
        raise DifyConfigError("Set DIFY_API_KEY (a Dify chat app's key) for the proxy.")
    secret = model.api_key.get_secret_value()
    sessions = _Sessions()

    def redact(text: str) -> str:
        return text.replace(secret, "***") if secret else text

    def start_turn(session: ChatSession, message: object) -> Turn | JSONResponse:
        if not isinstance(message, str) or not message.strip():
            return _json({"error": "Type a question first."}, 400)
        if len(message) > MAX_MESSAGE:
            return _json({"error": f"Questions are limited to {MAX_MESSAGE} characters."}, 400)
        if session.busy:
            return _json({"error": "A turn is still running: stop it or wait."}, 409)
        session.turn = Turn(model, session, message.strip(), redact=redact)
        return session.turn

    async def page(_: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=_SECURITY_HEADERS)

    async def login(request: Request) -> Response:
        if not _same_origin(request):
            return _json({"error": "Cross-site request refused."}, 403)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _json({"error": "Send JSON: {username, password}."}, 400)
        username, password = body.get("username"), body.get("password")
        expected = settings.users.get(username) if isinstance(username, str) else None
        if (
            expected is None
            or not isinstance(password, str)
            or not hmac.compare_digest(expected.encode(), password.encode())
        ):
            return _json({"error": "Unknown user or wrong password."}, 401)
        assert isinstance(username, str)
        token = sessions.create(username, settings.dify_user_prefix + username)
        response = _json({"username": username})
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookies
        )
        return response

    async def logout(request: Request) -> Response:
        session = sessions.drop(request)
        if session is not None and session.turn is not None:
            await session.turn.stop()
        response = _json({"ok": True})
        response.delete_cookie(COOKIE)
        return response

    async def me(request: Request) -> Response:
        session = sessions.get(request)
        if session is None:
            return _json({"error": "Log in first."}, 401)
        return _json({"username": session.username, "conversation_id": session.conversation_id})

    async def new_conversation(request: Request) -> Response:
        session = sessions.get(request)
        if session is None or not _same_origin(request):
            return _json({"error": "Log in first."}, 401)
        if session.busy:
            return _json({"error": "A turn is still running: stop it or wait."}, 409)
        session.conversation_id = None
        return _json({"conversation_id": None})

    async def ask(request: Request) -> Response:
        session = sessions.get(request)
        if session is None or not _same_origin(request):
            return _json({"error": "Log in first."}, 401)
        try:
            body = await request.json()
        except ValueError:
            body = None
        turn = start_turn(session, body.get("message") if isinstance(body, dict) else None)
        if isinstance(turn, Response):
            return turn
        return _json({"turn_id": turn.id})

    def own_turn(request: Request) -> tuple[ChatSession, Turn] | None:
        session = sessions.get(request)
        turn = session.turn if session is not None else None
        if session is None or turn is None or turn.id != request.path_params["turn_id"]:
            return None
        return session, turn

    async def events(request: Request) -> Response:
        found = own_turn(request)
        if found is None or not found[1].claim():
            # 204 tells EventSource not to reconnect: the turn is over or is someone else's.
            return Response(status_code=204, headers=_SECURITY_HEADERS)
        turn = found[1]

        async def stream() -> AsyncIterator[str]:
            try:
                async for event in turn.events(keepalive=SSE_KEEPALIVE):
                    if event is None:
                        yield ": keep-alive\n\n"
                    else:
                        yield f"data: {json.dumps(event)}\n\n"
            finally:
                if not turn.finished:  # the page went away mid-answer: stop paying for it
                    await turn.stop()

        headers = {**_SECURITY_HEADERS, "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    async def stop(request: Request) -> Response:
        found = own_turn(request)
        if found is None or not _same_origin(request):
            return _json({"error": "No such turn."}, 404)
        await found[1].stop()
        return _json({"stopped": True})

    async def websocket(ws: WebSocket) -> None:
        session = sessions.get(ws)
        if session is None or not _same_origin(ws):
            await ws.close(code=4401)
            return
        await ws.accept()
        forwarders: set[asyncio.Task[None]] = set()

        async def forward(turn: Turn) -> None:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                async for event in turn.events():
                    if event is not None:
                        await ws.send_json(event)

        try:
            while True:
                data = await ws.receive_json()
                kind = data.get("type") if isinstance(data, dict) else None
                if kind == "ask":
                    turn = start_turn(session, data.get("message"))
                    if isinstance(turn, Response):
                        await ws.send_json({"type": "error", "message": _error_text(turn)})
                        continue
                    turn.claim()
                    task = asyncio.create_task(forward(turn))
                    forwarders.add(task)
                    task.add_done_callback(forwarders.discard)
                elif kind == "stop" and session.turn is not None:
                    await session.turn.stop()
                else:
                    await ws.send_json({"type": "error", "message": "Unknown message."})
        except (WebSocketDisconnect, json.JSONDecodeError, RuntimeError):
            pass
        finally:
            if session.turn is not None and not session.turn.finished:
                await session.turn.stop()  # the page went away mid-answer
            for task in forwarders:
                task.cancel()
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await ws.close()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        if llm is None:
            await model.aclose()

    return Starlette(
        routes=[
            Route("/", page),
            Route("/api/login", login, methods=["POST"]),
            Route("/api/logout", logout, methods=["POST"]),
            Route("/api/me", me),
            Route("/api/conversation/new", new_conversation, methods=["POST"]),
            Route("/api/chat", ask, methods=["POST"]),
            Route("/api/chat/{turn_id}/events", events),
            Route("/api/chat/{turn_id}/stop", stop, methods=["POST"]),
            WebSocketRoute("/api/ws", websocket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )


def _error_text(response: Response) -> str:
    body = json.loads(bytes(response.body))
    return str(body.get("error", "Refused."))
