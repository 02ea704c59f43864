"""The overlay's appearance: lines, font, size, colours, box opacity, outline; applied live."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QFontComboBox,
    QFormLayout,
    QPushButton,
    QSlider,
    QSpinBox,
)

from app.gui.settings import FONT_SIZE_RANGE, OVERLAY_LINES_RANGE, Settings


class OverlaySettingsDialog(QDialog):
    """Every change is emitted at once, so the user sees the overlay change while choosing."""

    changed = Signal(dict)  # the fields that changed, for dataclasses.replace

    def __init__(self, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Caption overlay")
        self.settings = settings
        form = QFormLayout(self)
        self.lines = QSpinBox(minimum=OVERLAY_LINES_RANGE[0], maximum=OVERLAY_LINES_RANGE[1])
        self.lines.setValue(settings.overlay_lines)
        self.lines.valueChanged.connect(lambda v: self._set(overlay_lines=v))
        form.addRow("Lines", self.lines)
        self.font = QFontComboBox()
        if settings.font_family:
            self.font.setCurrentFont(QFont(settings.font_family))
        self.font.currentFontChanged.connect(lambda f: self._set(font_family=f.family()))
        form.addRow("Font", self.font)
        self.size = QSpinBox(minimum=FONT_SIZE_RANGE[0], maximum=FONT_SIZE_RANGE[1], suffix=" pt")
        self.size.setValue(settings.font_size)
        self.size.valueChanged.connect(lambda v: self._set(font_size=v))
        form.addRow("Size", self.size)
        self.text_color = self._color_button("text_color")
        form.addRow("Text colour", self.text_color)
        self.background_color = self._color_button("background_color")
        form.addRow("Box colour", self.background_color)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(settings.background_opacity * 100))
        self.opacity.valueChanged.connect(lambda v: self._set(background_opacity=v / 100))
        form.addRow("Box opacity", self.opacity)
        self.outline = QCheckBox("Outline the letters")
        self.outline.setChecked(settings.outline)
        self.outline.toggled.connect(lambda on: self._set(outline=on))
        form.addRow("", self.outline)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        form.addRow(buttons)

    def _color_button(self, field: str) -> QPushButton:
        button = QPushButton()
        self._paint_swatch(button, getattr(self.settings, field))
        button.clicked.connect(lambda: self._pick_color(button, field))
        return button

    @staticmethod
    def _paint_swatch(button: QPushButton, color: str) -> None:
        button.setText(color)
        button.setStyleSheet(f"QPushButton {{ border-left: 18px solid {color}; }}")

    def _pick_color(self, button: QPushButton, field: str) -> None:
        chosen = QColorDialog.getColor(QColor(getattr(self.settings, field)), self, "Choose a colour")
        if chosen.isValid():
            self._paint_swatch(button, chosen.name())
            self._set(**{field: chosen.name()})

    def _set(self, **changes) -> None:
        self.settings = replace(self.settings, **changes)
        self.changed.emit(changes)
