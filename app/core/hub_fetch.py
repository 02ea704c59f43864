"""One file from a Hugging Face-shaped hub: what the hub says it is, then its bytes, resumably.

``{hub}/{repo}/resolve/main/{file}`` answers in one of two ways. A small file kept in Git comes
back directly, and its ``ETag`` is the Git blob SHA-1 of its bytes. A large file kept in Git
LFS (every ``model.bin``) is a redirect to a CDN, and only that redirect carries
``X-Linked-Etag`` (the file's SHA-256) and ``X-Linked-Size``. So :func:`describe` asks with
``HEAD`` and does not follow a redirect off the hub, as ``huggingface_hub``'s
``get_hf_file_metadata`` does; a relative redirect, which a renamed repository answers
with, is followed. :func:`fetch` then gets the bytes from where the file lives,
continuing a partial file with ``Range: bytes=N-`` (a ``206`` continues it, a ``200`` starts
it over) and reconnecting by itself when a connection is cut mid-file.

Addresses must be https (redirects included): the checksums the hub sends are only as good
as the connection they come over. Plain http is allowed to a loopback address only, for a
local mirror and for the tests.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import ipaddress
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO
from urllib.parse import urljoin, urlsplit

from app import __version__
from app.core.model_errors import ModelError
from app.private_files import open_private

log = logging.getLogger(__name__)

TIMEOUT_S = 30  # to connect, and between two reads of a transfer
BLOCK = 1 << 20
RETRIES = 4  # reconnections in a row that bring no new byte before a download gives up
RETRY_WAIT_S = 1.0  # doubled after each reconnection that brought nothing
_MAX_HOPS = 5
UNSIZED_LIMIT = 64 << 20  # a file the hub gives no size for is a small Git file (tokenizer.json: 2 MiB)
_USER_AGENT = f"Sayline/{__version__} (model download)"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_GIT_SHA1 = re.compile(r"[0-9a-f]{40}")

Cancelled = Callable[[], bool]


class DownloadError(ModelError):
    """A download failed; ``str()`` is one sentence. What arrived is kept for a resume."""


class DownloadCancelled(DownloadError):
    """The user cancelled; the partial file is kept, so the next download resumes it."""


@dataclass(frozen=True)
class Remote:
    """A file as the hub describes it, before any of its bytes are fetched."""

    url: str  # where the bytes are: the CDN for a file in LFS
    size: int | None
    sha256: str | None  # X-Linked-Etag of a file in LFS
    git_sha1: str | None  # ETag of a file kept in Git


class _Cut(Exception):
    """The connection failed or closed before the whole file arrived: reconnect and resume."""


def describe(url: str, label: str) -> Remote:
    """What the hub says the file at ``url`` is; ``label`` ("the small model") is for sentences."""
    what = f"{url.rsplit('/', 1)[-1]} of {label}"
    for _ in range(_MAX_HOPS):
        _check_url(url)
        request = urllib.request.Request(url, method="HEAD", headers=_headers())
        try:
            with _opener(follow=False).open(request, timeout=TIMEOUT_S) as response:
                return _remote(url, response.headers, redirected=False)
        except urllib.error.HTTPError as exc:
            exc.close()
            location = exc.headers.get("Location") if 300 <= exc.code < 400 else None
            if not location:
                raise _http_error(exc.code, url, what) from exc
            if urlsplit(location).netloc:  # to the CDN: these headers describe the file
                return _remote(location, exc.headers, redirected=True)
            url = urljoin(url, location)  # a relative one: the repository was renamed
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            log.info("could not reach %s: %s", url, exc)
            raise DownloadError(
                f"Could not reach {_host(url)} to download {what} ({_reason(exc)}): check the internet "
                "connection, then try again."
            ) from exc
    raise DownloadError(f"{_host(url)} redirected the request for {what} too many times.")


def fetch(
    remote: Remote, path: Path, label: str, progress: Callable[[int], None], cancelled: Cancelled
) -> None:
    """Bring ``path`` up to ``remote.size`` bytes, continuing from what it holds.

    ``progress`` gets the file's length after each block. A cut connection is resumed at once
    while it keeps bringing bytes; after :data:`RETRIES` reconnections that bring nothing, it
    gives up with the partial file kept.
    """
    failures = 0
    while True:
        have = _length(path)
        if remote.size is not None and have >= remote.size:
            return
        try:
            _get(remote, path, have, label, progress, cancelled)
            return
        except _Cut as cut:
            failures = 0 if _length(path) > have else failures + 1
            log.warning("the download of %s was cut at %d bytes (%s)", path.name, _length(path), cut)
            if failures > RETRIES:
                raise DownloadError(
                    f"The connection was lost while downloading {label}; run the download again to resume it."
                ) from cut
            if failures:
                time.sleep(RETRY_WAIT_S * 2 ** (failures - 1))


def matches(path: Path, remote: Remote, label: str, cancelled: Cancelled) -> bool:
    """Whether ``path`` has the size and checksum the hub (or the catalogue) gave for it."""
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        return False
    if remote.sha256:
        digest = hashlib.sha256()
    elif remote.git_sha1:
        digest = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)  # how Git names a blob
    else:
        return False
    with path.open("rb") as source:
        while block := source.read(BLOCK):
            _check_cancel(cancelled, label)
            digest.update(block)
    return digest.hexdigest() == (remote.sha256 or remote.git_sha1)


def _get(
    remote: Remote, path: Path, have: int, label: str, progress: Callable[[int], None], cancelled: Cancelled
) -> None:
    what = f"{path.name} of {label}"
    _check_url(remote.url)
    headers = _headers() | ({"Range": f"bytes={have}-"} if have else {})
    try:
        request = urllib.request.Request(remote.url, headers=headers)
        response = _opener(follow=True).open(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and have:  # nothing past what is here: let the checksum judge the file
            return
        raise _http_error(exc.code, remote.url, what) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Cut(_reason(exc)) from exc
    with response:
        if response.status != 206 or _range_start(response.headers.get("Content-Range")) != have:
            have = 0  # the whole file came back: start over
        length = _int(response.headers.get("Content-Length"))
        end = have + length if length is not None else remote.size
        try:
            with open_private(path, "ab" if have else "wb") as out:
                limit = remote.size if remote.size is not None else UNSIZED_LIMIT
                have = _copy(response, out, have, limit, progress, lambda: _check_cancel(cancelled, label))
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            log.info("could not write %s", path, exc_info=True)
            if exc.errno == errno.ENOSPC:
                raise DownloadError(
                    f"The disk filled up while downloading {what} into {path.parent}; free some space, "
                    "then run the download again to resume it."
                ) from exc
            raise DownloadError(f"Could not write {what} in {path.parent} ({exc.strerror or exc}).") from exc
    if end is not None and have < end:
        raise _Cut(f"the connection closed after {have} of {end} bytes")


def _copy(
    response: IO[bytes], out: IO[bytes], have: int, limit: int, progress: Callable[[int], None],
    check: Callable[[], None],
) -> int:
    """Append the response to ``out``; a read that fails is a cut to resume, a write that fails is not.

    A server that sends more than the file's size (or, unsized, more than any small file) is
    stopped there, so no mirror can fill the disk; the checksum then refuses what arrived.
    """
    while True:
        check()
        try:
            block = response.read(BLOCK)
        except (OSError, http.client.HTTPException) as exc:
            raise _Cut(_reason(exc)) from exc
        if not block:
            return have
        out.write(block[: max(0, limit - have)])
        have = min(have + len(block), limit)
        progress(have)
        if have >= limit:
            return have


def _check_cancel(cancelled: Cancelled, label: str) -> None:
    if cancelled():
        log.info("the download of %s was cancelled", label)
        raise DownloadCancelled(
            f"The download of {label} was cancelled; run it again to resume where it stopped."
        )


def _length(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _remote(url: str, headers: Message, redirected: bool) -> Remote:
    """A redirect's own ETag and length describe the redirect, so only X-Linked-* count there."""
    digest = _etag(headers.get("X-Linked-Etag")) or ("" if redirected else _etag(headers.get("ETag")))
    size = headers.get("X-Linked-Size") or (None if redirected else headers.get("Content-Length"))
    return Remote(
        url=url,
        size=_int(size),
        sha256=digest if _SHA256.fullmatch(digest) else None,
        git_sha1=digest if _GIT_SHA1.fullmatch(digest) else None,
    )


def _etag(value: str | None) -> str:
    """``W/"abc"`` and ``"abc"`` are both ``abc``."""
    value = (value or "").strip()
    return value.removeprefix("W/").strip('"').lower()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _range_start(content_range: str | None) -> int | None:
    match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", (content_range or "").strip())
    return int(match.group(1)) if match else None


def _http_error(code: int, url: str, what: str) -> DownloadError:
    host = _host(url)
    log.info("%s answered HTTP %d for %s", host, code, url.split("?")[0])
    if code == 404:
        return DownloadError(f"{host} has no {what} (HTTP 404 not found); the model may have moved.")
    if code in (401, 403):
        return DownloadError(
            f"{host} refused to send {what} (HTTP {code}): the repository may be gated or private."
        )
    if code == 429:
        return DownloadError(f"{host} is limiting downloads (HTTP 429); try again in a few minutes.")
    if code >= 500:
        return DownloadError(f"{host} had an error sending {what} (HTTP {code}); try again later.")
    return DownloadError(f"{host} answered HTTP {code} for {what}.")


def _reason(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    loopback = parts.scheme == "http" and _is_loopback(parts.hostname)
    if parts.netloc and (parts.scheme == "https" or loopback):
        return
    raise DownloadError(f"Sayline downloads models over https only, and {url.split('?')[0]} is not https.")


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def _headers() -> dict[str, str]:
    # identity: the sizes and checksums are those of the stored bytes, not of a compressed body
    return {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}


class _StopAtRedirects(urllib.request.HTTPRedirectHandler):
    """The redirect then arrives as an HTTPError, whose headers :func:`describe` reads."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to an address :func:`_check_url` accepts (no https → http)."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Message, newurl: str
    ) -> urllib.request.Request | None:
        _check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(follow: bool) -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_CheckedRedirects() if follow else _StopAtRedirects())
