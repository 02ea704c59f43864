"""Plain HTTP on the server's port: the caption page, its assets, /health and /v1/models."""

from __future__ import annotations

import http
import json
import mimetypes
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Response

from app import __version__
from app.paths import resources_dir

ASR_PATH = "/asr"


def web_root() -> Path:
    return resources_dir() / "web"


def response(status: http.HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, body)


def json_response(payload: Any, status: http.HTTPStatus = http.HTTPStatus.OK) -> Response:
    return response(status, json.dumps(payload).encode(), "application/json")


def text_response(status: http.HTTPStatus, text: str) -> Response:
    return response(status, text.encode(), "text/plain; charset=utf-8")


def static_file(path: str) -> Response:
    """A file under resources/web; anything resolving outside it is a 404, never a leak."""
    root = web_root().resolve()
    relative = unquote(path).lstrip("/") or "index.html"
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return text_response(http.HTTPStatus.NOT_FOUND, "Not found.\n")
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type.endswith("javascript"):
        content_type += "; charset=utf-8"
    return response(http.HTTPStatus.OK, target.read_bytes(), content_type)


class Routes:
    """GET routes answered before (instead of) a WebSocket handshake."""

    def __init__(self, model_name: str, sessions: Any) -> None:
        self.model_name = model_name
        self.sessions = sessions  # callable returning the number of open /asr sessions
        self.started = time.monotonic()

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": __version__,
            "model": self.model_name,
            "uptime_s": round(time.monotonic() - self.started, 1),
            "sessions": self.sessions(),
        }

    def models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": self.model_name, "object": "model", "owned_by": "sayline", "created": 0}],
        }

    def answer(self, path: str, upgrade: bool) -> Response | None:
        """The HTTP response for ``path``, or None to go on with the /asr WebSocket handshake."""
        route = urlsplit(path).path
        if route == ASR_PATH:
            if upgrade:
                return None
            return text_response(http.HTTPStatus.UPGRADE_REQUIRED, "/asr is a WebSocket endpoint.\n")
        if route == "/health":
            return json_response(self.health())
        if route == "/v1/models":
            return json_response(self.models())
        return static_file(route)
