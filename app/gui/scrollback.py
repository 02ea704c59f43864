"""Where the caption overlay's view sits in its history: live, or paused some rows back.

Pure Python on purpose (no Qt): the rules — what pauses, what returns to live, what a new line
does to a paused view — are the feature, and they are tested here without a window or painting.
The overlay (app/gui/overlay_scrollback.py) feeds it rows and asks which ones to draw.

Why a paused view is a frozen copy of the rows rather than an offset into the live ones: captions
keep arriving while the reader reads, and an offset counted from the newest row would slide the
text up under their eyes at every new line. A copy cannot move; it is dropped on the way back to
live, so nothing old is kept once the reader is done with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

Row = TypeVar("Row")


def chip_text(new_lines: int, clickable: bool = True) -> str:
    """The chip's words while paused: how much was missed, and the way back.

    In click-through mode the chip cannot be clicked (the pointer passes through the overlay),
    so it names the keyboard shortcut instead.
    """
    back = "back to live" if clickable else "Ctrl+Shift+End for live"
    if new_lines <= 0:
        return back[:1].upper() + back[1:]
    noun = "line" if new_lines == 1 else "lines"
    return f"{new_lines} new {noun} – {back}"


class Scrollback(Generic[Row]):
    """Live or paused; when paused, a frozen history of rows and how far up the view sits.

    ``offset`` counts rows between the history's newest row and the bottom row of the view: 0 is
    live, so a paused view always has ``offset >= 1``. ``new_lines`` counts committed caption
    lines that arrived since the pause (the chip's number), from the totals `received` reports.
    """

    def __init__(self) -> None:
        self._rows: tuple[Row, ...] = ()
        self.offset = 0
        self.new_lines = 0
        self._committed_at_pause = 0
        self._committed_now = 0

    @property
    def paused(self) -> bool:
        return self.offset > 0

    def received(self, committed_lines: int) -> bool:
        """The stream now holds ``committed_lines`` lines; True when the chip's count changed.

        Called on every update, live or paused, so a pause knows where "new" starts. A revision
        that folds lines into fewer can lower the total; the count never goes below zero.
        """
        self._committed_now = committed_lines
        if not self.paused:
            return False
        new = max(0, committed_lines - self._committed_at_pause)
        changed = new != self.new_lines
        self.new_lines = new
        return changed

    def back(self, rows: int, history: Sequence[Row], visible: int) -> bool:
        """Scroll ``rows`` toward older captions; True when the view moved.

        From live, ``history`` (every committed row, oldest first, as drawn now) is frozen and the
        view pauses; when paused it is ignored, since the frozen copy is what the reader sees. A
        history that fits in the view has nothing older to show, and the view stays live.
        """
        if rows <= 0:
            return False
        if not self.paused:
            if len(history) <= visible:
                return False
            self._rows = tuple(history)
            self._committed_at_pause = self._committed_now
            self.new_lines = 0
        before = self.offset
        self.offset = min(self.offset + rows, self._max_offset(visible))
        return self.offset != before

    def forward(self, rows: int) -> bool:
        """Scroll ``rows`` toward newer captions; reaching the bottom returns to live."""
        if not self.paused or rows <= 0:
            return False
        if self.offset - rows <= 0:
            self.live()
        else:
            self.offset -= rows
        return True

    def oldest(self, visible: int) -> bool:
        """Jump to the oldest row kept (Home); only moves a paused view."""
        if not self.paused:
            return False
        before = self.offset
        self.offset = self._max_offset(visible)
        return self.offset != before

    def live(self) -> bool:
        """Back to live, dropping the frozen rows; True when it was paused."""
        was_paused = self.paused
        self._rows = ()
        self.offset = 0
        self.new_lines = 0
        return was_paused

    def rewrap(self, history: Sequence[Row], visible: int) -> None:
        """The same history wrapped anew (the overlay was resized or restyled) while paused.

        The offset is kept where it can be, so the reader stays near the rows they were reading.
        """
        if not self.paused:
            return
        self._rows = tuple(history)
        self.offset = min(self.offset, self._max_offset(visible))
        if self.offset <= 0:
            self.live()

    def view(self, visible: int) -> list[Row]:
        """The rows to draw while paused, oldest first; [] when live (the overlay draws live rows)."""
        if not self.paused:
            return []
        end = len(self._rows) - self.offset
        return list(self._rows[max(0, end - visible) : end])

    def _max_offset(self, visible: int) -> int:
        """As far up as the view can go: its top row on the oldest row kept."""
        return max(0, len(self._rows) - max(1, visible))
