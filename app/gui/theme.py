"""The app's two looks, dark (the default) and high contrast, as colours a test can measure.

Each theme is a set of named colours; resources/styles/app.qss is a template that uses them
(``$text``, ``$indicator``…), and the same colours go into the application palette so what Qt
draws itself (combo box arrows, standard dialogs, the colour picker) matches. Keeping the colours
here rather than in the stylesheet is what lets tests/gui/test_accessibility.py compute every
pair's WCAG 2.1 contrast ratio from the values actually applied.

High contrast follows the convention of Windows' and GNOME's high-contrast modes: black
background, white text and edges, yellow for focus, selection and "on" indicators.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from string import Template

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.paths import resources_dir

DEFAULT_THEME = "dark"


@dataclass(frozen=True)
class Theme:
    """Every colour the stylesheet uses, ``#rrggbb``."""

    window: str  # the window's background, behind labels and check boxes
    text: str
    muted: str  # the status bar
    control: str  # inside combo boxes, spin boxes, text fields, menus
    button: str
    control_hover: str
    border: str  # the edge that shows where a control is
    disabled_border: str
    disabled_text: str
    focus: str  # the focused control's edge
    focus_on_accent: str  # the focused Start button's edge (on the accent colour)
    indicator: str  # an unchecked check box's edge, the slider handle
    indicator_fill: str
    checked: str  # a checked check box's fill
    check_image: str  # the tick drawn on `checked`: resources/styles/<file>
    accent: str  # the Start button
    accent_hover: str
    accent_text: str
    stop: str  # the Start button while captioning (it says Stop)
    stop_text: str
    transcript: str  # the transcript's background
    buffer_text: str  # the words not yet final, under the transcript
    selection_bg: str
    selection_text: str
    error_bg: str
    error_text: str
    error_border: str
    progress: str
    scroll_handle: str
    placeholder: str  # a text field's hint while it is empty

    def stylesheet(self) -> str:
        """resources/styles/app.qss with this theme's colours filled in."""
        template = Template((resources_dir() / "styles" / "app.qss").read_text(encoding="utf-8"))
        values = dataclasses.asdict(self)
        values["check_image"] = (resources_dir() / "styles" / self.check_image).as_posix()
        values["styles"] = (resources_dir() / "styles").as_posix()  # the arrows, light on both themes
        return template.substitute(values)

    def palette(self) -> QPalette:
        """The same colours for what Qt draws without the stylesheet (dialogs, arrows, tooltips)."""
        palette = QPalette()
        roles = {
            QPalette.ColorRole.Window: self.window,
            QPalette.ColorRole.WindowText: self.text,
            QPalette.ColorRole.Base: self.control,
            QPalette.ColorRole.AlternateBase: self.button,
            QPalette.ColorRole.Text: self.text,
            QPalette.ColorRole.Button: self.button,
            QPalette.ColorRole.ButtonText: self.text,
            QPalette.ColorRole.BrightText: self.text,
            QPalette.ColorRole.Highlight: self.selection_bg,
            QPalette.ColorRole.HighlightedText: self.selection_text,
            QPalette.ColorRole.ToolTipBase: self.control,
            QPalette.ColorRole.ToolTipText: self.text,
            QPalette.ColorRole.PlaceholderText: self.placeholder,
            QPalette.ColorRole.Link: self.focus,
            QPalette.ColorRole.Mid: self.border,
            QPalette.ColorRole.Dark: self.border,
        }
        for role, color in roles.items():
            palette.setColor(role, QColor(color))
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(self.disabled_text))
        return palette


THEMES: dict[str, Theme] = {
    # The app's calm dark look, with the edges of controls lifted to 3:1 and more: borders were
    # #323a47 (1.5:1) and Qt's unchecked check box a dark square on the dark window.
    "dark": Theme(
        window="#14181f",
        text="#e6e9ef",
        muted="#9aa3b2",
        control="#1b2029",
        button="#222833",
        control_hover="#2a3240",
        border="#6e7681",
        disabled_border="#3a4250",
        disabled_text="#6b7280",
        focus="#58a6ff",
        focus_on_accent="#ffffff",
        indicator="#a4adbb",
        indicator_fill="#0f1217",
        checked="#1f6feb",
        check_image="check-light.svg",
        accent="#1f6feb",
        accent_hover="#2f7bf5",
        accent_text="#ffffff",
        stop="#b42318",
        stop_text="#ffffff",
        transcript="#0f1217",
        buffer_text="#8a8f98",
        selection_bg="#2f3b4e",
        selection_text="#ffffff",
        error_bg="#5c1f24",
        error_text="#ffd7d7",
        error_border="#5c1f24",
        progress="#3fb950",
        scroll_handle="#6e7681",
        placeholder="#8b949e",
    ),
    "high_contrast": Theme(
        window="#000000",
        text="#ffffff",
        muted="#ffffff",
        control="#000000",
        button="#000000",
        control_hover="#262626",
        border="#ffffff",
        disabled_border="#8c8c8c",
        disabled_text="#a6a6a6",
        focus="#ffff00",
        focus_on_accent="#000000",  # a black ring inside the yellow Start button
        indicator="#ffffff",
        indicator_fill="#000000",
        checked="#ffff00",
        check_image="check-dark.svg",
        accent="#ffff00",
        accent_hover="#ffff66",
        accent_text="#000000",
        stop="#ff8c8c",
        stop_text="#000000",
        transcript="#000000",
        buffer_text="#d9d9d9",
        selection_bg="#ffff00",
        selection_text="#000000",
        error_bg="#000000",
        error_text="#ffb3b3",
        error_border="#ff6b6b",
        progress="#ffff00",
        scroll_handle="#ffffff",
        placeholder="#bfbfbf",
    ),
}


def theme(name: str) -> Theme:
    """The named theme; an unknown name (a newer version's) gets the default."""
    return THEMES.get(name, THEMES[DEFAULT_THEME])


def apply_theme(app: QApplication, name: str) -> Theme:
    """Restyle every window of ``app`` at once; returns the theme applied."""
    chosen = theme(name)
    app.setPalette(chosen.palette())
    app.setStyleSheet(chosen.stylesheet())
    return chosen
