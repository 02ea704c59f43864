"""The server itself: uvicorn (h11 for HTTP, websockets for `/asr`) serving the app on any loop.

Start and stop are coroutines on the caller's loop, so the CLI runs it alone and the GUI
runs it beside its own streams on the engine thread. Sayline binds the socket itself, so a
port in use is a sentence for the user rather than uvicorn's ``sys.exit``, and uvicorn's
signal handling is left out: whoever embeds the server decides when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass, field, replace

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from app.core.choices import StreamChoices
from app.core.engine import TranscriptionEngine
from app.server.access import AccessRules, is_loopback, new_token
from app.server.app import build_app
from app.server.head_timeout import protocol_with_head_timeout
from app.server.limits import ServerLimits, Slots
from app.server.session import SessionOptions

log = logging.getLogger(__name__)

STOP_GRACE_S = 1.0
WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # after this, work still running at stop is cancelled


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    pcm_input: bool = False  # False: clients send an encoded stream (WebM/Opus from browsers)
    token: str | None = None  # off loopback, one is made up when none is given
    choices: StreamChoices = field(default_factory=StreamChoices)  # every stream's and upload's defaults
    allowed_origins: tuple[str, ...] = ()  # web pages besides our own that may connect
    allowed_hosts: tuple[str, ...] = ()  # host names besides loopback and IPs we answer to
    limits: ServerLimits = field(default_factory=ServerLimits)


class ServerStartError(Exception):
    """The server could not listen; ``str()`` says why in one sentence."""


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: the CLI and the GUI own Ctrl+C and quitting."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ServerStartError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from exc
    try:
        if os.name != "nt":  # POSIX: rebind at once after a stop; Windows: it would let two bind one port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from exc
    sock.setblocking(False)
    return sock


class AsrServer:
    def __init__(self, engine: TranscriptionEngine, settings: ServerSettings | None = None) -> None:
        settings = settings or ServerSettings()
        if not is_loopback(settings.host) and not settings.token:
            settings = _with_token(settings)
        self.engine = engine
        self.settings = settings
        self.sessions = Slots(settings.limits.max_sessions)
        self.uploads = Slots(settings.limits.max_uploads)
        self._options = SessionOptions(settings.pcm_input, settings.choices, settings.limits)
        self._rules = self._access_rules(settings.port)
        self._server: _EmbeddedServer | None = None
        self._serving: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._stopping = asyncio.Event()

    @property
    def session_count(self) -> int:
        return self.sessions.in_use

    @property
    def port(self) -> int:
        if self._socket is None:
            return self.settings.port
        return self._socket.getsockname()[1]

    @property
    def token(self) -> str | None:
        return self.settings.token

    def _url(self, scheme: str, path: str) -> str:
        host = self._public_host()
        host = f"[{host}]" if ":" in host else host
        query = f"?token={self.token}" if self.token else ""
        return f"{scheme}://{host}:{self.port}/{path}{query}"

    @property
    def http_url(self) -> str:
        """The page's address, with the token when one is needed: what to open or share."""
        return self._url("http", "")

    @property
    def asr_url(self) -> str:
        return self._url("ws", "asr")

    def set_choices(self, choices: StreamChoices) -> None:
        """New defaults for the streams and uploads that start from now on (the desktop app's
        language box, say); streams already running keep theirs."""
        self.settings = replace(self.settings, choices=choices)
        self._options = replace(self._options, choices=choices)

    def _public_host(self) -> str:
        """The name in our own addresses: a wildcard bind is shown as this machine's name."""
        host = self.settings.host
        return socket.gethostname() if host in WILDCARD_HOSTS else host

    def _access_rules(self, port: int) -> AccessRules:
        s = self.settings
        hosts = (*s.allowed_hosts, self._public_host())  # the address we hand out must work
        return AccessRules.build(port, s.host, s.token, s.allowed_origins, hosts)

    async def start(self) -> None:
        self._socket = bind(self.settings.host, self.settings.port)
        self._stopping = asyncio.Event()
        self._rules = self._access_rules(self.port)
        limits = self.settings.limits
        config = uvicorn.Config(
            build_app(
                self.engine, lambda: self._options, lambda: self._rules, self.sessions, self.uploads,
                self._stopping,
            ),
            http=protocol_with_head_timeout(limits.head_timeout_s),
            ws=WebSocketsSansIOProtocol,
            ws_max_size=limits.max_frame_bytes,
            ws_per_message_deflate=False,  # inflating is work and memory a client controls
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=STOP_GRACE_S,
            h11_max_incomplete_event_size=16 * 1024,
        )
        self._server = _EmbeddedServer(config)
        self._serving = asyncio.create_task(self._server.serve(sockets=[self._socket]), name="sayline-server")
        while not self._server.started:
            if self._serving.done():
                self._serving.result()  # raises what stopped it
                raise ServerStartError("The server stopped while starting.")
            await asyncio.sleep(0.01)
        log.info("serving %s", self.asr_url.split("?")[0])

    async def stop(self) -> None:
        """Close every session (their processors clean up), cancel uploads, free the port."""
        server, serving, sock = self._server, self._serving, self._socket
        self._server = self._serving = self._socket = None
        if server is None or serving is None:
            return
        self._stopping.set()  # sessions close with 1001, uploads answer 503
        deadline = asyncio.get_running_loop().time() + STOP_GRACE_S
        while self.sessions.in_use + self.uploads.in_use and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        server.should_exit = True
        try:
            await serving
        finally:
            if sock is not None:
                sock.close()


def _with_token(settings: ServerSettings) -> ServerSettings:
    log.warning("listening on %s: clients need the token made up for this run", settings.host)
    return replace(settings, token=new_token())
