"""Installing an Argos language pair: from a file the user picked, or downloaded on request.

An install is all or nothing: the archive is checked, unpacked into a hidden folder beside
the installed pairs, loaded once as a test, and only then renamed into place, so a corrupt
or truncated file leaves nothing behind but one sentence. The network is touched only by
:func:`fetch_index` and :func:`download`, which run only when the user asks for them.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.core.translation.argos import (
    InstalledPair,
    argos_package_module,
    packages_dir,
    pair_from_folder,
)
from app.core.translation.base import TranslationError

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # bytes done, bytes total (0: unknown)
_BLOCK = 256 * 1024
_TIMEOUT_S = 30


def _folder_name(pair: InstalledPair) -> str:
    return f"translate-{pair.source}_{pair.target}"


def _check_archive(archive: zipfile.ZipFile, label: str) -> str:
    """The archive's single top-level folder, or TranslationError for a damaged or unsafe one."""
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


def _validate(unpacked: Path, label: str) -> InstalledPair:
    """Read the metadata and load the model and tokenizer once, as a translation would."""
    try:
        pair = pair_from_folder(unpacked)
    except TranslationError as exc:
        raise TranslationError(f"{label} is not a valid language pair: {exc}.") from None
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
    folder = folder or packages_dir()
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
                top = _check_archive(archive, label)
                archive.extractall(staging)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise TranslationError(f"{label} could not be unpacked ({exc}); it may be damaged.") from None
        unpacked = staging / top
        pair = _validate(unpacked, label)
        target = folder / _folder_name(pair)
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

    @property
    def label(self) -> str:
        return f"{self.source_name or self.source} → {self.target_name or self.target} (v{self.version})"


def fetch_index(url: str | None = None) -> list[AvailablePair]:
    """Argos's package index (network; only when the user asks to download)."""
    url = url or argos_package_module().settings.remote_package_index
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            entries = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise TranslationError(f"The list of language pairs could not be downloaded ({exc}).") from None
    pairs = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("type", "translate") != "translate":
            continue
        if not entry.get("links"):
            continue
        pairs.append(
            AvailablePair(
                source=str(entry.get("from_code", "")),
                target=str(entry.get("to_code", "")),
                version=str(entry.get("package_version", "")),
                links=tuple(str(link) for link in entry["links"]),
                source_name=str(entry.get("from_name", "")),
                target_name=str(entry.get("to_name", "")),
            )
        )
    return [pair for pair in pairs if pair.source and pair.target]


def download(
    pair: AvailablePair, progress: Progress | None = None, folder: Path | None = None
) -> InstalledPair:
    """Download ``pair`` with progress into a temporary file, then install it as a picked file is."""
    folder = folder or packages_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=folder) as scratch:
        file = Path(scratch) / f"translate-{pair.source}_{pair.target}.argosmodel"
        errors = []
        for link in pair.links:
            try:
                _fetch(link, file, progress)
                break
            except OSError as exc:
                errors.append(f"{link}: {exc}")
        else:
            raise TranslationError(
                f"The {pair.source}→{pair.target} pair could not be downloaded ({errors[-1]})."
            )
        return install_file(file, folder)


def _fetch(url: str, file: Path, progress: Progress | None) -> None:
    with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response, file.open("wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while block := response.read(_BLOCK):
            out.write(block)
            done += len(block)
            if progress:
                progress(done, total)
