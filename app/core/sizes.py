"""Byte counts as a person reads them, in every sentence that names a download or an archive."""

from __future__ import annotations


def format_size(size: int) -> str:
    """ "1.42 GiB", "74.5 MiB", "64 KiB": three figures are enough to compare and to wait for."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"
