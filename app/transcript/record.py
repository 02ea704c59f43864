"""The session record: every committed line, from every source, in time order, autosaved.

Lines are append-only except the last line of each source, which may still grow, and the
lines of an utterance that was just revised, which may change or become fewer; the record
keeps one entry per (source, line index) and the autosave log appends a new revision
whenever an entry changes (and the new count when a source's lines became fewer), flushing
each write. A crash therefore loses at most
the live buffer, and reopening the log (last revision wins) restores the session.

After Stop the session may be refined (decoded again as a file run would, see app/refining.py).
The refined lines are appended as a second, marked section that ends with a completion mark,
so the live lines are never overwritten: a crash or kill mid-refine reopens with the live
transcript, and a complete refined section is what reopening prefers.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from app.core.frontdata import FrontData, Line
from app.paths import data_dir
from app.private_files import open_private, private_dir

log = logging.getLogger(__name__)

REFINED = "refined"  # the "revision" mark on the refined section's lines and on its completion mark


@dataclass(frozen=True)
class SourcedLine:
    source: str  # "" for a single source; "You" / "Others" in meeting mode
    index: int  # the line's position within its source's stream
    line: Line


def sessions_dir() -> Path:
    return data_dir() / "sessions"


def kept_audio_path(log_path: Path, source: str, suffix: str) -> Path:
    """Where a session's kept audio goes: beside its log, one file per source (meeting mode has two)."""
    name = f"{log_path.stem}-{source}" if source else log_path.stem
    return log_path.with_name(name + suffix)


Entries = dict[tuple[str, int], SourcedLine]


class SessionRecord:
    """Merges the updates of one or more sources and mirrors them to an append-only log."""

    def __init__(self, log_path: Path | None = None) -> None:
        self._entries: Entries = {}
        self._refined: Entries | None = None  # None until a refined transcript is complete
        self._buffers: dict[str, str] = {}
        self.log_path = log_path
        self._log = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open_private(log_path, "a", encoding="utf-8")  # a transcript is nobody else's

    @classmethod
    def new_autosaved(cls) -> SessionRecord:
        """A record autosaved into Sayline's private sessions folder, in a log of its own.

        Two sessions started within one second get two logs ("…_02"): a stopped session's
        refined transcript is appended to its log later, and must never land in the next one's.
        """
        folder = private_dir(sessions_dir(), top=data_dir())
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        path = folder / f"{stamp}.jsonl"
        number = 2
        while path.exists():  # names sort in start order: "_02" comes after "." and before "_10"
            path = folder / f"{stamp}_{number:02d}.jsonl"
            number += 1
        return cls(path)

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
        self._drop_lines_past(source, len(update.lines))
        return changed

    def _drop_lines_past(self, source: str, count: int) -> None:
        """A revision can fold an utterance's lines into fewer (app/core/revision.py): the lines
        past the new end are gone, and the log says so, so reopening does not bring them back."""
        if (source, count) not in self._entries:  # a source's lines are indices 0..n-1: none past the end
            return
        index = count
        while (source, index) in self._entries:
            del self._entries[(source, index)]
            index += 1
        if self._log is not None:
            self._write(self._log, [{"source": source, "lines": count}])

    def _append(self, entries: list[SourcedLine]) -> None:
        if self._log is not None and entries:
            self._write(self._log, [_as_record(entry) for entry in entries])

    @staticmethod
    def _write(stream: IO[str], records: list[dict[str, Any]]) -> None:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        stream.flush()
        os.fsync(stream.fileno())

    def add_refined(self, results: Mapping[str, FrontData]) -> None:
        """Keep each source's refined transcript beside the live one, which stays as it is.

        The log gets the refined lines, then the completion mark; it is reopened for this when the
        session was already closed (refining runs after Stop).
        """
        refined = {
            (source, index): SourcedLine(source, index, line)
            for source, update in results.items()
            for index, line in enumerate(update.lines)
        }
        if self.log_path is not None:
            records = [{"revision": REFINED, **_as_record(entry)} for entry in refined.values()]
            records.append({"revision": REFINED, "complete": True})
            if self._log is not None:
                self._write(self._log, records)
            else:
                with open_private(self.log_path, "a", encoding="utf-8") as stream:
                    self._write(stream, records)
        self._refined = refined

    @property
    def refined(self) -> bool:
        """Whether a complete refined transcript exists (it is then what ``lines`` gives)."""
        return self._refined is not None

    def lines_of(self, refined: bool = True) -> list[SourcedLine]:
        """The refined lines when asked for and there are some, else the live ones; in time order
        (a source's own order kept on ties)."""
        entries = self._refined if refined and self._refined is not None else self._entries
        return sorted(entries.values(), key=lambda e: (e.line.start, e.source, e.index))

    @property
    def lines(self) -> list[SourcedLine]:
        """Every line of every source: the refined version once there is one."""
        return self.lines_of(refined=True)

    @property
    def live_line_count(self) -> int:
        """Every source's live lines together: it falls when a revision folds lines into fewer."""
        return len(self._entries)

    @property
    def buffers(self) -> dict[str, str]:
        return dict(self._buffers)

    @property
    def live_text(self) -> str:
        """Every source's not-yet-committed words, as one string for a caption."""
        return " ".join(text.strip() for text in self._buffers.values() if text.strip())

    def as_update(self, refined: bool = True) -> FrontData:
        """The merged session as one FrontData, for the exporters: the refined version unless
        ``refined`` is False or there is none (``FrontData.refined`` says which it is)."""
        lines = tuple(entry.line for entry in self.lines_of(refined))
        return FrontData(status="active_transcription", lines=lines, refined=refined and self.refined)

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    @classmethod
    def reopen(cls, log_path: Path) -> SessionRecord:
        """Rebuild a session from its log; a torn last write (a crash mid-line) is skipped, and so
        is a refined section without its completion mark (a crash mid-refine): the live lines stay."""
        record = cls()
        refining: Entries = {}
        with log_path.open(encoding="utf-8") as lines:
            for number, raw in enumerate(lines, start=1):
                try:
                    item = json.loads(raw)
                    if item.get("revision") == REFINED and item.get("complete"):
                        record._refined, refining = refining, {}
                        continue
                    if "lines" in item:  # a revision left the source with fewer lines
                        record._drop_lines_past(item["source"], int(item["lines"]))
                        continue
                    entry = SourcedLine(item["source"], int(item["index"]), Line(**item["line"]))
                except (ValueError, KeyError, TypeError, AttributeError):
                    log.warning("%s:%d is damaged; skipped", log_path, number)
                    continue
                target = refining if item.get("revision") == REFINED else record._entries
                target[(entry.source, entry.index)] = entry
        record.log_path = log_path
        return record


def _as_record(entry: SourcedLine) -> dict[str, Any]:
    return {"source": entry.source, "index": entry.index, "line": asdict(entry.line)}


def latest_session() -> Path | None:
    folder = sessions_dir()
    logs = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    return logs[-1] if logs else None
