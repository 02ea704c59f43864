"""The ASGI application: routes, and the gate every request passes before any of them runs."""

from __future__ import annotations

import asyncio
import http
import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from app.core.engine import TranscriptionEngine
from app.server.access import AccessRules
from app.server.limits import ServerLimits, Slots, discard_body
from app.server.routes import ASR_PATH, Routes, error_response, text_response
from app.server.session import SessionOptions, serve_asr
from app.server.upload import UPLOAD_PATH, answer_upload

log = logging.getLogger(__name__)

def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class AccessGate:
    """Refuses a foreign Host or Origin with 403 before routing, so a hostile page costs nothing.

    For a WebSocket the refusal is the handshake's HTTP answer: the connection never opens.
    """

    def __init__(self, app: ASGIApp, rules: Callable[[], AccessRules], limits: ServerLimits) -> None:
        self.app = app
        self.rules = rules
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rules = self.rules()
        host = _header(scope, b"host")
        origin = _header(scope, b"origin")
        if not rules.host_allowed(host):
            reason = "This server answers only to its own address (Host refused)."
        elif not rules.origin_allowed(origin, host):
            reason = f"Pages from {origin} may not use this server; see README, Security."
        else:
            await self.app(scope, receive, send)
            return
        log.info("refused %s %s: %s (Host %s, Origin %s)", scope["type"], scope["path"], reason, host, origin)
        response = text_response(http.HTTPStatus.FORBIDDEN, reason + "\n")
        if scope["type"] == "websocket":
            await WebSocket(scope, receive, send).send_denial_response(response)
        else:
            await discard_body(receive, self.limits, asyncio.get_running_loop().time)
            await response(scope, receive, send)


async def refuse(request: Request, limits: ServerLimits, response: Response) -> Response:
    """``response``, once the request's body is read: see :func:`discard_body`."""
    await discard_body(request.receive, limits, asyncio.get_running_loop().time)
    return response


def needs_token(rules: AccessRules, request: Request) -> Response | None:
    """A 401 for a request without the token, or None to go on."""
    if rules.token_ok(request.query_params.get("token"), request.headers.get("authorization")):
        return None
    message = "An access token is required: Authorization: Bearer …"
    response = error_response(http.HTTPStatus.UNAUTHORIZED, message)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def build_app(
    engine: TranscriptionEngine,
    options: Callable[[], SessionOptions],
    rules: Callable[[], AccessRules],
    sessions: Slots,
    uploads: Slots,
    stopping: asyncio.Event,
) -> ASGIApp:
    routes = Routes(engine.model_name, lambda: sessions.in_use)

    def guarded(endpoint: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def checked(request: Request) -> Response:
            refusal = needs_token(rules(), request)
            if refusal is not None:
                return await refuse(request, options().limits, refusal)
            return await endpoint(request)

        return checked

    async def upload(request: Request) -> Response:
        if not uploads.try_acquire():
            busy = f"The server is busy: it takes {uploads.capacity} uploads at once. Try again later."
            response = error_response(http.HTTPStatus.SERVICE_UNAVAILABLE, busy)
            response.headers["Retry-After"] = "5"
            return await refuse(request, options().limits, response)
        try:
            now = options()  # the choices of the moment: the desktop app may change them while serving
            return await answer_upload(engine, request, now.choices, now.limits, stopping)
        finally:
            uploads.release()

    async def asr(ws: WebSocket) -> None:
        token_ok = rules().token_ok(ws.query_params.get("token"), ws.headers.get("authorization"))
        await serve_asr(ws, engine, options(), sessions, token_ok, stopping)

    app = Starlette(
        routes=[
            Route("/health", guarded(routes.health), methods=["GET"]),
            Route("/v1/models", guarded(routes.models), methods=["GET"]),
            Route(UPLOAD_PATH, guarded(upload), methods=["POST"]),
            Route(ASR_PATH, routes.asr_over_http, methods=["GET"]),
            WebSocketRoute(ASR_PATH, asr),
            Route("/{path:path}", routes.page, methods=["GET", "HEAD"]),
        ]
    )
    return AccessGate(app, rules, options().limits)
