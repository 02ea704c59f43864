"""Remembered voices in the desktop app: names shown, the rename dialog's "Remember", the voice list."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.diarization.outputs import EMBEDDING_SIZE
from app.core.diarization.profiles import ProfileStore
from app.core.frontdata import FrontData, Line
from app.gui.bridge import EngineBridge
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from app.gui.voices import VoicesDialog
from app.transcript.record import SessionRecord

TURNS = (Line(1, "Hello there.", 0.0, 1.0), Line(2, "Hi, Sam here.", 1.2, 2.0))


@pytest.fixture
def window(qtbot):
    settings = Settings(model="tiny.en", language="en", source="microphone", diarization=True)
    main = MainWindow(settings, EngineBridge())
    main.show()
    qtbot.waitUntil(lambda: main.start_button.isEnabled(), timeout=60_000)
    yield main
    main.close()


def test_a_recognised_voice_is_named_everywhere_and_a_name_the_user_gives_wins(window, tmp_path):
    assert window._checked_choices().profiles is True
    window.record = SessionRecord()
    window.on_update("", FrontData("active_transcription", TURNS, speaker_names=((2, "Dana"),)))
    assert "Dana: Hi, Sam here." in window.transcript.data(window.transcript.index(1))
    assert any(row.startswith("Dana: ") for row in window.overlay.visible_lines())
    exported = window.export_transcript("txt", str(tmp_path / "named.txt")).read_text()
    assert "Dana: Hi, Sam here." in exported
    window.set_speaker_name(2, "Sam")
    assert "Sam: Hi, Sam here." in window.transcript.data(window.transcript.index(1))
    window.transcript_checks["recognise_voices"].setChecked(False)
    assert window._checked_choices().profiles is False


def test_remember_with_no_voice_heard_says_why_and_keeps_the_name(qtbot, window):
    window.record = SessionRecord()
    window.on_update("", FrontData("active_transcription", TURNS))
    dialog = window.rename_speaker(2)
    assert dialog.remember_check.isEnabled()
    dialog.name_edit.setText("Dana")
    dialog.remember_check.setChecked(True)
    dialog.accept()
    assert window.settings.speaker_names == {"2": "Dana"}
    qtbot.waitUntil(lambda: window.error_banner.isVisible(), timeout=10_000)
    assert "no voice of that speaker" in window.error_banner.text()


def test_the_voice_list_renames_and_forgets(qtbot, tmp_path):
    store = ProfileStore(tmp_path / "voices.json")
    vector = np.random.default_rng(0).standard_normal(EMBEDDING_SIZE).astype(np.float32)
    store.remember("Dana", vector, 14.0)
    store.remember("Sam", -vector, 11.0)
    dialog = VoicesDialog(store)
    qtbot.addWidget(dialog)
    assert dialog.names() == ["Dana", "Sam"]
    dialog.voice_list.setCurrentRow(0)
    assert dialog.rename_button.isEnabled() and dialog.forget_button.isEnabled()
    dialog.rename("Dana", "Sam")
    assert "already called" in dialog.status.text() and dialog.names() == ["Dana", "Sam"]
    dialog.rename("Dana", "Dana Kim")
    dialog.forget("Sam")
    assert dialog.names() == ["Dana Kim"] and [p.name for p in store.load()] == ["Dana Kim"]
    dialog.forget("Dana Kim")
    assert dialog.names() == [] and dialog.status.text() == "Forgot Dana Kim's voice."
    assert not dialog.rename_button.isEnabled()
    empty = VoicesDialog(store)
    qtbot.addWidget(empty)
    assert "No voice is remembered yet" in empty.status.text()
