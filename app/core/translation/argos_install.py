"""Installing an Argos language pair: from a file the user picked, or downloaded on request.

An install is all or nothing: the archive is checked, unpacked into a hidden folder beside
the installed pairs, loaded once as a test, and only then renamed into place, so a corrupt
or truncated file leaves nothing behind but one sentence. The network is touched only by
:func:`fetch_index` and :func:`download`, which run only when the user asks for them.

A pair may come from a stranger, so it is treated as hostile: its language codes name the
install folder and must be plain codes (and the folder must resolve inside the packages
folder); its unpacked size and file count are capped before and while it unpacks; and a
download is https only (redirects included), capped in size, and checked against the index's
checksum when the index gives one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import ssl
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path, PurePosixPath
from typing import IO

from app.core.sizes import format_size
from app.core.translation.argos import (
    InstalledPair,
    argos_package_module,
    pair_from_folder,
    private_packages_dir,
)
from app.core.translation.base import TranslationError

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # bytes done, bytes total (0: unknown)
_BLOCK = 256 * 1024
_TIMEOUT_S = 30
_GIB = 1 << 30

# Argos's published pairs are ~100-300 MB unpacked (model.bin dominates; a handful of files, a
# few dozen with Stanza data) and download as about as much, since model weights barely
# compress. These caps leave room for larger pairs while bounding what a hostile file can
# cost: a zip bomb or an endless download stops at 1 GiB of disk instead of filling it.
_MAX_UNPACKED_BYTES = _GIB
_MAX_ENTRIES = 1000
_MAX_RATIO = 100  # real pairs unpack to ~1-2x their archive; a bomb to 1000x …
_RATIO_FLOOR = 1 << 20  # … but a tiny archive of small text files may legitimately compress well
_MAX_DOWNLOAD_BYTES = _GIB
_MAX_INDEX_BYTES = 16 << 20  # Argos's index.json is ~30 KB

# Argos's codes are ISO 639 codes ("en", "de", "zh", "pt", "nb", "eo") plus its own "zt"
# (traditional Chinese) and "pb" (Brazilian Portuguese); a region or script subtag is allowed
# for forks that use one ("pt-br", "zh_hant"). The codes name the install folder, so anything
# else (a "/", a "..") is refused before it can reach a path.
_CODE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?")


class _UnsafeDownload(OSError):
    """A link refused by policy (scheme, redirect, size, checksum): the next link is tried."""


def _check_code(code: str, label: str) -> None:
    """Refuse a language code that could be anything but a plain code in a folder name."""
    if not _CODE.fullmatch(code):
        raise TranslationError(f"{label} is not a valid language pair: {code[:40]!r} is not a language code.")


def _folder_name(pair: InstalledPair) -> str:
    return f"translate-{pair.source}_{pair.target}"


def _target_folder(folder: Path, pair: InstalledPair, label: str) -> Path:
    """Where ``pair`` is installed: a direct child of ``folder``, checked before anything is moved.

    The codes were already matched against :data:`_CODE`; resolving the path as well keeps a
    pattern mistake, or a symlink planted in the folder, from replacing a folder elsewhere.
    """
    _check_code(pair.source, label)
    _check_code(pair.target, label)
    root = folder.resolve()
    target = folder / _folder_name(pair)
    resolved = target.resolve()
    if not resolved.is_relative_to(root) or resolved.parent != root:
        raise TranslationError(f"{label} is not a valid language pair: it would install outside {folder}.")
    return target


def _check_archive(archive: zipfile.ZipFile, label: str, archive_bytes: int) -> str:
    """The archive's single top-level folder, or TranslationError for a damaged or unsafe one.

    Sizes are checked from the zip's directory before a single member is read or written, so
    a zip bomb is refused without spending the CPU or the disk to unpack it.
    """
    _check_sizes(archive.infolist(), label, archive_bytes)
    names = archive.namelist()
    tops = set()
    for name in names:
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or ".." in parts or "\\" in name:
            raise TranslationError(f"{label} is not a valid language pair: it holds an unsafe path {name!r}.")
        tops.add(parts[0])
    if len(tops) != 1:
        raise TranslationError(f"{label} is not a valid language pair: it must hold exactly one folder.")
    damaged = archive.testzip()
    if damaged is not None:
        raise TranslationError(f"{label} is damaged ({damaged} fails its checksum); download it again.")
    return tops.pop()


def _check_sizes(entries: list[zipfile.ZipInfo], label: str, archive_bytes: int) -> None:
    """Refuse too many entries, too many bytes unpacked, or a ratio only a zip bomb has."""
    if len(entries) > _MAX_ENTRIES:
        raise TranslationError(
            f"{label} is not a valid language pair: it holds {len(entries)} files, over the limit of "
            f"{_MAX_ENTRIES}."
        )
    total = sum(info.file_size for info in entries)
    if total > _MAX_UNPACKED_BYTES:
        raise TranslationError(
            f"{label} is too large: it unpacks to {format_size(total)} "
            f"(the limit is {format_size(_MAX_UNPACKED_BYTES)})."
        )
    if total > _RATIO_FLOOR and total > _MAX_RATIO * max(archive_bytes, 1):
        raise TranslationError(
            f"{label} is not a valid language pair: it unpacks to {total // max(archive_bytes, 1)}x its size."
        )


def _extract(archive: zipfile.ZipFile, staging: Path, label: str) -> None:
    """Unpack into ``staging``, counting the bytes written, so no header can make it write more.

    The declared sizes were checked already; this is the check that does not trust them.
    """
    root = staging.resolve()
    budget = _MAX_UNPACKED_BYTES
    for info in archive.infolist():
        destination = root.joinpath(*PurePosixPath(info.filename).parts)
        if not destination.resolve().is_relative_to(root):
            raise TranslationError(f"{label} is not a valid language pair: it holds an unsafe path.")
        if info.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, destination.open("wb") as out:
            budget -= _copy_capped(source, out, budget, label)


def _copy_capped(source: IO[bytes], out: IO[bytes], budget: int, label: str) -> int:
    """Copy ``source`` to ``out``; refuse once more than ``budget`` bytes would be written."""
    written = 0
    while block := source.read(_BLOCK):
        written += len(block)
        if written > budget:
            raise TranslationError(
                f"{label} is too large: it unpacks to more than {format_size(_MAX_UNPACKED_BYTES)}."
            )
        out.write(block)
    return written


def _validate(unpacked: Path, label: str) -> InstalledPair:
    """Read the metadata and load the model and tokenizer once, as a translation would."""
    try:
        pair = pair_from_folder(unpacked)
    except TranslationError as exc:
        raise TranslationError(f"{label} is not a valid language pair: {exc}.") from None
    _check_code(pair.source, label)  # before an untrusted model is loaded, not only before it is moved
    _check_code(pair.target, label)
    if not (unpacked / "model" / "model.bin").is_file():
        raise TranslationError(f"{label} is not a valid language pair: it has no model/model.bin.")
    if not any((unpacked / name).is_file() for name in ("sentencepiece.model", "bpe.model")):
        raise TranslationError(f"{label} is not a valid language pair: it has no tokenizer model.")
    import ctranslate2

    try:
        package = argos_package_module().Package(unpacked)
        package.tokenizer.encode("test")
        ctranslate2.Translator(str(unpacked / "model"), device="cpu", intra_threads=1)
    except Exception as exc:  # CTranslate2 reports a bad model.bin as IndexError, RuntimeError, …
        log.warning("test-loading %s failed", label, exc_info=True)
        raise TranslationError(f"{label} is damaged: its model does not load ({exc}).") from None
    return pair


def install_file(path: str | Path, folder: Path | None = None) -> InstalledPair:
    """Install the ``.argosmodel`` at ``path``; replaces an installed pair of the same languages."""
    path = Path(path)
    label = path.name
    folder = folder or private_packages_dir()
    if not path.is_file():
        raise TranslationError(f"No such file: {path}.")
    if not zipfile.is_zipfile(path):
        raise TranslationError(
            f"{label} is not an Argos language pair (.argosmodel): it is not a zip archive."
        )
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=folder))
    try:
        try:
            with zipfile.ZipFile(path) as archive:
                top = _check_archive(archive, label, path.stat().st_size)
                _extract(archive, staging, label)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise TranslationError(f"{label} could not be unpacked ({exc}); it may be damaged.") from None
        unpacked = staging / top
        pair = _validate(unpacked, label)
        target = _target_folder(folder, pair, label)
        _swap_into_place(unpacked, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    installed = pair_from_folder(target)
    log.info("installed the %s→%s language pair in %s", installed.source, installed.target, target)
    return installed


def _swap_into_place(unpacked: Path, target: Path) -> None:
    """Rename the new folder in; an old one is moved aside first and removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".replaced-{target.name}")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    try:
        unpacked.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class AvailablePair:
    """A pair listed in Argos's online index."""

    source: str
    target: str
    version: str
    links: tuple[str, ...]
    source_name: str = ""
    target_name: str = ""
    sha256: str = ""  # hex digest the download must match; "" when the index gives none

    @property
    def label(self) -> str:
        return f"{self.source_name or self.source} → {self.target_name or self.target} (v{self.version})"


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to another https:// address: a downgrade to http is refused."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Message, newurl: str
    ) -> urllib.request.Request | None:
        if not _is_https(newurl):
            fp.close()
            raise _UnsafeDownload(f"refused a redirect from https to {_scheme(newurl)}://")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    """An opener that speaks https only: no http, file, ftp or data handler to fall back on.

    The scheme is also checked before each request (:func:`_require_https`); this is the
    second wall. The proxy handler stays so that https_proxy works (https goes through it
    as a CONNECT tunnel, so TLS stays end to end).
    """
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        _HttpsOnlyRedirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),  # any other scheme is an error, not a silent None
    ):
        opener.add_handler(handler)
    return opener


def _scheme(url: str) -> str:
    return urllib.parse.urlsplit(url).scheme.lower() or "no scheme"


def _is_https(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower() == "https" and bool(parts.netloc)


def _require_https(url: str) -> None:
    """Refuse anything but https:// before a request is made (file:// would read local files)."""
    if not _is_https(url):
        raise _UnsafeDownload(f"only https:// addresses are used, not {_scheme(url)}://")


def fetch_index(url: str | None = None) -> list[AvailablePair]:
    """Argos's package index (network; only when the user asks to download)."""
    url = url or argos_package_module().settings.remote_package_index
    try:
        _require_https(url)
        with _opener().open(url, timeout=_TIMEOUT_S) as response:
            entries = json.loads(_read_index(response).decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise TranslationError(f"The list of language pairs could not be downloaded ({exc}).") from None
    pairs = [_pair_from_entry(entry) for entry in entries] if isinstance(entries, list) else []
    return [pair for pair in pairs if pair is not None]


def _read_index(response: IO[bytes]) -> bytes:
    """The index's bytes, refused past :data:`_MAX_INDEX_BYTES` rather than read into memory."""
    data = bytearray()
    while block := response.read(_BLOCK):
        data += block
        if len(data) > _MAX_INDEX_BYTES:
            raise ValueError(f"it is larger than {format_size(_MAX_INDEX_BYTES)}")
    return bytes(data)


def _pair_from_entry(entry: object) -> AvailablePair | None:
    """One index entry as a pair, or None for another package type or an unusable entry."""
    if not isinstance(entry, dict) or entry.get("type", "translate") != "translate":
        return None
    if not entry.get("links"):
        return None
    source = str(entry.get("from_code", "")).strip().lower()  # as pair_from_folder reads an installed pair
    target = str(entry.get("to_code", "")).strip().lower()
    if not (_CODE.fullmatch(source) and _CODE.fullmatch(target)):
        log.warning("skipping an index entry with bad language codes: %r→%r", source[:40], target[:40])
        return None
    return AvailablePair(
        source=source,
        target=target,
        version=str(entry.get("package_version", "")),
        links=tuple(str(link) for link in entry["links"]),
        source_name=str(entry.get("from_name", "")),
        target_name=str(entry.get("to_name", "")),
        # Argos's index (argospm-index, 2025) lists no checksum: only package_version,
        # argos_version, from/to code and name, links and code. Its links are https, so TLS
        # is what vouches for the file; an index (or a fork's) that adds "sha256" is checked.
        sha256=str(entry.get("sha256", "")).strip().lower(),
    )


def download(
    pair: AvailablePair, progress: Progress | None = None, folder: Path | None = None
) -> InstalledPair:
    """Download ``pair`` with progress into a temporary file, then install it as a picked file is.

    Only https links are tried (Argos's index also lists ipfs:// ones); each is capped in size
    and checked against the index's checksum when it has one.
    """
    label = f"The {pair.source[:40]}→{pair.target[:40]} pair"
    if not (_CODE.fullmatch(pair.source) and _CODE.fullmatch(pair.target)):
        raise TranslationError(f"{label} has a bad language code; it was not downloaded.")
    links = [link for link in pair.links if _is_https(link)]
    if not links:
        raise TranslationError(f"{label} has no https:// link; it was not downloaded.")
    folder = folder or private_packages_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=folder) as scratch:
        file = Path(scratch) / f"translate-{pair.source}_{pair.target}.argosmodel"
        errors = []
        for link in links:
            try:
                _fetch(link, file, progress, pair.sha256)
                break
            except OSError as exc:
                errors.append(f"{link}: {exc}")
        else:
            raise TranslationError(f"{label} could not be downloaded ({errors[-1]}).")
        return install_file(file, folder)


def _fetch(url: str, file: Path, progress: Progress | None, sha256: str = "") -> None:
    """Download ``url`` to ``file``: https only, at most the cap, matching ``sha256`` if given."""
    _require_https(url)
    digest = hashlib.sha256()
    with _opener().open(url, timeout=_TIMEOUT_S) as response, file.open("wb") as out:
        total = _content_length(response.headers.get("Content-Length"))
        if total > _MAX_DOWNLOAD_BYTES:
            limit = format_size(_MAX_DOWNLOAD_BYTES)
            raise _UnsafeDownload(f"it is {format_size(total)}, over the {limit} limit")
        done = 0
        while block := response.read(_BLOCK):
            done += len(block)
            if done > _MAX_DOWNLOAD_BYTES:  # no Content-Length, or one that lied
                raise _UnsafeDownload(f"it is over the {format_size(_MAX_DOWNLOAD_BYTES)} limit")
            out.write(block)
            digest.update(block)
            if progress:
                progress(done, total)
    if sha256 and digest.hexdigest() != sha256.strip().lower():
        raise _UnsafeDownload("its SHA-256 does not match the index's; it may be tampered with")


def _content_length(header: str | None) -> int:
    """The announced size, or 0 (unknown) when absent or malformed: the byte count still caps it."""
    try:
        return max(int(header or 0), 0)
    except ValueError:
        return 0
