"""Keyword alerts on real widgets: the overlay marks the word, a notification goes out, the editor saves."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from app.core.frontdata import FrontData, Line
from app.gui import keyword_alerts
from app.gui.bridge import EngineBridge
from app.gui.keyword_alerts import KeywordAlerts, chime
from app.gui.keyword_editor import KeywordEditor
from app.gui.main_window import MainWindow
from app.gui.overlay import CaptionOverlay
from app.gui.overlay_highlight import HIGHLIGHT_COLOR
from app.gui.settings import Settings, load_settings

OPENING = (Line(1, "Okay, let's start.", 0.0, 1.1),)
CALLED = FrontData("active_transcription", OPENING, "Dana's numbers, can you")


class Recorder:
    """Stands in for the tray and the speaker: what would have been shown and played."""

    def __init__(self) -> None:
        self.notices: list[tuple[str, str]] = []
        self.chimes = 0

    def notify(self, title: str, message: str) -> None:
        self.notices.append((title, message))

    def play(self) -> None:
        self.chimes += 1


def make(qtbot, **settings) -> tuple[CaptionOverlay, KeywordAlerts, Recorder]:
    values = {"background_color": "#204080", "alert_words": {"Dana": True}, **settings}
    overlay = CaptionOverlay(Settings(**values))
    qtbot.addWidget(overlay)
    overlay.resize(760, overlay.height())
    recorder = Recorder()
    alerts = KeywordAlerts(Settings(**values), overlay, recorder.notify, recorder)  # type: ignore[arg-type]
    return overlay, alerts, recorder


def amber_pixels(overlay: CaptionOverlay) -> int:
    image = overlay.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    target = QColor(HIGHLIGHT_COLOR)

    def amber(pixel: QColor) -> bool:
        return pixel.alpha() > 200 and all(
            abs(a - b) <= 40 for a, b in zip(pixel.getRgb()[:3], target.getRgb()[:3], strict=True)
        )

    points = [(x, y) for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)]
    return sum(amber(image.pixelColor(x, y)) for x, y in points)


def test_a_hit_marks_the_word_on_the_overlay_and_asks_for_a_notification(qtbot):
    overlay, alerts, recorder = make(qtbot)
    overlay.show_update(CALLED)
    assert amber_pixels(overlay) == 0
    hits = alerts.feed("", CALLED)
    assert [hit.surface for hit in hits] == ["Dana's"]
    assert overlay.highlighted_words() == ["Dana's"]
    assert amber_pixels(overlay) > 50  # the box behind the word, drawn
    assert recorder.notices == [("“Dana” heard", "Okay, let's start. Dana's numbers, can you")]
    assert recorder.chimes == 0  # sound is off unless asked for
    assert alerts.feed("", CALLED) == [] and len(recorder.notices) == 1  # the same occurrence, once


def test_the_highlight_blinks_then_holds_then_goes(qtbot, monkeypatch):
    monkeypatch.setattr(keyword_alerts, "HOLD_MS", 1500)
    overlay, alerts, _ = make(qtbot)
    overlay.show_update(CALLED)
    seen: list[bool] = []
    original = overlay.set_highlight
    record = lambda finder: seen.append(finder is not None) or original(finder)  # noqa: E731
    monkeypatch.setattr(overlay, "set_highlight", record)
    alerts.feed("", CALLED)
    qtbot.waitUntil(lambda: len(seen) >= 1 + 2 * keyword_alerts.BLINKS, timeout=3000)
    assert seen[: 1 + 2 * keyword_alerts.BLINKS] == [True, False, True, False, True, False, True]
    assert overlay.highlighted_words() == ["Dana's"]  # held after blinking
    qtbot.waitUntil(lambda: overlay.highlighted_words() == [], timeout=3000)
    assert not alerts._blink.isActive() and not alerts._hold.isActive()  # idle again: no timer runs


def test_the_chime_plays_when_asked_and_a_muted_word_does_nothing(qtbot):
    overlay, alerts, recorder = make(qtbot, alert_sound=True)
    alerts.feed("", CALLED)
    assert recorder.chimes == 1
    overlay, muted, recorder = make(qtbot, alert_words={"Dana": False, "Katherine": True})
    overlay.show_update(CALLED)
    assert muted.feed("", CALLED) == []
    assert overlay.highlighted_words() == [] and recorder.notices == []


def test_switching_a_word_off_mid_session_stops_its_alerts(qtbot):
    overlay, alerts, _ = make(qtbot, alert_words={"Dana": True, "budget": True})
    alerts.feed("", CALLED)
    alerts.apply_settings(Settings(alert_words={"Dana": False, "budget": True}))
    assert overlay.highlighted_words() == []  # the muted word's highlight goes at once
    later = dataclasses.replace(CALLED, lines=(*CALLED.lines, Line(1, "Dana, the budget?", 9.0, 10.0)))
    assert [hit.keyword for hit in alerts.feed("", later)] == ["budget"]


def test_the_users_own_microphone_never_alerts(qtbot):
    overlay = CaptionOverlay(Settings())
    qtbot.addWidget(overlay)
    recorder = Recorder()
    settings = Settings(alert_words={"Dana": True})
    alerts = KeywordAlerts(settings, overlay, recorder.notify, ignored_sources={"You"})
    assert alerts.feed("You", CALLED) == []
    assert len(alerts.feed("Others", CALLED)) == 1
    assert recorder.notices[0][1].startswith("Others: ")


def test_the_chime_is_short_quiet_and_fades_out():
    samples = chime()
    assert 0.3 < len(samples) / 44100 < 0.4
    assert 0.2 < abs(samples).max() <= 0.25
    assert abs(samples[-50:]).max() < 0.02


def test_the_editor_adds_switches_and_saves(qtbot):
    editor = KeywordEditor(Settings(alert_words={"Dana": True}))
    qtbot.addWidget(editor)
    saved: list[dict] = []
    editor.saved.connect(saved.append)
    for word in ("Katherine", " dana ", "fire   alarm"):
        editor.new_word.setText(word)
        qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    editor.word_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    editor.sound_check.setChecked(True)
    editor.accept()
    assert saved == [{
        "alert_words": {"Dana": False, "Katherine": True, "fire alarm": True},
        "alert_sound": True,
        "alert_notification": True,
    }]


@pytest.fixture
def window(qtbot):
    main = MainWindow(Settings(model="tiny.en", language="en", alert_words={"Dana": True}), EngineBridge())
    main.show()
    qtbot.waitUntil(lambda: main.start_button.isEnabled(), timeout=60_000)
    yield main
    main.close()


def test_the_main_window_alerts_from_its_updates_and_saves_the_editors_words(qtbot, window, config_dir):
    from app.transcript.record import SessionRecord

    window.record = SessionRecord()
    window.on_update("", CALLED)
    assert window.overlay.highlighted_words() == ["Dana's"]
    if window.tray is None:  # offscreen: no tray, so the notice goes to the status bar
        assert window.statusBar().currentMessage().startswith("“Dana” heard: ")
    dialog = window.edit_alert_words()
    dialog.new_word.setText("Katherine")
    dialog.add_word()
    dialog.word_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    dialog.accept()
    assert window.keyword_alerts.words == ("Katherine",)
    qtbot.waitUntil(lambda: (config_dir / "settings.json").is_file(), timeout=5_000)
    saved, warning = load_settings()
    assert warning is None and saved.alert_words == {"Dana": False, "Katherine": True}
