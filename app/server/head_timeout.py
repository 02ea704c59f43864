"""uvicorn's HTTP protocol with a deadline for the first request head (slowloris).

uvicorn times idle keep-alive connections but not a new connection that sends its head a
byte at a time; each such connection would hold a socket and a file descriptor forever.
Every Sayline response closes its connection, so the first head is the only one to time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)


def protocol_with_head_timeout(seconds: float) -> type[H11Protocol]:
    class HeadTimedH11Protocol(H11Protocol):
        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            asyncio.get_running_loop().call_later(seconds, self._head_deadline, transport)

        def _head_deadline(self, transport: asyncio.Transport) -> None:
            if transport.is_closing() or transport.get_protocol() is not self:
                return  # closed already, or upgraded to a WebSocket
            if getattr(self, "cycle", None) is None:
                log.info("closing a connection that sent no request head within %.0f s", seconds)
                transport.close()

    return HeadTimedH11Protocol
