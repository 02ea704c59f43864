"""What one client can make the server hold or compute, and the small counters that enforce it.

Every number here bounds something a stranger could otherwise grow without end: sessions and
uploads at once (each costs decode time on the one inference thread the user's own captions
use), request bodies (bytes, and how long a slow sender may hold a connection), and the audio
a stream or upload may decode to (a few KB of FLAC can hold hours of silence).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServerLimits:
    max_sessions: int = 4  # /asr streams at once; the next gets close 1013
    max_uploads: int = 2  # POST transcriptions at once; the next gets 503
    max_upload_bytes: int = 25 * MIB  # OpenAI's own cap for the same endpoint
    max_upload_audio_s: float = 2 * 3600.0  # what one upload may decode to
    max_session_audio_s: float = 8 * 3600.0  # what one /asr stream may decode to: a working day
    max_frame_bytes: int = MIB  # one WebSocket message (0.5 MB is 16 s of PCM16)
    session_idle_s: float = 60.0  # an /asr client that sends nothing this long is closed
    head_timeout_s: float = 10.0  # a connection must finish its request head within this
    body_deadline_s: float = 120.0  # a whole request body, however it trickles in
    body_idle_s: float = 10.0  # the longest pause between two pieces of a body
    body_min_rate: float = 32 * 1024.0  # bytes/s a body must average once past its first 5 s
    body_grace_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("max_sessions", "max_uploads", "max_upload_bytes", "max_frame_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


class Slots:
    """A count of things running at once that refuses, rather than queues, the one too many.

    Queuing would let a flood of clients pile up waiting work and memory; a refusal costs
    nothing and tells the client at once to come back later.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.in_use = 0

    def try_acquire(self) -> bool:
        if self.in_use >= self.capacity:
            return False
        self.in_use += 1
        return True

    def release(self) -> None:
        self.in_use = max(0, self.in_use - 1)


class BodyError(Exception):
    """A request body broke a limit; ``status`` is the HTTP answer, ``str()`` the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


Receive = Callable[[], Awaitable[dict[str, Any]]]


class BodyReader:
    """An ASGI request body as chunks, held to a size, an idle gap, a minimum rate and a deadline.

    A server's own timeouts are per read, so one byte every few seconds would hold a
    connection (and an upload slot) forever; here the whole body has a deadline too.
    """

    def __init__(self, receive: Receive, limits: ServerLimits, clock: Callable[[], float]) -> None:
        self._receive = receive
        self._limits = limits
        self._clock = clock
        self.received = 0

    def _check_rate(self, started: float) -> None:
        elapsed = self._clock() - started
        if elapsed > self._limits.body_deadline_s:
            raise BodyError(408, f"The upload took longer than {self._limits.body_deadline_s:.0f} s.")
        if elapsed > self._limits.body_grace_s and self.received < self._limits.body_min_rate * elapsed:
            raise BodyError(408, "The upload is arriving too slowly.")

    async def chunks(self) -> AsyncIterator[bytes]:
        started = self._clock()
        while True:
            remaining = self._limits.body_deadline_s - (self._clock() - started)
            try:
                async with asyncio.timeout(max(0.0, min(self._limits.body_idle_s, remaining))):
                    message = await self._receive()
            except TimeoutError:
                raise BodyError(408, "The upload stalled.") from None
            if message["type"] == "http.disconnect":
                raise BodyError(400, "The client went away during the upload.")
            chunk = message.get("body", b"")
            self.received += len(chunk)
            if self.received > self._limits.max_upload_bytes:
                raise BodyError(413, f"Uploads are limited to {self._limits.max_upload_bytes // MIB} MiB.")
            self._check_rate(started)
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return


async def discard_body(receive: Receive, limits: ServerLimits, clock: Callable[[], float]) -> None:
    """Read and drop a request body (within the limits) before refusing the request.

    Closing a connection with unread bytes makes the kernel reset it, and most clients then
    show "connection reset" instead of the refusal's reason.
    """
    with contextlib.suppress(BodyError):
        async for _ in BodyReader(receive, limits, clock).chunks():
            pass
