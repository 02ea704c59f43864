"""Downloading catalogue models into the user's models folder: checked, resumable, all or nothing.

Files arrive in ``models/.partial/<name>/``, so a cut connection, a cancel or a crash costs
only what had not arrived yet: the next download continues each file where it stopped. Every
file is checked against its pinned or hub-given checksum (see :mod:`app.core.model_catalog`),
and only once all of them match is the folder renamed to ``models/<name>/``, in one step on
the same disk: an install is never half visible. The network is used only here, and only
when the user asks for a model.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from pathlib import Path

from app.core.bundled_models import bundled_model
from app.core.download_lock import held
from app.core.hub_fetch import DownloadCancelled, DownloadError, Remote, describe, fetch, matches
from app.core.model_catalog import CATALOG, CatalogFile, CatalogModel, find_model
from app.core.model_errors import ModelError, Progress
from app.core.sizes import format_size
from app.paths import data_dir
from app.private_files import private_dir

__all__ = [
    "HUB_ENV", "DownloadCancelled", "DownloadError", "download_model", "downloaded_model",
    "installed_models", "model_dir", "models_dir", "remove_model",
]

log = logging.getLogger(__name__)

HUB_ENV = "SAYLINE_MODEL_HUB"
DEFAULT_HUB = "https://huggingface.co"
DISK_MARGIN = 100 << 20  # left free beyond the download, so a full model never fills the disk
_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def models_dir() -> Path:
    return data_dir() / "models"


def model_dir(name: str) -> Path:
    """Where a downloaded model lives; the name is checked, so it can only name a folder in there."""
    if not _FOLDER_NAME.fullmatch(name):
        raise ModelError(f"{name[:40]!r} is not a model name.")
    return models_dir() / name


def _partial_dir(name: str) -> Path:
    return models_dir() / ".partial" / name


def _lock_file(name: str) -> Path:
    return models_dir() / ".partial" / f"{name}.lock"


def _complete(folder: Path, model: CatalogModel) -> bool:
    return all((folder / file.name).is_file() for file in model.files)


def installed_models() -> list[str]:
    """The catalogue models ready to load here, cheapest first: the bundled ones and complete downloads."""
    return [m.name for m in CATALOG if m.bundled or _complete(model_dir(m.name), m)]


def install_state(model: CatalogModel, installed: Collection[str]) -> str:
    """"bundled", "installed", "available", or "partly downloaded (29.1 MiB)": the last tells the
    user that Download resumes rather than starts again. ``installed`` is installed_models()."""
    if model.bundled:
        return "bundled"
    if model.name in installed:
        return "installed"
    arrived = _partial_bytes(model.name)
    return f"partly downloaded ({format_size(arrived)})" if arrived else "available"


def _partial_bytes(name: str) -> int:
    folder = _partial_dir(name)
    try:
        return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())
    except OSError:  # no partial download (or it is being removed)
        return 0


def downloaded_model(name: str) -> Path | None:
    """The folder of a downloadable catalogue model; None for any other name (bundled, a path).

    Raises ModelError for a catalogue model that is not downloaded yet, saying how to get it.
    """
    model = next((m for m in CATALOG if m.name == name and not m.bundled), None)
    if model is None:
        return None
    folder = model_dir(name)
    if not _complete(folder, model):
        raise ModelError(
            f"The {name} model is not downloaded yet: run `sayline models download {name}`, "
            "or open Models… in the app."
        )
    return folder


def download_model(
    name: str,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    hub_url: str | None = None,
    catalog: Sequence[CatalogModel] = CATALOG,
) -> Path:
    """Download ``name`` (unless it is there already) and return its folder.

    Blocking, for minutes with a large model: run it off the UI thread. ``progress`` gets
    (bytes done, bytes total) per block across all files; ``cancelled`` is polled between
    blocks and stops the download with DownloadCancelled, keeping what arrived for a resume.
    A bundled model is prepared, not downloaded.
    """
    model = find_model(name, catalog)
    if model.bundled:
        return bundled_model(model.name, progress)
    target = model_dir(model.name)
    if _complete(target, model):
        return target
    label = f"the {model.name} model"
    try:
        partial = private_dir(_partial_dir(model.name), top=data_dir())
    except OSError as exc:
        raise DownloadError(f"Could not create a folder in {models_dir()} ({exc.strerror}).") from exc
    with held(_lock_file(model.name), label):
        _check_space(model, partial, label)
        hub = (hub_url or os.environ.get(HUB_ENV) or DEFAULT_HUB).rstrip("/")
        remotes = [_expected(file, hub, model.repo, label) for file in model.files]
        total = sum(remote.size or 0 for remote in remotes)
        report = progress or _ignore
        stop = cancelled or _never
        done = 0
        for file, remote in zip(model.files, remotes, strict=True):
            path = partial / file.name

            def file_progress(have: int, before: int = done) -> None:
                report(before + have, total)

            fetch(remote, path, label, file_progress, stop)
            if not matches(path, remote, label, stop):
                path.unlink()
                log.info("%s of %s does not match its checksum; deleted", file.name, label)
                raise DownloadError(
                    f"The download of {label} was damaged ({file.name} does not match its checksum); "
                    "it was deleted, try again."
                )
            done += remote.size or 0
        _install(partial, target, label)
    log.info("installed %s in %s", label, target)
    return target


def remove_model(name: str) -> None:
    """Delete a downloaded model, and any partial download of it; bundled models stay."""
    model = find_model(name)
    if model.bundled:
        raise ModelError(f"The {name} model ships with Sayline and cannot be removed.")
    folders = [folder for folder in (model_dir(name), _partial_dir(name)) if folder.exists()]
    if not folders:
        raise ModelError(f"The {name} model is not downloaded, so there is nothing to remove.")
    try:
        with held(_lock_file(name), f"the {name} model"):  # never under a download's feet
            for folder in folders:
                doomed = folder.with_name(f".removing-{name}")
                shutil.rmtree(doomed, ignore_errors=True)
                folder.rename(doomed)  # first, so a half-deleted folder is never taken for a model
                shutil.rmtree(doomed)
        _lock_file(name).unlink(missing_ok=True)
    except OSError as exc:
        log.info("could not remove %s", name, exc_info=True)
        raise ModelError(f"Could not remove the {name} model ({exc.strerror or exc}); is it in use?") from exc
    log.info("removed the %s model", name)


def _never() -> bool:
    return False


def _ignore(done: int, total: int) -> None:
    pass


def _check_space(model: CatalogModel, partial: Path, label: str) -> None:
    """Before any network: the catalogue's size, less what already arrived, plus a margin."""
    arrived = sum(path.stat().st_size for path in partial.iterdir() if path.is_file())
    needed = max(model.size_bytes - arrived, 0) + DISK_MARGIN
    free = shutil.disk_usage(partial).free
    if free < needed:
        log.info("not downloading %s: %d bytes free, %d needed", label, free, needed)
        raise DownloadError(
            f"There is not enough disk space for {label}: it needs {format_size(needed)} free in "
            f"{models_dir()}, and {format_size(free)} is."
        )


def _expected(file: CatalogFile, hub: str, repo: str, label: str) -> Remote:
    """What the file must be: the catalogue's pin where it has one, else what the hub says.

    A file whose size or checksum nobody gave could not be checked, so it is refused.
    """
    remote = describe(f"{hub}/{repo}/resolve/main/{file.name}", label)
    if file.sha256:
        remote = replace(remote, size=file.size, sha256=file.sha256, git_sha1=None)
    if remote.size is None or not (remote.sha256 or remote.git_sha1):
        raise DownloadError(
            f"{hub} did not say what {file.name} of {label} should be (its size and checksum), so it "
            "could not be checked; nothing was installed."
        )
    return remote


def _install(partial: Path, target: Path, label: str) -> None:
    """Rename the checked folder into place; an incomplete leftover there is moved aside first."""
    leftover = partial.with_name(f".old-{target.name}")
    try:
        if target.exists():
            shutil.rmtree(leftover, ignore_errors=True)
            target.rename(leftover)
        partial.rename(target)
    except OSError as exc:
        log.info("could not install %s", label, exc_info=True)
        raise DownloadError(f"Could not install {label} in {target} ({exc.strerror or exc}).") from exc
    shutil.rmtree(leftover, ignore_errors=True)
