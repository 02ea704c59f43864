"""The overlay's appearance: lines, font, size, colours, box opacity, outline, hold time; applied live."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFontComboBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
)

from app.gui.accessibility import describe
from app.gui.settings import CAPTION_HOLD_CHOICES, FONT_SIZE_RANGE, OVERLAY_LINES_RANGE, Settings


class OverlaySettingsDialog(QDialog):
    """Every change is emitted at once, so the user sees the overlay change while choosing."""

    changed = Signal(dict)  # the fields that changed, for dataclasses.replace

    def __init__(self, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Caption overlay")
        self.settings = settings
        form = QFormLayout(self)
        if settings.theme == "high_contrast":  # the colours below would otherwise seem to do nothing
            note = QLabel("High contrast is on (View menu): the overlay is white on solid black. "
                          "The colours and opacity here apply when it is off.", objectName="highContrastNote")
            note.setWordWrap(True)
            form.addRow(note)
        # Each label's underlined letter (Alt+L, Alt+F…) moves to its control; QFormLayout makes
        # the control the label's buddy.
        self.lines = QSpinBox(
            minimum=OVERLAY_LINES_RANGE[0], maximum=OVERLAY_LINES_RANGE[1], objectName="overlayLinesSpin"
        )
        self.lines.setValue(settings.overlay_lines)
        self.lines.valueChanged.connect(lambda v: self._set(overlay_lines=v))
        form.addRow("&Lines", self.lines)
        self.font = QFontComboBox(objectName="overlayFontCombo")
        if settings.font_family:
            self.font.setCurrentFont(QFont(settings.font_family))
        self.font.currentFontChanged.connect(lambda f: self._set(font_family=f.family()))
        form.addRow("&Font", self.font)
        self.size = QSpinBox(
            minimum=FONT_SIZE_RANGE[0], maximum=FONT_SIZE_RANGE[1], suffix=" pt", objectName="overlaySizeSpin"
        )
        self.size.setValue(settings.font_size)
        self.size.valueChanged.connect(lambda v: self._set(font_size=v))
        form.addRow("&Size", self.size)
        self.text_color = self._color_button("text_color")
        form.addRow("&Text colour", self.text_color)
        self.background_color = self._color_button("background_color")
        form.addRow("&Box colour", self.background_color)
        self.opacity = QSlider(Qt.Orientation.Horizontal, objectName="opacitySlider")
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(settings.background_opacity * 100))
        self.opacity.valueChanged.connect(lambda v: self._set(background_opacity=v / 100))
        form.addRow("Box o&pacity", self.opacity)
        self.outline = QCheckBox("&Outline the letters", objectName="outlineCheck")
        self.outline.setChecked(settings.outline)
        self.outline.toggled.connect(lambda on: self._set(outline=on))
        form.addRow("", self.outline)
        self.hold = self._hold_combo(settings.caption_hold_s)
        form.addRow("&Keep the last caption for", self.hold)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleDescription("Every change is already applied and saved; this closes the window")
        form.addRow(buttons)
        describe(self)  # accessible names and descriptions (app/gui/accessibility.py)

    def _hold_combo(self, current: int) -> QComboBox:
        """The hold choices; a hand-edited value outside them is shown too, not silently changed."""
        combo = QComboBox(objectName="captionHoldCombo")
        combo.setToolTip("After the captions stop changing, fade the last one out after this long")
        choices = dict(CAPTION_HOLD_CHOICES)
        if current not in choices:
            choices = {current: f"{current} s", **choices}
        for seconds, label in choices.items():
            combo.addItem(label, seconds)
        combo.setCurrentIndex(combo.findData(current))
        combo.currentIndexChanged.connect(lambda _: self._set(caption_hold_s=combo.currentData()))
        return combo

    def _color_button(self, field: str) -> QPushButton:
        button = QPushButton(objectName=f"{field.split('_')[0]}ColorButton")
        self._paint_swatch(button, getattr(self.settings, field))
        button.clicked.connect(lambda: self._pick_color(button, field))
        return button

    @staticmethod
    def _paint_swatch(button: QPushButton, color: str) -> None:
        button.setText(color)
        button.setAccessibleDescription(f"Now {color}; opens a colour picker")  # the name is the row's
        button.setStyleSheet(f"QPushButton {{ border-left: 18px solid {color}; }}")

    def _pick_color(self, button: QPushButton, field: str) -> None:
        chosen = QColorDialog.getColor(QColor(getattr(self.settings, field)), self, "Choose a colour")
        if chosen.isValid():
            self._paint_swatch(button, chosen.name())
            self._set(**{field: chosen.name()})

    def _set(self, **changes) -> None:
        self.settings = replace(self.settings, **changes)
        self.changed.emit(changes)
