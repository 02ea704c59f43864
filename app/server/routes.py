"""Plain HTTP on the server's port: the caption page, its assets, /health and /v1/models."""

from __future__ import annotations

import http
import mimetypes
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app import __version__
from app.paths import resources_dir

ASR_PATH = "/asr"
# One request per connection: a connection never idles between requests, so only its first
# head needs a deadline (head_timeout.py).
PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Connection": "close"}


def web_root() -> Path:
    return resources_dir() / "web"


def text_response(status: int, text: str) -> Response:
    return Response(text, status, PRIVATE_HEADERS, media_type="text/plain; charset=utf-8")


def json_response(payload: Any, status: int = http.HTTPStatus.OK) -> Response:
    return JSONResponse(payload, status, PRIVATE_HEADERS)


def error_response(status: int, message: str) -> Response:
    """OpenAI's error shape, which its clients know how to show."""
    return json_response({"error": {"message": message, "type": "invalid_request_error"}}, status)


def static_file(path: str) -> Response:
    """A file under resources/web; anything resolving outside it, or unnameable, is a 404."""
    root = web_root().resolve()
    relative = path.lstrip("/") or "index.html"
    not_found = text_response(http.HTTPStatus.NOT_FOUND, "Not found.\n")
    if "\x00" in relative:
        return not_found
    try:
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return not_found
        body = target.read_bytes()
    except (OSError, ValueError):  # names too long for the OS, and the like
        return not_found
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type.endswith("javascript"):
        content_type += "; charset=utf-8"
    return Response(body, http.HTTPStatus.OK, PRIVATE_HEADERS, media_type=content_type)


class Routes:
    """The GET routes; each is a Starlette endpoint."""

    def __init__(self, model_name: str, sessions: Callable[[], int]) -> None:
        self.model_name = model_name
        self.sessions = sessions  # the number of open /asr sessions
        self.started = time.monotonic()

    async def health(self, request: Request) -> Response:
        return json_response(
            {
                "status": "ok",
                "version": __version__,
                "model": self.model_name,
                "uptime_s": round(time.monotonic() - self.started, 1),
                "sessions": self.sessions(),
            }
        )

    async def models(self, request: Request) -> Response:
        return json_response(
            {
                "object": "list",
                "data": [{"id": self.model_name, "object": "model", "owned_by": "sayline", "created": 0}],
            }
        )

    async def asr_over_http(self, request: Request) -> Response:
        return text_response(http.HTTPStatus.UPGRADE_REQUIRED, "/asr is a WebSocket endpoint.\n")

    async def page(self, request: Request) -> Response:
        return static_file(request.path_params.get("path", ""))
