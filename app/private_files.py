"""Sayline's own folders and files are private: folders 0700, files 0600.

Transcripts, logs and settings record what was said near the user and how they work; with
the usual umask they would be created 0644 in 0755 folders, readable by every other account
on the machine. Everything Sayline writes into its data, config and log folders goes through
here, so the rule lives in one place. Folders the user picked (an export target, a model
folder) never come here: their permissions are the user's business.

On Windows chmod only toggles the read-only flag and new files inherit the per-user ACL of
%APPDATA%, so the mode changes are skipped there; creating folders and files works the same.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
_CHMOD = os.name == "posix"  # elsewhere chmod cannot express "owner only"


def private_dir(path: Path, top: Path | None = None) -> Path:
    """Create ``path`` as 0700 (missing parents too) and tighten it if it already exists.

    ``top`` is the root of the tree Sayline owns (its data dir): every level from ``top`` down to
    ``path`` is tightened as well, so a data dir left 0755 by an older version becomes private.
    Existing folders above ``top`` (``~/.local/share``) belong to everyone's apps and are left alone.
    """
    path = Path(path)
    created = []
    level = path
    while not level.is_dir() and level != level.parent:
        created.append(level)
        level = level.parent
    for folder in reversed(created):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)  # raises FileExistsError when a file is in the way
    owned = [path]
    if top is not None:
        owned += [parent for parent in path.parents if parent == top or top in parent.parents]
    for folder in dict.fromkeys([*created, *owned]):  # the umask may have masked mkdir's mode
        _tighten(folder, DIR_MODE)
    return path


def open_private(path: Path, mode: str = "w", **kwargs: Any) -> IO[Any]:
    """``open()`` for writing a file in Sayline's folders: a new file is created 0600 (never briefly
    wider), an existing one, such as a log from an older version, is tightened to 0600."""
    stream = open(path, mode, opener=_create_private, **kwargs)  # noqa: SIM115 (the caller closes it)
    if _CHMOD:
        try:
            if stat.S_IMODE(os.fstat(stream.fileno()).st_mode) != FILE_MODE:
                os.fchmod(stream.fileno(), FILE_MODE)
        except OSError as exc:
            log.warning("could not make %s private: %s", path, exc)
    return stream


def replace_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` whole or not at all: a crash or a full disk leaves the old file.

    The text goes to a temp file beside it (mkstemp: 0600, a name no other writer shares), is
    flushed to disk, then renamed over ``path``. Raises OSError; the temp file never stays behind.
    """
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def copy_private(source: Path, target: Path) -> None:
    """Copy a file's bytes into Sayline's folders as 0600 (``shutil.copyfile`` would give 0644)."""
    with open(source, "rb") as src, open_private(target, "wb") as out:
        shutil.copyfileobj(src, out)


def _create_private(path: str, flags: int) -> int:
    return os.open(path, flags, FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    """A folder Sayline owns but cannot chmod (another account's) still works: warn, go on."""
    if not _CHMOD:
        return
    try:
        if stat.S_IMODE(path.stat().st_mode) != mode:
            os.chmod(path, mode)
    except OSError as exc:
        log.warning("could not make %s private: %s", path, exc)
