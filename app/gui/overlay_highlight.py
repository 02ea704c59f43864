"""Highlighting words on the caption overlay (keyword alerts) — the drawing, kept out of overlay.py.

The overlay only knows a *finder*: a function from a row's text to the (start, end) ranges to
mark. Who decides what is marked (app/gui/keyword_alerts.py, with the fuzzy matcher) stays
outside the widget, and the overlay calls the finder only while a highlight is on, so captions
without alerts cost nothing extra. A marked word gets a solid amber box behind it: the text keeps
its colour and outline on top, and the box is visible at a glance from across the room.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

HighlightFinder = Callable[[str], Iterable[tuple[int, int]]]
HIGHLIGHT_COLOR = "#e0a000"  # amber: reads as "attention" and keeps white or yellow text legible
HIGHLIGHT_ALPHA = 230
SKIPPED_ROLES = ("label",)  # a speaker's name before their words is not something they said


def highlight_ranges(
    pieces: Sequence[tuple[str, str]], finder: HighlightFinder | None
) -> list[tuple[int, int]]:
    """The ranges ``finder`` marks in a row made of (text, role) pieces, outside speaker labels."""
    if finder is None:
        return []
    text = "".join(piece for piece, _ in pieces)
    blocked: list[tuple[int, int]] = []
    position = 0
    for piece, role in pieces:
        if role in SKIPPED_ROLES:
            blocked.append((position, position + len(piece)))
        position += len(piece)
    return [
        (start, end)
        for start, end in finder(text)
        if 0 <= start < end <= len(text) and not any(start < high and low < end for low, high in blocked)
    ]


def highlighted_parts(pieces: Sequence[tuple[str, str]], finder: HighlightFinder | None) -> list[str]:
    """The marked text itself, e.g. ["Dana's"], for tests and screen readers."""
    text = "".join(piece for piece, _ in pieces)
    return [text[start:end] for start, end in highlight_ranges(pieces, finder)]


def paint_highlights(
    painter: QPainter,
    pieces: Sequence[tuple[str, str]],
    font: QFont,
    x: float,
    baseline: float,
    finder: HighlightFinder | None,
) -> None:
    """Boxes behind the marked ranges of a row drawn from ``x`` on ``baseline`` (before its text)."""
    ranges = highlight_ranges(pieces, finder)
    if not ranges:
        return
    text = "".join(piece for piece, _ in pieces)
    metrics = QFontMetricsF(font)
    pad = metrics.ascent() * 0.12
    color = QColor(HIGHLIGHT_COLOR)
    color.setAlpha(HIGHLIGHT_ALPHA)
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    for start, end in ranges:
        left = x + metrics.horizontalAdvance(text[:start])
        width = metrics.horizontalAdvance(text[start:end])
        top = baseline - metrics.ascent() - pad / 2
        box = QRectF(left - pad, top, width + 2 * pad, metrics.height() + pad)
        painter.drawRoundedRect(box, pad * 1.5, pad * 1.5)
    painter.restore()
