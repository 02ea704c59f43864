"""The session record: every committed line, from every source, in time order, autosaved.

Lines are append-only except the last line of each source, which may still grow; the
record keeps one entry per (source, line index) and the autosave log appends a new
revision whenever an entry changes, flushing each write. A crash therefore loses at most
the live buffer, and reopening the log (last revision wins) restores the session.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from app.core.frontdata import FrontData, Line
from app.core.models import data_dir
from app.private_files import open_private, private_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourcedLine:
    source: str  # "" for a single source; "You" / "Others" in meeting mode
    index: int  # the line's position within its source's stream
    line: Line


def sessions_dir() -> Path:
    return data_dir() / "sessions"


class SessionRecord:
    """Merges the updates of one or more sources and mirrors them to an append-only log."""

    def __init__(self, log_path: Path | None = None) -> None:
        self._entries: dict[tuple[str, int], SourcedLine] = {}
        self._buffers: dict[str, str] = {}
        self.log_path = log_path
        self._log = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open_private(log_path, "a", encoding="utf-8")  # a transcript is nobody else's

    @classmethod
    def new_autosaved(cls) -> SessionRecord:
        """A record autosaved into Sayline's private sessions folder."""
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        return cls(private_dir(sessions_dir(), top=data_dir()) / f"{stamp}.jsonl")

    def apply(self, source: str, update: FrontData) -> list[SourcedLine]:
        """Take one source's update; return the entries that are new or changed."""
        changed = []
        for index, line in enumerate(update.lines):
            key = (source, index)
            current = self._entries.get(key)
            if current is None or current.line != line:
                entry = SourcedLine(source, index, line)
                self._entries[key] = entry
                changed.append(entry)
        self._buffers[source] = update.buffer_transcription
        self._append(changed)
        return changed

    def _append(self, entries: list[SourcedLine]) -> None:
        if self._log is None or not entries:
            return
        for entry in entries:
            record = {"source": entry.source, "index": entry.index, "line": asdict(entry.line)}
            self._log.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._log.flush()
        os.fsync(self._log.fileno())

    @property
    def lines(self) -> list[SourcedLine]:
        """Every line of every source, ordered by start time (a source's own order kept on ties)."""
        return sorted(self._entries.values(), key=lambda e: (e.line.start, e.source, e.index))

    @property
    def buffers(self) -> dict[str, str]:
        return dict(self._buffers)

    @property
    def live_text(self) -> str:
        """Every source's not-yet-committed words, as one string for a caption."""
        return " ".join(text.strip() for text in self._buffers.values() if text.strip())

    def as_update(self) -> FrontData:
        """The merged session as one FrontData, for the exporters."""
        return FrontData(status="active_transcription", lines=tuple(e.line for e in self.lines))

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    @classmethod
    def reopen(cls, log_path: Path) -> SessionRecord:
        """Rebuild a session from its log; a torn last write (a crash mid-line) is skipped."""
        record = cls()
        with log_path.open(encoding="utf-8") as lines:
            for number, raw in enumerate(lines, start=1):
                try:
                    item = json.loads(raw)
                    entry = SourcedLine(item["source"], int(item["index"]), Line(**item["line"]))
                except (ValueError, KeyError, TypeError):
                    log.warning("%s:%d is damaged; skipped", log_path, number)
                    continue
                record._entries[(entry.source, entry.index)] = entry
        record.log_path = log_path
        return record


def latest_session() -> Path | None:
    folder = sessions_dir()
    logs = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    return logs[-1] if logs else None
