"""The server itself: websockets' asyncio server with the page, /health and `/asr`.

Start and stop are coroutines on the caller's loop, so the CLI runs it alone and the GUI
runs it beside its own streams on the engine thread.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from app.core.diarization import DiarizationOptions
from app.core.engine import TranscriptionEngine
from app.core.policy import DEFAULT_POLICY
from app.server.routes import Routes
from app.server.session import SessionOptions, serve_asr
from app.server.upload import connection_class

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    pcm_input: bool = False  # False: clients send an encoded stream (WebM/Opus from browsers)
    token: str | None = None
    policy: str = DEFAULT_POLICY  # a client may ask for another with ?policy=
    max_frame_bytes: int = MAX_FRAME_BYTES
    diarization: DiarizationOptions | None = None  # label speakers in every session
    target_language: str = ""  # translate every session into this unless it asks otherwise
    translator: str = "auto"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ServerStartError(Exception):
    """The server could not listen; ``str()`` says why in one sentence."""


class AsrServer:
    def __init__(self, engine: TranscriptionEngine, settings: ServerSettings | None = None) -> None:
        self.engine = engine
        self.settings = settings or ServerSettings()
        self._options = SessionOptions(
            pcm_input=self.settings.pcm_input,
            token=self.settings.token,
            diarization=self.settings.diarization,
            target_language=self.settings.target_language,
            translator=self.settings.translator,
            policy=self.settings.policy,
        )
        self._routes = Routes(engine.model_name, lambda: self.session_count)
        self._server: Server | None = None
        self.session_count = 0

    @property
    def port(self) -> int:
        if self._server is None:
            return self.settings.port
        return self._server.sockets[0].getsockname()[1]

    @property
    def http_url(self) -> str:
        host = self.settings.host if ":" not in self.settings.host else f"[{self.settings.host}]"
        return f"http://{host}:{self.port}/"

    @property
    def asr_url(self) -> str:
        return self.http_url.replace("http://", "ws://", 1) + "asr"

    @property
    def exposed_without_token(self) -> bool:
        return not is_loopback(self.settings.host) and not self.settings.token

    async def start(self) -> None:
        if self.exposed_without_token:
            log.warning(
                "listening on %s without --token: anyone who can reach this address can use it",
                self.settings.host,
            )
        try:
            self._server = await serve(
                self._handle,
                self.settings.host,
                self.settings.port,
                process_request=self._process_request,
                max_size=self.settings.max_frame_bytes,
                server_header=None,
                create_connection=connection_class(self.engine),
                open_timeout=None,  # the connection class times the request head itself
            )
        except OSError as exc:
            raise ServerStartError(
                f"Cannot listen on {self.settings.host}:{self.settings.port}: {exc.strerror or exc}."
            ) from exc
        log.info("serving %s", self.asr_url)

    async def stop(self) -> None:
        """Close every session (their processors clean up) and free the port."""
        if self._server is None:
            return
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        self._server = None

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        upgrade = "websocket" in request.headers.get("Upgrade", "").lower()
        return self._routes.answer(request.path, upgrade)

    async def _handle(self, ws: ServerConnection) -> None:
        self.session_count += 1
        try:
            await serve_asr(ws, self.engine, self._options)
        finally:
            self.session_count -= 1
