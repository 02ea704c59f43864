"""When committed caption lines are spoken by a screen reader: merged, spaced out, a backlog summed up.

Pure Python (no Qt), so the timing rules are tested on their own with a made-up clock; the Qt side
(app/gui/screen_reader.py) only asks `next_due` when to wake and `take` what to say.

Why rate-limit at all: a screen reader speaks each announcement in full, and a polite one waits
for the previous to finish. Captions commit a line every second or so in fast speech; one
announcement per line would queue speech that falls ever further behind the talk, or (with an
assertive announcement) cut every line off after a word. So lines that arrive close together are
merged into one announcement, announcements are at least `min_interval_s` apart, and a backlog
longer than a listener can take in is cut to its newest lines with a count of the ones left out
(the transcript in the main window keeps them all, for reading at the user's pace).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MIN_INTERVAL_S = 2.0  # never two announcements closer than this
SETTLE_S = 0.7  # a line is held this long in case the next follows at once: then both go together
MAX_WAIT_S = 3.0  # ...but continuous speech must not hold the first line back for ever
MAX_CHARS = 280  # about 15 s of speech at a screen reader's default rate; more is summarised


@dataclass
class AnnouncementThrottle:
    """Collects lines with `add`; `take` hands out the merged announcement once it is due.

    Times are seconds on any monotonic clock (the caller's), so tests can drive it exactly.
    """

    min_interval_s: float = MIN_INTERVAL_S
    settle_s: float = SETTLE_S
    max_wait_s: float = MAX_WAIT_S
    max_chars: int = MAX_CHARS
    _pending: list[str] = field(default_factory=list, init=False)
    _first_added: float = field(default=0.0, init=False)
    _last_added: float = field(default=0.0, init=False)
    _last_sent: float = field(default=-math.inf, init=False)  # nothing sent yet: the first may go at once

    def add(self, text: str, now: float) -> None:
        """A committed line; blank ones are ignored."""
        text = " ".join(text.split())
        if not text:
            return
        if not self._pending:
            self._first_added = now
        self._pending.append(text)
        self._last_added = now

    def next_due(self) -> float | None:
        """When `take` will next return something; None while nothing waits."""
        if not self._pending:
            return None
        settled = min(self._last_added + self.settle_s, self._first_added + self.max_wait_s)
        return max(settled, self._last_sent + self.min_interval_s)

    def take(self, now: float) -> str | None:
        """The announcement due at ``now`` (and the pending lines are then gone), or None."""
        due = self.next_due()
        if due is None or now < due:
            return None
        lines, self._pending = self._pending, []
        self._last_sent = now
        return summarise(lines, self.max_chars)

    def clear(self) -> None:
        """Forget what waits (announcements turned off, a new session); the spacing rule stays."""
        self._pending = []

    @property
    def pending(self) -> int:
        return len(self._pending)


def summarise(lines: list[str], max_chars: int = MAX_CHARS) -> str:
    """The lines as one announcement of at most about ``max_chars``: the newest lines that fit,
    after a count of those left out. A single line longer than that keeps its end."""
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        if kept and size + 1 + len(line) > max_chars:
            break
        kept.insert(0, line)
        size += len(line) + (1 if size else 0)
    text = " ".join(kept)
    if len(text) > max_chars:  # one very long line: its newest words matter most
        text = "…" + text[-(max_chars - 1):].lstrip()
    skipped = len(lines) - len(kept)
    if skipped:
        noun = "line" if skipped == 1 else "lines"
        return f"{skipped} earlier {noun} skipped, see the transcript. {text}"
    return text
