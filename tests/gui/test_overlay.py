"""The caption overlay: window kind, what it draws (checked on rendered pixels), moving and remembering."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from app.core.frontdata import FrontData, Line
from app.gui.overlay import LAG_COLOR, CaptionLine, CaptionOverlay, screen_key, speaker_color
from app.gui.settings import Settings

YELLOW = "#ffff00"
BOX = "#204080"
WIDTH = 700


def make_overlay(qtbot, **changes) -> CaptionOverlay:
    settings = dataclasses.replace(Settings(text_color=YELLOW, background_color=BOX), **changes)
    overlay = CaptionOverlay(settings)
    qtbot.addWidget(overlay)
    overlay.resize(WIDTH, overlay.height())
    return overlay


def update(*texts: str, buffer: str = "", speakers: tuple[int, ...] = (), lag: float = 0.0) -> FrontData:
    who = speakers or (1,) * len(texts)
    lines = tuple(Line(who[i], text, i * 2.0, i * 2.0 + 1.5) for i, text in enumerate(texts))
    return FrontData(lines=lines, buffer_transcription=buffer, remaining_time_transcription=lag)


def render(overlay: CaptionOverlay) -> QImage:
    return overlay.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)


def count(image: QImage, test, region: tuple[int, int, int, int] | None = None) -> int:
    x0, y0, x1, y1 = region or (0, 0, image.width(), image.height())
    return sum(1 for y in range(y0, y1, 2) for x in range(x0, x1, 2) if test(image.pixelColor(x, y)))


def near(color: str | QColor, tolerance: int = 24):
    target = QColor(color)

    def test(pixel: QColor) -> bool:
        return pixel.alpha() > 240 and all(
            abs(a - b) <= tolerance
            for a, b in zip(pixel.getRgb()[:3], target.getRgb()[:3], strict=True)
        )

    return test


def test_window_is_a_frameless_translucent_always_on_top_tool(qtbot):
    overlay = make_overlay(qtbot)
    flags = overlay.windowFlags()
    for flag in (Qt.WindowType.FramelessWindowHint, Qt.WindowType.WindowStaysOnTopHint):
        assert flags & flag
    assert flags & Qt.WindowType.Tool == Qt.WindowType.Tool  # not in the taskbar
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    assert not flags & Qt.WindowType.WindowTransparentForInput


def test_committed_text_is_drawn_in_the_text_colour_and_the_buffer_greyed(qtbot):
    overlay = make_overlay(qtbot)
    overlay.show_update(update("Hello there"))
    committed = render(overlay)
    assert count(committed, near(YELLOW)) > 50

    overlay.show_update(update(buffer="Hello there"))
    live = render(overlay)
    assert count(live, near(YELLOW)) == 0
    # Greyed: the text colour pulled toward the (black) outline, same glyphs.
    grey = QColor.fromRgbF(0.58, 0.58, 0.0)
    assert count(live, near(grey, 30)) > 50

    overlay.show_update(update("Hello there", buffer="and welcome"))
    assert overlay.visible_lines() == ["Hello there and welcome"]
    both = render(overlay)
    assert count(both, near(YELLOW)) > 50 and count(both, near(grey, 30)) > 50


def test_backing_box_has_the_background_colour_and_opacity(qtbot):
    overlay = make_overlay(qtbot, background_opacity=0.5)
    overlay.show_update(update("Legible on anything"))
    image = render(overlay)
    pixel = image.pixelColor(4, overlay.height() // 2)  # inside the side padding: box only
    assert abs(pixel.alpha() - 128) <= 2
    assert near(BOX, 3)(QColor(pixel.red(), pixel.green(), pixel.blue()))


def test_outline_surrounds_the_glyphs_only_when_enabled(qtbot):
    opaque_black = near("#000000", 10)
    overlay = make_overlay(qtbot, background_opacity=0.0)
    overlay.show_update(update("Outlined words"))
    assert count(render(overlay), opaque_black) > 50

    overlay.apply_settings(dataclasses.replace(overlay._settings, outline=False))
    plain = render(overlay)
    assert count(plain, opaque_black) == 0
    assert count(plain, near(YELLOW)) > 50


def test_only_the_last_n_rows_are_shown_newest_at_the_bottom(qtbot):
    overlay = make_overlay(qtbot, overlay_lines=2)
    words = [f"Sentence number {n} is here." for n in range(12)]
    overlay.show_update(update(*words, buffer="still talking"))
    rows = overlay.visible_lines()
    assert len(rows) == 2
    assert rows[-1].endswith("still talking")
    assert "number 0 " not in " ".join(rows)

    overlay.apply_settings(dataclasses.replace(overlay._settings, overlay_lines=4))
    rows4 = overlay.visible_lines()
    assert len(rows4) == 4 and rows4[-2:] == rows
    assert all(overlay.fontMetrics().horizontalAdvance(row) < WIDTH for row in rows4)  # wrapped, not cut


def test_speaker_names_appear_once_two_speakers_spoke(qtbot):
    overlay = make_overlay(qtbot, overlay_lines=4, speaker_names={"1": "Dana"})
    overlay.show_update(update("Hi.", speakers=(1,)))
    assert overlay.visible_lines() == ["Hi."]

    overlay.show_update(update("Hi.", "Hello.", "Fine?", speakers=(1, 2, 2)))
    assert overlay.visible_lines() == ["Dana: Hi.", "Speaker 2: Hello. Fine?"]
    image = render(overlay)
    assert count(image, near(speaker_color(1), 12)) > 20 and count(image, near(speaker_color(2), 12)) > 20

    overlay.set_label_for({2: "Others"})
    assert overlay.visible_lines()[-1].startswith("Others: ")


def test_silence_starts_a_new_row(qtbot):
    overlay = make_overlay(qtbot, overlay_lines=3)
    lines = (Line(1, "Before the pause.", 0, 1), Line(-2, "", 1, 4), Line(1, "After it.", 4, 5))
    overlay.show_update(FrontData(lines=lines, buffer_transcription="more"))
    assert overlay.visible_lines() == ["Before the pause.", "After it. more"]


def test_ready_made_caption_lines_are_accepted(qtbot):
    overlay = make_overlay(qtbot, overlay_lines=3)
    overlay.show_update(
        [
            CaptionLine("You", "#6cb6ff", "Can you hear me?"),
            ("Others", "#f0a56b", "Yes."),
            ("", "", "Go on", True),
        ],
        lag_s=4.0,
    )
    assert overlay.visible_lines() == ["You: Can you hear me?", "Others: Yes. Go on"]
    assert overlay.lag_indicator() == "lag 4.0 s"


def test_wrapping_survives_characters_outside_the_bmp(qtbot):
    overlay = make_overlay(qtbot, overlay_lines=4)
    overlay.show_update(update("Party time 🎉🎉 " * 12))
    rows = overlay.visible_lines()
    assert len(rows) == 4 and all(rows)
    assert "🎉🎉" in " ".join(rows)  # no surrogate pair split across rows


def test_lag_indicator_only_above_two_seconds(qtbot):
    overlay = make_overlay(qtbot)
    corner = (WIDTH - 160, 0, WIDTH, 22)
    overlay.show_update(update("Keeping up", lag=2.0))
    assert overlay.lag_indicator() == ""
    assert count(render(overlay), near(LAG_COLOR, 30), corner) == 0

    overlay.show_update(update("Falling behind", lag=3.2))
    assert overlay.lag_indicator() == "lag 3.2 s"
    assert count(render(overlay), near(LAG_COLOR, 30), corner) > 5


def test_an_unchanged_update_is_not_laid_out_again(qtbot):
    overlay = make_overlay(qtbot)
    overlay.show_update(update("Same"))
    overlay.visible_lines()
    rows = overlay._rows
    overlay.show_update(update("Same", lag=0.5))
    assert overlay._rows is rows  # nothing visible changed: no layout, no repaint


def test_click_through_sets_the_flag_keeps_it_shown_and_blocks_dragging(qtbot):
    overlay = make_overlay(qtbot)
    overlay.show()
    qtbot.waitExposed(overlay)
    with qtbot.waitSignal(overlay.click_through_changed) as signal:
        overlay.set_click_through(True)
    assert signal.args == [True]
    assert overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert overlay.isVisible() and overlay.click_through()
    start = overlay.pos()
    drag(overlay, QPoint(30, 20), QPoint(130, 60))
    assert overlay.pos() == start

    overlay.set_click_through(False)
    assert not overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput


def drag(widget, start: QPoint, end: QPoint) -> None:
    """Press, move in steps, release: what a user's drag delivers (the widget follows the pointer)."""
    origin = widget.mapToGlobal(QPoint(0, 0))
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, point: QPoint, button, buttons) -> None:
        pointer = origin + point
        local = pointer - widget.mapToGlobal(QPoint(0, 0))
        event = QMouseEvent(
            kind, QPointF(local), QPointF(pointer), button, buttons, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(widget, event)

    send(QMouseEvent.Type.MouseButtonPress, start, left, left)
    for step in range(1, 5):
        send(QMouseEvent.Type.MouseMove, start + (end - start) * (step / 4), none, left)
    send(QMouseEvent.Type.MouseButtonRelease, end, left, none)


def test_dragging_moves_the_window_and_reports_the_place_once(qtbot):
    overlay = make_overlay(qtbot)
    overlay.move(50, 300)
    overlay.show()
    qtbot.waitExposed(overlay)
    qtbot.wait(350)  # let the report of the initial placement pass
    reports = []
    overlay.geometry_changed.connect(lambda key, rect: reports.append((key, rect)))

    drag(overlay, QPoint(30, 20), QPoint(130, 60))

    assert overlay.pos() == QPoint(150, 340)
    qtbot.waitUntil(lambda: len(reports) == 1, timeout=2000)
    qtbot.wait(400)
    assert reports == [(screen_key(QGuiApplication.primaryScreen()), [150, 340, WIDTH, overlay.height()])]


def test_restore_uses_the_most_recent_place_on_a_connected_screen(qtbot):
    overlay = make_overlay(qtbot)
    screen = screen_key(QGuiApplication.primaryScreen())
    settings = Settings().with_overlay_geometry(screen, [40, 500, 600, 150])
    settings = settings.with_overlay_geometry("HDMI-9 3840x2160+9000+0", [9100, 10, 600, 150])
    overlay.restore_geometry(settings)
    assert overlay.geometry().getRect() == (40, 500, 600, 150)


def test_restore_pulls_an_off_screen_place_back_onto_the_screen(qtbot):
    overlay = make_overlay(qtbot)
    area = QGuiApplication.primaryScreen().availableGeometry()
    screen = screen_key(QGuiApplication.primaryScreen())
    overlay.restore_geometry(Settings().with_overlay_geometry(screen, [area.right() - 100, -50, 600, 150]))
    assert area.contains(overlay.geometry())
    assert overlay.width() == 600


def test_restore_defaults_to_bottom_centre_of_the_primary_screen(qtbot):
    overlay = make_overlay(qtbot)
    overlay.restore_geometry(Settings(overlay_geometry={"gone 1x1+0+0": [0, 0, 300, 100]}))
    area = QGuiApplication.primaryScreen().availableGeometry()
    geometry = overlay.geometry()
    # As wide as the default line length needs (see test_accessibility), within 90% of the screen.
    assert geometry.width() == min(overlay.default_width(), round(area.width() * 0.9))
    assert abs(geometry.center().x() - area.center().x()) <= 1
    assert area.center().y() < geometry.top() and geometry.bottom() < area.bottom()


def test_bigger_font_or_more_lines_grow_the_box_upward(qtbot):
    overlay = make_overlay(qtbot)
    overlay.move(100, 400)
    bottom = overlay.geometry().bottom()
    height = overlay.height()
    overlay.apply_settings(dataclasses.replace(overlay._settings, overlay_lines=4, font_size=40))
    assert overlay.height() > 2 * height
    assert overlay.geometry().bottom() == bottom
    assert overlay.minimumHeight() == overlay.height()


@pytest.mark.parametrize("lines", [1, 4])
def test_no_timer_runs_while_idle(qtbot, lines):
    overlay = make_overlay(qtbot, overlay_lines=lines)
    overlay.show()
    qtbot.waitExposed(overlay)
    overlay.show_update(update("Idle now", lag=5.0))
    qtbot.wait(400)
    assert not overlay._geometry_timer.isActive()


def test_resize_grip_sits_bottom_right_and_shows_on_hover(qtbot):
    overlay = make_overlay(qtbot)
    overlay.show()
    qtbot.waitExposed(overlay)
    assert overlay._grip.geometry().bottomRight() == overlay.rect().bottomRight()
    assert not overlay._grip.isVisible()
    overlay._set_hover(True)
    assert overlay._grip.isVisible()
    overlay.set_click_through(True)  # no grip, and no hover, while clicks fall through
    assert not overlay._grip.isVisible()
