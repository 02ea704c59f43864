"""Paints search hits in the transcript list: every hit marked, the current one stronger.

Why a delegate that draws the text itself, and only for rows with hits: the style draws item
text as one string with no way to mark a part of it, so a row with a hit is drawn as the style
would (background, selection, the row's own colour) but with its text laid out here, where each
hit can carry a background. Rows without hits go to the style untouched, so the transcript looks
exactly as before while nothing is searched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF
from PySide6.QtGui import QColor, QPainter, QPalette, QTextCharFormat, QTextLayout, QTextOption
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

HIT_BACKGROUND = "#e3b341"  # amber: readable under dark text, distinct from the selection's blue
CURRENT_BACKGROUND = "#ff7b29"  # the hit Enter/F3 moved to: a warmer, stronger mark
HIT_TEXT = "#111111"

Span = tuple[int, int, bool]  # (start, end, current) in the row's text, Python indices
SpansFor = Callable[[int], Sequence[Span]]


def utf16_index(text: str, index: int) -> int:
    """Qt's text layouts count UTF-16 units; Python counts code points (they differ for emoji)."""
    return index + sum(1 for char in text[:index] if ord(char) > 0xFFFF)


class HitDelegate(QStyledItemDelegate):
    """``spans_for(row)`` says where the hits in a row's display text are; the rest is the style's."""

    def __init__(self, spans_for: SpansFor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spans_for = spans_for

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        spans = self._spans_for(index.row())
        if not spans:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        text = opt.text
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        opt.text = ""  # the style draws the row's background and selection, we draw the words
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        # As QCommonStyle lays out item text: a margin each side, word wrap, centred vertically.
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
        rect = text_rect.adjusted(margin, 0, -margin, 0)
        layout = QTextLayout(text, opt.font)
        text_option = QTextOption()
        wraps = bool(opt.features & QStyleOptionViewItem.ViewItemFeature.WrapText)
        text_option.setWrapMode(QTextOption.WrapMode.WordWrap if wraps else QTextOption.WrapMode.ManualWrap)
        layout.setTextOption(text_option)
        layout.setFormats([self._format(text, span) for span in spans])
        height = 0.0
        layout.beginLayout()
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(rect.width())
            line.setPosition(QPointF(0, height))
            height += line.height()
        layout.endLayout()

        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setClipRect(opt.rect)
        painter.setPen(opt.palette.color(role))
        layout.draw(painter, QPointF(rect.left(), rect.top() + max(0.0, (rect.height() - height) / 2)))
        painter.restore()

    @staticmethod
    def _format(text: str, span: Span) -> QTextLayout.FormatRange:
        start, end, current = span
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(CURRENT_BACKGROUND if current else HIT_BACKGROUND))
        fmt.setForeground(QColor(HIT_TEXT))
        marked = QTextLayout.FormatRange()
        marked.start = utf16_index(text, start)
        marked.length = utf16_index(text, end) - marked.start
        marked.format = fmt
        return marked
