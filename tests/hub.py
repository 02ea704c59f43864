"""A loopback stand-in for huggingface.co, so download tests never leave the machine.

It answers as the hub does (see app/core/hub_fetch.py): ``/<repo>/resolve/main/<file>`` serves
a small file itself, with its Git blob SHA-1 as ETag, and redirects ``model.bin`` (kept in LFS
on the hub) to ``/cdn/<sha256>``, the redirect carrying X-Linked-Etag and X-Linked-Size. Both
honour ``Range: bytes=N-``. Switches make it fail the ways a real download can.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from app.core.models import resolve_model


@functools.cache
def tiny_en_files() -> dict[str, bytes]:
    """The packaged tiny.en model's files: real weights for the fake hub to serve."""
    folder = resolve_model("tiny.en")
    return {path.name: path.read_bytes() for path in sorted(Path(folder).iterdir()) if path.is_file()}


def closed_port_url() -> str:
    """An address where nothing listens: a connection there is refused, as when offline."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Seen:
    """One request as the hub received it."""

    method: str
    path: str
    file: str  # the file it is about ("" when none)
    range: str | None
    user_agent: str


class FakeHub:
    """``repos`` maps a repository id to its files' bytes; use it as a context manager."""

    def __init__(self, repos: dict[str, dict[str, bytes]]) -> None:
        self.repos = repos
        self.requests: list[Seen] = []
        self.cut_after: dict[str, int] = {}  # file → every response of it stops after this many bytes
        self.corrupt: set[str] = set()  # files served with one byte changed
        self.status: dict[str, int] = {}  # files answered with this HTTP error instead
        self.extra: dict[str, int] = {}  # file → bytes of junk sent after it (a runaway server)
        self.hide_checksums = False  # no ETag or X-Linked-Etag: nothing to check a file against
        self.moved: dict[str, str] = {}  # repository renamed: old id → new id (a relative redirect)
        self.lfs = {"model.bin"}
        self.blobs = {  # what the CDN serves, by SHA-256
            sha256(data): (name, data)
            for files in repos.values()
            for name, data in files.items()
        }
        self._server = _Server(self)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-hub", daemon=True
        )

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def gets(self, file: str) -> list[Seen]:
        """The GET requests for ``file``'s bytes, in order (the CDN's for a file in LFS)."""
        return [seen for seen in self.requests if seen.method == "GET" and seen.file == file]



@functools.cache  # the same few files, served again and again
def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hub: FakeHub) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hub = hub


class _Handler(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def log_message(self, format: str, *args: object) -> None:
        pass

    server: _Server

    @property
    def hub(self) -> FakeHub:
        return self.server.hub

    def _answer(self, body: bool) -> None:
        path = urlsplit(self.path).path
        cdn = re.fullmatch(r"/cdn/([0-9a-f]{64})", path)
        resolve = re.fullmatch(r"/(.+)/resolve/main/([^/]+)", path)
        blob = self.hub.blobs.get(cdn.group(1)) if cdn else None
        file = blob[0] if blob else resolve.group(2) if resolve else ""
        self.hub.requests.append(
            Seen(self.command, path, file, self.headers.get("Range"), self.headers.get("User-Agent", ""))
        )
        if file in self.hub.status:
            self._empty(self.hub.status[file])
        elif blob:
            self._send_file(*blob, body=body, etag=None)
        elif resolve:
            self._resolve(resolve.group(1), file, body)
        else:
            self._empty(404)

    def _resolve(self, repo: str, file: str, body: bool) -> None:
        if repo in self.hub.moved:
            self._empty(307, {"Location": f"/{self.hub.moved[repo]}/resolve/main/{file}"})
            return
        data = self.hub.repos.get(repo, {}).get(file)
        if data is None:
            self._empty(404)
        elif file in self.hub.lfs:
            digest = sha256(data)
            headers = {"Location": f"{self.hub.url}/cdn/{digest}", "X-Linked-Size": str(len(data))}
            if not self.hub.hide_checksums:
                headers |= {"X-Linked-Etag": f'"{digest}"', "ETag": f'"{digest}"'}
            self._empty(302, headers)
        else:
            etag = None if self.hub.hide_checksums else git_blob_sha1(data)
            self._send_file(file, data, body=body, etag=etag)

    def _send_file(self, file: str, data: bytes, body: bool, etag: str | None) -> None:
        if file in self.hub.corrupt:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]
        data += b"\0" * self.hub.extra.get(file, 0)
        start = 0
        wanted = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if wanted:
            start = int(wanted.group(1))
            if start >= len(data):
                self._empty(416, {"Content-Range": f"bytes */{len(data)}"})
                return
        self.send_response(206 if wanted else 200)
        if wanted:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        if etag:
            self.send_header("ETag", f'"{etag}"')
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if body:
            end = start + self.hub.cut_after[file] if file in self.hub.cut_after else len(data)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client stopped: a cancel
                self.wfile.write(data[start:end])

    def _empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()
