"""The main window's translation controls offscreen: install a real pair, choose it, see it shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.frontdata import FrontData, Line
from app.gui.bridge import EngineBridge
from app.gui.main_window import MainWindow
from app.gui.settings import Settings, load_settings
from app.transcript.record import SessionRecord
from tests.test_translation import pair_files  # noqa: F401  (a fixture)


@pytest.fixture
def window(qtbot, data_dir):
    main = MainWindow(Settings(model="tiny.en", language="en", overlay_lines=4), EngineBridge())
    main.show()
    yield main
    main.close()


def targets(window: MainWindow) -> list[str]:
    return [window.target_combo.itemData(i) for i in range(window.target_combo.count())]


def test_install_a_pair_from_a_file_then_translate_into_it(qtbot, window, pair_files, config_dir):  # noqa: F811
    assert targets(window) == ["", "en"]
    window.install_pair_from_file(str(pair_files["en_fr"]))
    qtbot.waitUntil(lambda: "fr" in targets(window), timeout=20_000)
    assert any("en → fr" in action.text() for action in window.pairs_menu.actions())
    window.target_combo.setCurrentIndex(window.target_combo.findData("fr"))
    assert window.settings.target_language == "fr"
    qtbot.wait(700)
    assert load_settings()[0].target_language == "fr"

    window.record = SessionRecord()
    line = Line(1, "The conference is now muted.", 0.0, 1.5, "La conférence est en sourdine.", "en")
    window.on_update("", FrontData("active_transcription", (line,), buffer_translation="Composez"))
    rows = window.overlay.visible_lines()
    assert " ".join(rows).endswith("muted. La conférence est en sourdine. Composez")
    assert rows[-1] == "Composez", "the live translation on its own row, under the line's"
    assert "→ La conférence est en sourdine." in window.transcript.plain_text()
    shots = os.environ.get("SAYLINE_SCREENSHOT_DIR")
    if shots:
        window.grab().save(str(Path(shots) / "main-window-translation.png"))
        window.overlay.grab().save(str(Path(shots) / "overlay-default-style.png"))


def test_a_damaged_pair_file_is_one_sentence_in_the_banner(qtbot, window, tmp_path):
    broken = tmp_path / "broken.argosmodel"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    window.install_pair_from_file(str(broken))
    qtbot.waitUntil(lambda: window.error_banner.isVisible(), timeout=20_000)
    assert window.error_banner.text() == (
        "broken.argosmodel is not an Argos language pair (.argosmodel): it is not a zip archive."
    )
    assert targets(window) == ["", "en"]
