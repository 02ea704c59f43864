"""The overlay with translated captions: original, translation or both, checked on rendered pixels."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from PySide6.QtGui import QColor

from app.core.frontdata import FrontData, Line
from app.gui.overlay import TRANSLATION_BLEND, TRANSLATION_TINT, _blend
from tests.gui.test_overlay import YELLOW, count, make_overlay, near, render


def translated(*pairs: tuple[str, str], buffer: str = "", buffer_translation: str = "") -> FrontData:
    lines = tuple(
        Line(1, text, i * 2.0, i * 2.0 + 1.5, translation, "fr")
        for i, (text, translation) in enumerate(pairs)
    )
    return FrontData(lines=lines, buffer_transcription=buffer, buffer_translation=buffer_translation)


CAPTIONS = translated(
    ("La conférence est maintenant en mode discret.", "The conference is now muted."),
    ("Composez votre mot de passe.", ""),
    buffer="suivi du",
    buffer_translation="Enter your password followed by the",
)
TINT = _blend(QColor(YELLOW), QColor(TRANSLATION_TINT), TRANSLATION_BLEND)


def test_both_shows_each_translation_tinted_under_its_line(qtbot):
    overlay = make_overlay(qtbot, font_size=14, overlay_lines=4, target_language="en")
    overlay.show_update(CAPTIONS)
    assert overlay.visible_lines() == [
        "La conférence est maintenant en mode discret.",
        "The conference is now muted.",
        "Composez votre mot de passe. suivi du",
        "Enter your password followed by the",
    ]
    image = render(overlay)
    row = overlay.height() // 4
    top_rows = (0, 0, image.width(), overlay.height() - 2 * row)
    assert count(image, near(TINT, 12), top_rows) > 50, "the translation is drawn in its own tint"
    assert count(image, near(YELLOW, 12), top_rows) > 50, "and the original in the text colour"
    shot = os.environ.get("SAYLINE_SCREENSHOT_DIR")
    if shot:
        image.save(str(Path(shot) / "overlay-translation.png"))


def test_translation_only_and_original_only(qtbot):
    overlay = make_overlay(
        qtbot, font_size=14, overlay_lines=3, target_language="en", overlay_translation="translation"
    )
    overlay.show_update(CAPTIONS)
    shown = " ".join(overlay.visible_lines())
    assert shown == "The conference is now muted. Enter your password followed by the"
    image = render(overlay)
    assert count(image, near(TINT, 12)) == 0, "translation-only text takes the normal caption colours"

    overlay.apply_settings(dataclasses.replace(overlay._settings, overlay_translation="original"))
    shown = " ".join(overlay.visible_lines())
    assert shown == "La conférence est maintenant en mode discret. Composez votre mot de passe. suivi du"


def test_without_a_target_language_the_setting_is_ignored(qtbot):
    overlay = make_overlay(qtbot, font_size=14, overlay_lines=4, target_language="")
    overlay.show_update(CAPTIONS)
    assert all("conference" not in row for row in overlay.visible_lines())
