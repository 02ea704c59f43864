"""Who may talk to the server: Host, Origin and token rules as pure functions (no sockets).

The server listens on the user's own machine while the same user browses the web, so every
page they open can reach it. Three checks keep those pages out, as Jupyter does:

- **Host**: a DNS-rebinding page reaches us under its own name (``Host: evil.example``).
  Only loopback names, IP literals (a rebinding needs a name), the bound host and names the
  user added are answered.
- **Origin**: a browser always says which page opened a WebSocket or sent a POST. Only our
  own page (same origin as the Host it used, or a loopback origin on our port), origins the
  user added, and no Origin at all (native clients: Python, curl, WhisperLiveKit's CLI) pass.
- **Token**: where one is set, every route but the page takes it, as ``?token=`` or as
  ``Authorization: Bearer`` (what OpenAI clients send), compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
TOKEN_ENV = "SAYLINE_TOKEN"
MAX_TOKEN_FILE_BYTES = 4096


class TokenError(Exception):
    """The token given cannot be used; ``str()`` says why in one sentence."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def read_token(given: str | None, token_file: str | None, from_env: str | None) -> str | None:
    """The token from ``--token``, else ``--token-file``, else the environment; None for none.

    A file or the environment keeps the token out of ``ps``, where any local user can read
    a command line.
    """
    if given is None and token_file:
        try:
            with open(token_file, "rb") as file:
                data = file.read(MAX_TOKEN_FILE_BYTES + 1)
        except OSError as exc:
            raise TokenError(f"Cannot read the token file {token_file}: {exc.strerror or exc}.") from None
        if len(data) > MAX_TOKEN_FILE_BYTES:
            raise TokenError(f"The token file {token_file} is too long to be a token.")
        given = data.decode("utf-8", "replace").strip()
        if not given:
            raise TokenError(f"The token file {token_file} is empty.")
    if given is None:
        given = from_env
    if given is None:
        return None
    token = given.strip()
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        raise TokenError("The token must be printable text without spaces.")
    return token


def split_host(host_header: str) -> tuple[str, int | None]:
    """``example:8000`` / ``[::1]:8000`` / ``name`` into (lower-case name, port or None)."""
    try:
        parts = urlsplit("//" + host_header.strip())
        name, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number, an unclosed bracket
        return "", None
    return (name or "").rstrip(".").lower(), port


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def normalise_origin(origin: str) -> str:
    """``HTTP://Example:80/`` and ``http://example:80`` are the same origin."""
    return origin.strip().rstrip("/").lower()


@dataclass(frozen=True)
class AccessRules:
    """What a request must show; built once per server from its settings and bound port."""

    port: int
    bound_host: str = "127.0.0.1"
    token: str | None = None
    allowed_origins: frozenset[str] = field(default_factory=frozenset)
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls, port: int, bound_host: str, token: str | None, origins: Iterable[str], hosts: Iterable[str]
    ) -> AccessRules:
        return cls(
            port=port,
            bound_host=bound_host.lower(),
            token=token or None,
            allowed_origins=frozenset(normalise_origin(o) for o in origins if o.strip()),
            allowed_hosts=frozenset(h.strip().lower() for h in hosts if h.strip()),
        )

    def host_allowed(self, host_header: str | None) -> bool:
        if not host_header:
            return False
        name, _port = split_host(host_header)
        if not name:
            return False
        return (
            name in LOOPBACK_NAMES
            or _is_ip_literal(name)
            or name == self.bound_host
            or name in self.allowed_hosts
        )

    def origin_allowed(self, origin: str | None, host_header: str | None) -> bool:
        """No Origin is a native client; a browser's must be our own page or one the user added."""
        if origin is None:
            return True
        origin = normalise_origin(origin)
        if origin in self.allowed_origins or "*" in self.allowed_origins:
            return True
        own = {f"http://{name}:{self.port}" for name in ("127.0.0.1", "localhost", "[::1]")}
        if host_header and self.host_allowed(host_header):
            own.add(normalise_origin(f"http://{host_header}"))
        return origin in own

    def token_ok(self, query_token: str | None, authorization: str | None) -> bool:
        if self.token is None:
            return True
        given = query_token or ""
        scheme, _, credentials = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            given = credentials.strip()
        return hmac.compare_digest(given.encode(), self.token.encode())
