"""The desktop app translating live: real engine, real PulseAudio capture, a real (untrained) pair."""

from __future__ import annotations

import pytest

from app.core.translation.argos import ArgosTranslator
from app.core.translation.argos_install import install_file
from app.gui.bridge import EngineBridge
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from tests.gui.test_desktop import play_in_background, said, start, stop
from tests.test_translation import pair_files  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("pulse")


def test_captions_from_system_audio_arrive_translated(qtbot, pair_files, data_dir, speech_file):  # noqa: F811
    install_file(pair_files["en_fr"])
    settings = Settings(
        model="tiny.en", language="en", source="system", target_language="fr", overlay_lines=4
    )
    window = MainWindow(settings, EngineBridge())
    window.show()
    qtbot.waitUntil(lambda: window.start_button.isEnabled(), timeout=60_000)
    start(qtbot, window)
    player = play_in_background(speech_file)
    qtbot.waitUntil(lambda: any(e.line.translation for e in window.record.lines), timeout=60_000)
    qtbot.waitUntil(lambda: "your country" in said(window), timeout=60_000)
    player.join(30)
    stop(qtbot, window)
    translator = ArgosTranslator()
    spoken = [e.line for e in window.record.lines if not e.line.is_silence]
    assert spoken and all(line.translation == translator.translate(line.text, "en", "fr") for line in spoken)
    last_row = window.overlay.visible_lines()[-1]
    assert last_row and last_row in spoken[-1].translation, "the overlay ends with the last translation"
    window.close()
