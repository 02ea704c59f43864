"""Scrollback (#22): the overlay pauses on its history, the transcript finds, the last caption fades.

Real widgets offscreen: wheel and key events sent to the overlay as Qt delivers them, updates as
the engine sends them (`FrontData`), the find bar over the real transcript model. The pure scroll
rules are checked on `Scrollback` alone first.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QListView, QVBoxLayout, QWidget

from app.core.frontdata import SILENCE_SPEAKER, FrontData, Line
from app.gui.find_bar import FindBar, count_text, find_hits
from app.gui.hit_delegate import CURRENT_BACKGROUND, HIT_BACKGROUND, utf16_index
from app.gui.overlay import CaptionOverlay
from app.gui.overlay_settings import OverlaySettingsDialog
from app.gui.scrollback import Scrollback, chip_text
from app.gui.settings import Settings
from app.gui.transcript_view import TranscriptModel
from app.transcript.record import SessionRecord, SourcedLine

# --- the pure rules --------------------------------------------------------------------------


def test_back_pauses_on_a_frozen_copy_and_forward_to_the_bottom_is_live():
    state: Scrollback[str] = Scrollback()
    history = [f"row {n}" for n in range(10)]
    state.received(10)
    assert state.back(1, history, visible=2) and state.paused
    assert state.view(2) == ["row 7", "row 8"]
    history.append("row 10")  # the live history grows; the paused view does not
    assert state.received(12) and state.new_lines == 2
    assert state.view(2) == ["row 7", "row 8"]
    assert state.back(50, (), visible=2) and state.view(2) == ["row 0", "row 1"]  # clamped at the oldest
    assert not state.back(1, (), visible=2)
    assert state.forward(3) and state.view(2) == ["row 3", "row 4"]
    assert state.forward(100) and not state.paused and state.view(2) == [] and state.new_lines == 0


def test_nothing_older_means_no_pause_and_a_rewrap_keeps_the_place():
    state: Scrollback[int] = Scrollback()
    assert not state.back(1, [1, 2], visible=2) and not state.paused
    state.back(3, list(range(20)), visible=4)
    state.rewrap(list(range(30)), visible=4)  # narrower: more rows, same distance from the bottom
    assert state.offset == 3 and state.view(4) == [23, 24, 25, 26]
    state.rewrap([1, 2, 3], visible=4)  # everything fits now: nothing to look back at
    assert not state.paused
    assert not state.forward(1) and not state.oldest(4) and not state.live()


def test_chip_words():
    assert chip_text(0) == "Back to live"
    assert chip_text(1) == "1 new line – back to live"
    assert chip_text(7) == "7 new lines – back to live"
    assert chip_text(3, clickable=False) == "3 new lines – Ctrl+Shift+End for live"


# --- the overlay -----------------------------------------------------------------------------


def talk(count: int, buffer: str = "") -> FrontData:
    """``count`` committed lines "Line N.", pauses between them, so each is a row of its own."""
    lines: list[Line] = []
    for n in range(count):
        if n:
            lines.append(Line(SILENCE_SPEAKER, "", n * 3.0 - 2.0, n * 3.0))
        lines.append(Line(1, f"Line {n}.", n * 3.0, n * 3.0 + 1.0))
    return FrontData("active_transcription", tuple(lines), buffer)


def make_overlay(qtbot, **changes) -> CaptionOverlay:
    overlay = CaptionOverlay(dataclasses.replace(Settings(overlay_lines=2), **changes))
    qtbot.addWidget(overlay)
    overlay.resize(700, overlay.height())
    overlay.show()
    qtbot.waitExposed(overlay)
    return overlay


def wheel(widget: QWidget, notches: int) -> None:
    """What one turn of a mouse wheel over the widget delivers (positive: away from the user, up)."""
    local = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        local,
        QPointF(widget.mapToGlobal(local.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_wheel_pauses_on_older_lines_and_the_chip_counts_what_keeps_arriving(qtbot):
    overlay = make_overlay(qtbot)
    overlay.show_update(talk(12, buffer="and now"))
    assert overlay.visible_lines() == ["Line 10.", "Line 11. and now"]
    assert not overlay.scrollback.chip.isVisible()

    wheel(overlay, 1)
    assert overlay.scrollback.paused
    assert overlay.visible_lines() == ["Line 9.", "Line 10."]
    assert overlay.scrollback.chip.isVisible() and overlay.scrollback.chip.text() == "Back to live"
    wheel(overlay, 3)
    assert overlay.visible_lines() == ["Line 6.", "Line 7."]

    for count in (13, 14, 15):  # captioning goes on behind the paused view
        overlay.show_update(talk(count, buffer="still talking"))
    assert overlay.visible_lines() == ["Line 6.", "Line 7."]
    assert overlay.scrollback.chip.text() == "3 new lines – back to live"

    wheel(overlay, -2)
    assert overlay.visible_lines() == ["Line 8.", "Line 9."]
    wheel(overlay, -2)  # down past the newest row kept: live again, with what arrived meanwhile
    assert not overlay.scrollback.paused and not overlay.scrollback.chip.isVisible()
    assert overlay.visible_lines() == ["Line 13.", "Line 14. still talking"]


def test_esc_end_and_the_chip_return_to_live(qtbot):
    overlay = make_overlay(qtbot)
    overlay.show_update(talk(30))
    for leave in (
        lambda: qtbot.keyClick(overlay, Qt.Key.Key_Escape),
        lambda: qtbot.keyClick(overlay, Qt.Key.Key_End),
        lambda: qtbot.mouseClick(overlay.scrollback.chip, Qt.MouseButton.LeftButton),
    ):
        qtbot.keyClick(overlay, Qt.Key.Key_PageUp)
        qtbot.keyClick(overlay, Qt.Key.Key_Up)
        assert overlay.visible_lines() == ["Line 25.", "Line 26."]
        overlay.show_update(talk(31))
        assert overlay.scrollback.chip.text() == "1 new line – back to live"
        leave()
        assert not overlay.scrollback.paused and not overlay.scrollback.chip.isVisible()
        assert overlay.visible_lines()[-1] == "Line 30."
        overlay.show_update(talk(30))
    qtbot.keyClick(overlay, Qt.Key.Key_Home)  # Home only moves a paused view
    assert not overlay.scrollback.paused


def test_click_through_leaves_the_wheel_alone_but_the_shortcut_works(qtbot):
    overlay = make_overlay(qtbot, click_through=True)
    overlay.show_update(talk(8))
    wheel(overlay, 2)
    assert not overlay.scrollback.paused  # the pointer passes through: the window below scrolls
    overlay.scrollback.page_back()  # what Ctrl+Shift+Up in the main window calls
    assert overlay.visible_lines() == ["Line 4.", "Line 5."]
    assert overlay.scrollback.chip.text() == "Ctrl+Shift+End for live"
    overlay.set_click_through(False)
    assert overlay.scrollback.chip.text() == "Back to live"


def test_a_short_history_does_not_pause(qtbot):
    overlay = make_overlay(qtbot)
    overlay.show_update(talk(2))
    wheel(overlay, 1)
    assert not overlay.scrollback.paused and not overlay.scrollback.chip.isVisible()


def test_no_timer_runs_while_idle_live_or_paused(qtbot):
    overlay = make_overlay(qtbot)
    overlay.show_update(talk(20))
    wheel(overlay, 2)
    overlay.show_update(talk(21))
    qtbot.wait(400)  # the geometry report of the initial placement passes
    assert [timer for timer in overlay.findChildren(QTimer) if timer.isActive()] == []
    assert not overlay._hold.running()


def test_hold_time_keeps_then_fades_the_last_caption(qtbot):
    overlay = make_overlay(qtbot, caption_hold_s=5)
    overlay.show_update(talk(3))
    assert overlay._hold.running() and overlay._hold.hold_ms == 5000
    overlay.show_update(talk(3))  # nothing new: the countdown is not restarted, nothing repaints
    overlay._hold.expire_now()  # five seconds later
    qtbot.waitUntil(lambda: overlay.visible_lines() == [], timeout=2000)
    assert not overlay._hold.running()

    overlay.show_update(talk(4))  # the next words start on an empty box
    assert overlay.visible_lines() == ["Line 3."]
    wheel(overlay, 1)  # what faded is still in the history
    assert overlay.visible_lines() == ["Line 1.", "Line 2."]
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    overlay.show_update(talk(1))  # a new session: its times start at zero again, and all of it shows
    assert overlay.visible_lines() == ["Line 0."]


def test_until_the_next_caption_keeps_it_and_the_dialog_sets_the_hold(qtbot):
    overlay = make_overlay(qtbot)
    overlay.show_update(talk(3))
    assert not overlay._hold.running() and overlay.visible_lines() == ["Line 1.", "Line 2."]

    dialog = OverlaySettingsDialog(Settings())
    qtbot.addWidget(dialog)
    changes: list[dict] = []
    dialog.changed.connect(changes.append)
    dialog.hold.setCurrentIndex(dialog.hold.findData(10))
    assert changes == [{"caption_hold_s": 10}]
    overlay.apply_settings(dataclasses.replace(overlay._settings, **changes[0]))
    overlay.show_update(talk(4))
    assert overlay._hold.running() and overlay._hold.hold_ms == 10_000
    odd = OverlaySettingsDialog(Settings(caption_hold_s=45))  # hand-edited: shown, not changed
    qtbot.addWidget(odd)
    assert odd.hold.currentText() == "45 s"


# --- the transcript's find bar ---------------------------------------------------------------

TEXTS = ["Hello there.", "The weather is fine.", "Say hello to Dana.", "Nothing here.", "HELLO again!"]


def rows(texts: list[str]) -> list[SourcedLine]:
    return [SourcedLine("", i, Line(1, text, i * 2.0, i * 2.0 + 1.5)) for i, text in enumerate(texts)]


def make_transcript(qtbot, texts: list[str]) -> tuple[QWidget, QListView, TranscriptModel, FindBar]:
    host = QWidget()
    layout = QVBoxLayout(host)
    model = TranscriptModel()
    model.set_rows(rows(texts))
    view = QListView()
    view.setModel(model)
    view.setWordWrap(True)
    layout.addWidget(view)
    bar = FindBar(view)
    layout.addWidget(bar)
    qtbot.addWidget(host)
    host.resize(640, 360)
    host.show()
    qtbot.waitExposed(host)
    return host, view, model, bar


def pixels(view: QListView, color: str) -> int:
    """How many pixels of the view's viewport are ``color`` (within a few levels)."""
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    bgr = raw[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[:, :, :3].astype(int)
    target = QColor(color)
    wanted = np.array([target.blue(), target.green(), target.red()])
    return int((np.abs(bgr - wanted).max(axis=2) <= 6).sum())


def test_hits_ignore_case_and_count():
    hits = find_hits(TEXTS, "hello")
    assert [(hit.row, hit.start) for hit in hits] == [(0, 0), (2, 4), (4, 0)]
    assert find_hits(TEXTS, "  ") == []
    assert len(find_hits(["a.b"], ".")) == 1  # literal text, not a pattern
    assert count_text(2, 12, "x") == "3 of 12"
    assert count_text(-1, 0, "x") == "No matches" and count_text(0, 0, "") == ""
    assert utf16_index("🎉 hello", 2) == 3


def test_find_bar_highlights_counts_and_steps_through_hits(qtbot):
    _host, view, model, bar = make_transcript(qtbot, TEXTS)
    assert not bar.isVisible() and pixels(view, HIT_BACKGROUND) == 0
    bar.open()
    qtbot.keyClicks(bar.edit, "hello")
    assert bar.count_label.text() == "1 of 3"
    assert pixels(view, CURRENT_BACKGROUND) > 20 and pixels(view, HIT_BACKGROUND) > 40

    qtbot.keyClick(bar.edit, Qt.Key.Key_Return)
    assert bar.count_label.text() == "2 of 3" and bar.current().row == 2
    qtbot.keyClick(bar.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert bar.count_label.text() == "1 of 3"
    qtbot.keyClick(bar.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # wraps to the last
    assert bar.count_label.text() == "3 of 3" and bar.current().row == 4
    bar.next()
    assert bar.count_label.text() == "1 of 3"

    model.set_rows(rows([*TEXTS, "One more hello."]))  # the transcript grows while searching
    assert bar.count_label.text() == "1 of 4" and bar.current().row == 0
    bar.edit.setText("dana")
    assert bar.count_label.text() == "1 of 1" and bar.holds_view()
    bar.edit.setText("zebra")
    assert bar.count_label.text() == "No matches" and pixels(view, HIT_BACKGROUND) == 0

    bar.edit.setText("hello")
    qtbot.keyClick(bar.edit, Qt.Key.Key_Escape)
    assert not bar.isVisible() and not bar.holds_view()
    assert pixels(view, HIT_BACKGROUND) == 0 and pixels(view, CURRENT_BACKGROUND) == 0


def test_find_bar_brings_the_hit_into_view(qtbot):
    texts = [f"Line {n} of the talk." for n in range(200)]
    texts[20] = "The budget comes up here."
    texts[150] = "And the budget again."
    _host, view, _model, bar = make_transcript(qtbot, texts)
    view.scrollToBottom()
    bar.open()
    bar.edit.setText("budget")
    assert bar.count_label.text() == "1 of 2" and bar.current().row == 20  # wrapped from the bottom
    assert view.visualRect(view.model().index(20, 0)).intersects(view.viewport().rect())
    bar.next()
    assert view.visualRect(view.model().index(150, 0)).intersects(view.viewport().rect())


def test_main_window_ctrl_f_searches_and_the_search_holds_the_view(qtbot, make_window):
    window = make_window()
    window.activateWindow()
    window.record = SessionRecord()
    lines = tuple(Line(1, f"Sentence number {n}.", n * 2.0, n * 2.0 + 1.5) for n in range(60))
    window.on_update("", FrontData("active_transcription", lines))
    qtbot.keyClick(window.transcript_view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.find_bar.isVisible() and window.find_bar.edit.hasFocus()
    qtbot.keyClicks(window.find_bar.edit, "number 3.")
    assert window.find_bar.count_label.text() == "1 of 1"
    scroll = window.transcript_view.verticalScrollBar()
    held = scroll.value()
    assert held < scroll.maximum()
    more = (*lines, Line(1, "A new line arrives.", 130.0, 131.0))
    window.on_update("", FrontData("active_transcription", more))
    assert scroll.value() == held  # not pulled to the newest line while the hit is read
    qtbot.keyClick(window.find_bar.edit, Qt.Key.Key_Escape)
    window.on_update("", FrontData("active_transcription", (*more, Line(1, "And another.", 132.0, 133.0))))
    qtbot.waitUntil(lambda: scroll.value() == scroll.maximum(), timeout=2000)

    # The overlay's keys are the window's (the overlay never has the keyboard), application-wide.
    actions = {action.shortcut().toString(): action for action in window.actions()}
    actions["Ctrl+Shift+Up"].trigger()
    assert window.overlay.scrollback.paused
    actions["Ctrl+Shift+End"].trigger()
    assert not window.overlay.scrollback.paused
