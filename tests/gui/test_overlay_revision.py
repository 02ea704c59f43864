"""A revised line in the overlay: the swap touches only the rows that hold the revised words."""

from __future__ import annotations

import dataclasses

from app.core.frontdata import FrontData, Line
from app.gui.overlay import CaptionOverlay
from app.gui.settings import Settings

EARLIER = "Welcome to the directory. Please enter the first three letters of your party's first name."
LIVE = "No Directory Entries Manture Search."
REVISED = "No directory entries match your search."


def test_rows_before_a_revised_line_keep_their_words_and_breaks(qtbot):
    overlay = CaptionOverlay(dataclasses.replace(Settings(), overlay_lines=4))
    qtbot.addWidget(overlay)
    overlay.resize(520, overlay.height())
    earlier = Line(1, EARLIER, 0.0, 6.0)
    overlay.show_update(FrontData(lines=(earlier, Line(1, LIVE, 7.0, 9.0))))
    before = overlay.visible_lines()
    overlay.show_update(FrontData(lines=(earlier, Line(1, REVISED, 7.0, 9.0, revised=True))))
    after = overlay.visible_lines()

    first_touched = next(i for i, row in enumerate(before) if "No " in row)
    untouched = before[:first_touched]
    assert untouched, before  # the earlier sentence wraps over rows of its own
    # Same number of rows here, so nothing scrolls (rows are anchored at the bottom).
    assert len(after) == len(before)
    assert after[:first_touched] == untouched, (before, after)
    assert " ".join(after).endswith(REVISED)
    assert LIVE not in " ".join(after)
