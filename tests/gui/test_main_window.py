"""The main window offscreen: the bridge's ordering, settings persistence, overlay style, errors."""

from __future__ import annotations

import pytest

from app.core.frontdata import FrontData, Line
from app.gui.bridge import EngineBridge
from app.gui.main_window import MainWindow
from app.gui.settings import Settings, load_settings


@pytest.fixture
def window(qtbot):
    main = MainWindow(Settings(model="tiny.en", language="en", source="microphone"), EngineBridge())
    main.show()
    qtbot.waitUntil(lambda: main.start_button.isEnabled(), timeout=60_000)
    yield main
    main.close()


def test_bridge_delivers_engine_thread_updates_in_order(qtbot):
    bridge = EngineBridge()
    received: list[float] = []
    bridge.update.connect(lambda _label, update: received.append(update.remaining_time_transcription))

    async def emit_from_engine_thread():
        for i in range(300):
            bridge._callbacks.on_update("", FrontData(remaining_time_transcription=float(i)))

    bridge.host.submit(emit_from_engine_thread())
    qtbot.waitUntil(lambda: len(received) == 300, timeout=10_000)
    assert received == [float(i) for i in range(300)]
    bridge.shutdown()


def test_choices_are_saved_and_survive_a_restart(qtbot, window, config_dir):
    window.language_combo.setCurrentIndex(window.language_combo.findData("de"))
    window.source_combo.setCurrentIndex(window.source_combo.findData("both"))
    other = next(p for p in ("alignatt", "localagreement") if p != window.settings.policy)
    window.policy_combo.setCurrentIndex(window.policy_combo.findData(other))
    qtbot.waitUntil(lambda: (config_dir / "settings.json").is_file(), timeout=5_000)
    qtbot.wait(700)
    saved, warning = load_settings()
    assert warning is None
    assert (saved.language, saved.source, saved.policy) == ("de", "both", other)


def test_overlay_style_applies_live_and_persists(qtbot, window, config_dir):
    window.edit_overlay_style()
    from app.gui.overlay_settings import OverlaySettingsDialog

    dialog = window.findChild(OverlaySettingsDialog)
    dialog.lines.setValue(4)
    dialog.size.setValue(40)
    dialog.opacity.setValue(80)
    assert window.settings.overlay_lines == 4 and window.settings.background_opacity == 0.8
    from app.transcript.record import SessionRecord

    window.record = SessionRecord()
    turns = tuple(Line(1 + i % 2, f"Turn {i}.", i, i + 0.5) for i in range(6))
    window.on_update("", FrontData("active_transcription", turns))
    assert len(window.overlay.visible_lines()) == 4  # the overlay now shows four rows, not two
    qtbot.wait(800)
    saved, _ = load_settings()
    assert (saved.overlay_lines, saved.font_size, saved.background_opacity) == (4, 40, 0.8)


def test_updates_fill_the_transcript_and_the_overlay(qtbot, window):
    from app.transcript.record import SessionRecord

    window.record = SessionRecord()
    window.on_update("", FrontData("active_transcription", (Line(1, "Hello there.", 0.5, 1.2),), " how"))
    window.on_update("", FrontData("active_transcription", (Line(1, "Hello there.", 0.5, 1.2),
                                                            Line(1, "How are you?", 1.5, 2.4))))
    assert window.transcript.rowCount() == 2
    assert "How are you?" in window.transcript.plain_text()
    assert " ".join(window.overlay.visible_lines()).endswith("How are you?")


def test_an_unreadable_model_is_reported_in_one_sentence(qtbot, window):
    window.model_combo.addItem("broken", "/no/such/model")
    window.model_combo.setCurrentIndex(window.model_combo.count() - 1)
    qtbot.waitUntil(lambda: window.error_banner.isVisible(), timeout=20_000)
    assert window.error_banner.text().startswith("No model called")
    assert "\n" not in window.error_banner.text()


def test_the_window_reopens_where_it_was(qtbot, window):
    window.setGeometry(40, 30, 640, 450)  # the controls keep it at least ~800 px wide
    assert window.height() == 450
    window.close()
    saved, _ = load_settings()
    assert saved.window_geometry
    again = MainWindow(saved, EngineBridge())
    assert again.height() == 450  # (the width follows the controls' minimum on this 800 px screen)
    again.close()


def test_speakers_switch_persists_and_renamed_speakers_show_everywhere(qtbot, window, config_dir, tmp_path):
    from app.transcript.record import SessionRecord

    assert not window.diarization_check.isChecked()
    window.diarization_check.setChecked(True)
    assert window.settings.diarization is True
    assert window._checked_choices().diarization is not None

    window.record = SessionRecord()
    turns = (
        Line(1, "Hello there.", 0.0, 1.0), Line(2, "Hi, Sam here.", 1.2, 2.0), Line(1, "Welcome.", 2.2, 3.0)
    )
    window.on_update("", FrontData("active_transcription", turns))
    texts = [window.transcript.data(window.transcript.index(row)) for row in range(3)]
    assert "Speaker 1: Hello there." in texts[0] and "Speaker 2: Hi, Sam here." in texts[1]

    assert window.transcript.speaker_at(1) == 2
    window.set_speaker_name(2, "Dana")
    assert "Dana: Hi, Sam here." in window.transcript.data(window.transcript.index(1))
    assert any(row.startswith("Dana: ") for row in window.overlay.visible_lines())
    exported = window.export_transcript("srt", str(tmp_path / "named.srt"))
    assert "Dana: Hi, Sam here." in exported.read_text() and "Speaker 1: Hello there." in exported.read_text()

    qtbot.waitUntil(lambda: (config_dir / "settings.json").is_file(), timeout=5_000)
    qtbot.wait(700)
    saved, _ = load_settings()
    assert saved.diarization is True and saved.speaker_names == {"2": "Dana"}
    window.set_speaker_name(2, "")
    assert "Speaker 2: Hi" in window.transcript.data(window.transcript.index(1))


def test_a_gpu_that_cannot_run_the_model_leaves_the_cpu_ready_and_says_why(qtbot, monkeypatch):
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)  # this machine's CUDA fails
    main = MainWindow(Settings(model="tiny.en", language="en", source="microphone"), EngineBridge())
    main.show()
    try:
        qtbot.waitUntil(lambda: main.start_button.isEnabled(), timeout=60_000)
        message = main.statusBar().currentMessage()
        assert message.startswith("Ready: tiny.en model loaded.")
        assert "The GPU could not be used (" in message and "on the CPU" in message
        assert not main.error_banner.isVisible()
    finally:
        main.close()


def test_speakers_box_says_why_when_the_speaker_models_are_missing(qtbot, tmp_path, monkeypatch):
    """No exported graphs anywhere (a pip install that skipped the export): the box is greyed out
    with the one sentence that says how to make them, and a saved "on" does not start it."""
    from app.core.diarization import weights

    monkeypatch.setattr(weights.sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setenv("SAYLINE_DATA_DIR", str(tmp_path / "data"))
    main = MainWindow(Settings(model="tiny.en", language="en", diarization=True), EngineBridge())
    try:
        box = main.diarization_check
        assert not box.isEnabled() and not box.isChecked()
        assert "python -m app.core.diarization.export" in box.toolTip()
    finally:
        main.close()


def test_speakers_box_works_where_the_speaker_models_are(qtbot, window):
    box = window.diarization_check
    assert box.isEnabled() and "python -m" not in box.toolTip()
    box.setChecked(True)
    assert window.settings.diarization


def test_the_window_fits_a_1280_pixel_screen(make_window):
    """A small laptop's screen (1280 px, or 1536 at 125 %) shows every control, none cut at the edge."""
    window = make_window()
    frame = window.frameGeometry().width() - window.geometry().width()
    assert window.minimumSizeHint().width() + frame <= 1280 - 80  # room for a dock or a panel beside it
