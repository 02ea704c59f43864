"""Printing to a terminal: a stream's captions as they commit, and long work's progress."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from app.core.frontdata import FrontData, Line, format_time
from app.transcript.export import speaker_label

_GREY = "\033[90m"
_RESET = "\033[0m"
_CLEAR_LINE = "\r\033[K"


def progress_printer(label: str) -> Callable[[float, float], None]:
    """A (done, total) callback printing "label: 40%" to stderr every 10 %, so a log stays short."""
    last = [-1]

    def report(done: float, total: float) -> None:
        percent = int(100 * done / total) // 10 * 10 if total else 100  # every 10%, even past jumps
        if percent != last[0]:
            last[0] = percent
            print(f"{label}: {percent}%", file=sys.stderr, flush=True)

    return report


def describe(line: Line, speakers: bool = False) -> str:
    """One printed line; with ``speakers`` (diarization on) it names who said it."""
    if line.is_silence:
        return f"{format_time(line.start)}  (pause, {line.end - line.start:.1f} s)"
    translated = f"\n{' ' * 12}→ {line.translation}" if line.translation else ""
    who = f"{speaker_label(line.speaker)}: " if speakers and line.speaker > 0 else ""
    return f"{format_time(line.start)}  {who}{line.text}{translated}"


class LivePrinter:
    """Prints each line once it is final; on a terminal, also the growing line and live buffer.

    The last line of an update may still grow, so it is printed only once a newer line
    follows it, or when the stream ends.
    """

    def __init__(self, out: TextIO | None = None, speakers: bool = False) -> None:
        self.out = out or sys.stdout
        self.speakers = speakers
        self.interactive = self.out.isatty()
        self._printed = 0
        self._status_shown = False

    def update(self, update: FrontData) -> None:
        final_lines = update.lines[:-1]
        self._print_lines(final_lines)
        if self.interactive:
            tail = update.lines[-1].text if update.lines and not update.lines[-1].is_silence else ""
            status = f"{tail}{_GREY}{update.buffer_transcription}{_RESET}"
            lag = update.remaining_time_transcription
            if lag >= 1.0:
                status += f"  {_GREY}(lag {lag:.1f} s){_RESET}"
            self.out.write(_CLEAR_LINE + "… " + status.strip())
            self.out.flush()
            self._status_shown = True

    def finish(self, update: FrontData) -> None:
        self._print_lines(update.lines)

    def _print_lines(self, lines: tuple[Line, ...]) -> None:
        if len(lines) <= self._printed:
            return
        if self._status_shown:
            self.out.write(_CLEAR_LINE)
            self._status_shown = False
        for line in lines[self._printed:]:
            self.out.write(describe(line, self.speakers) + "\n")
        self._printed = len(lines)
        self.out.flush()
