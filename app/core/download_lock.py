"""One download of a model at a time, across the app's windows and ``sayline models`` commands.

Two downloads of the same model would append to the same partial files and interleave their
bytes; the checksum would refuse the result, but only after both had fetched gigabytes. An
advisory lock on a file beside the partial folder stops the second one at once. The operating
system drops the lock when its holder exits, so a crash never leaves a model locked.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from app.core.hub_fetch import DownloadError
from app.private_files import open_private

if os.name == "nt":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True


@contextlib.contextmanager
def held(lock_file: Path, label: str) -> Iterator[None]:
    """Hold ``lock_file`` while the block runs; DownloadError at once if someone else holds it."""
    lock_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open_private(lock_file, "a+b") as handle:
        if not _try_lock(handle.fileno()):
            raise DownloadError(
                f"{label[0].upper()}{label[1:]} is being downloaded already, in another Sayline window "
                "or by `sayline models download`; wait for that download to finish."
            )
        yield  # closing the file releases the lock
