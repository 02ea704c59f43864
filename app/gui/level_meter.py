"""The input level bar beside the source: drawn by hand instead of a QProgressBar, for screen readers.

A QProgressBar tells assistive technology about every change of its value, and the level changes
many times a second while captioning: Orca would repeat "minus 32" on its own every few seconds
(it speaks progress bar updates by default) and the accessibility bus would carry a stream of
events for a bar nobody can act on. This widget draws the same bar and is announced once, by its
name and description, when the user moves onto it.
"""

from __future__ import annotations

from PySide6.QtCore import Property, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QStyle, QStyleOption, QWidget


class LevelMeter(QWidget):
    """A horizontal bar from ``minimum`` (silence, dBFS) to ``maximum``; the stylesheet colours it
    (``LevelMeter { qproperty-barColor: …; qproperty-edgeColor: …; background: … }``)."""

    def __init__(self, minimum: int = -60, maximum: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._minimum, self._maximum, self._value = minimum, maximum, minimum
        self._bar = QColor("#3fb950")
        self._edge = QColor("#6e7681")

    def minimum(self) -> int:
        return self._minimum

    def value(self) -> int:
        return self._value

    def setValue(self, value: int) -> None:  # the QProgressBar name it replaces
        value = max(self._minimum, min(self._maximum, int(value)))
        if value != self._value:
            self._value = value
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(90, 8)

    def _get_bar(self) -> QColor:
        return self._bar

    def _set_bar(self, color: QColor) -> None:
        self._bar = QColor(color)
        self.update()

    def _get_edge(self) -> QColor:
        return self._edge

    def _set_edge(self, color: QColor) -> None:
        self._edge = QColor(color)
        self.update()

    barColor = Property(QColor, _get_bar, _set_bar)  # Qt properties, set from the stylesheet
    edgeColor = Property(QColor, _get_edge, _set_edge)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, option, painter, self)  # QSS background
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        height = min(8.0, float(self.height()))
        box = QRectF(0.5, (self.height() - height) / 2 + 0.5, self.width() - 1.0, height - 1.0)
        painter.setPen(QPen(self._edge, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, 3, 3)
        share = (self._value - self._minimum) / max(1, self._maximum - self._minimum)
        if share > 0:
            fill = box.adjusted(1.5, 1.5, -1.5, -1.5)
            fill.setWidth(fill.width() * share)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._bar)
            painter.drawRoundedRect(fill, 2, 2)
        painter.end()
