"""Scrollback on the caption overlay: wheel and keys page back, a chip counts what was missed.

Kept beside the overlay rather than in it: the overlay draws captions; this decides which rows
while the reader looks back. It watches the overlay's events through an event filter (wheel,
keys, resize), holds the frozen history (`app.gui.scrollback.Scrollback`) and owns the chip.

Input, and why: the wheel over the overlay pauses it (scroll up) and pages forward (scroll down,
back to live at the bottom); the chip returns to live when clicked. The overlay never takes the
keyboard (it must not steal focus from the video or call being captioned), so keys reach it only
through the main window's application-wide shortcuts (Ctrl+Shift+Up/Down/End, see
`OverlayScrollback.SHORTCUTS`); Up/PageUp/Down/PageDown/Home/End/Esc are still handled if the
overlay is ever given key events. In click-through mode the pointer passes through the overlay,
so the wheel and the chip cannot reach it: the shortcuts still work, and the chip says so.
No timer is involved anywhere: an idle paused overlay costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, Protocol

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, Signal, SignalInstance
from PySide6.QtGui import (
    QColor,
    QEnterEvent,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractButton, QWidget

from app.core.frontdata import FrontData
from app.gui.caption_rows import Paragraph, Row
from app.gui.scrollback import Scrollback, chip_text


class ScrolledOverlay(Protocol):
    """What the scrollback needs of the overlay (a QWidget): its width and click-through state."""

    click_through_changed: SignalInstance

    def click_through(self) -> bool: ...

    def width(self) -> int: ...

WHEEL_STEP = 120  # angleDelta of one wheel notch; one notch moves one row
CHIP_FILL_ALPHA = 235


def committed_count(update: FrontData | Sequence[tuple]) -> int:
    """How many committed caption lines an update holds: what "N new lines" counts.

    Ready-made caption entries (overlay.CaptionLine or plain tuples) count unless marked live.
    """
    if isinstance(update, FrontData):
        return sum(1 for line in update.lines if not line.is_silence and line.text.strip())
    return sum(1 for entry in update if not (len(entry) > 3 and entry[3]))


class ScrollbackChip(QAbstractButton):
    """The small pill at the top of a paused overlay: "3 new lines – back to live".

    Painted by hand like the overlay (its text colour as the pill, its box colour as the words),
    so it reads on any caption style; a button, so a click (or a test) just works.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.fill = QColor("#ffffff")
        self.ink = QColor("#000000")
        self.hide()

    def set_style(self, font: QFont, fill: QColor, ink: QColor) -> None:
        self.setFont(font)
        self.fill, self.ink = QColor(fill), QColor(ink)
        self.fill.setAlpha(CHIP_FILL_ALPHA)
        self.adjustSize()
        self.update()

    def enterEvent(self, event: QEnterEvent) -> None:
        self.update()  # fully opaque under the pointer: it is a button
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self.update()
        super().leaveEvent(event)

    def sizeHint(self) -> QSize:
        metrics = QFontMetricsF(self.font())
        height = metrics.height() * 1.25
        return QSize(round(metrics.horizontalAdvance(self.text()) + 1.4 * height), round(height))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        fill = QColor(self.fill)
        if self.underMouse():
            fill.setAlpha(255)
        painter.setBrush(fill)
        box = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.drawRoundedRect(box, box.height() / 2, box.height() / 2)
        painter.setPen(self.ink)
        painter.setFont(self.font())
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.text())
        painter.end()


class OverlayScrollback(QObject):
    """Pauses the overlay on its history and brings it back to live.

    The overlay supplies two things: ``history`` (its committed captions as paragraphs, frozen at
    the pause) and ``wrap`` (paragraphs to rows at its current font and width). Every change of
    view goes through `moved`, on which the overlay repaints.
    """

    moved = Signal()  # the rows to draw changed (paused, scrolled, back to live)

    # The main window's application-wide shortcuts: the overlay itself never has the keyboard.
    SHORTCUTS: ClassVar[dict[str, str]] = {
        "Ctrl+Shift+Up": "page_back",
        "Ctrl+Shift+Down": "page_forward",
        "Ctrl+Shift+End": "go_live",
    }

    def __init__(
        self,
        overlay: ScrolledOverlay,
        history: Callable[[], tuple[Paragraph, ...]],
        wrap: Callable[[Sequence[Paragraph]], list[Row]],
        visible_rows: Callable[[], int],
    ) -> None:
        super().__init__(overlay)  # type: ignore[arg-type]  (the overlay is a QWidget)
        self._overlay = overlay
        self._history = history
        self._wrap = wrap
        self._visible_rows = visible_rows
        self.state: Scrollback[Row] = Scrollback()
        self._frozen: tuple[Paragraph, ...] = ()
        self._latest: FrontData | Sequence[tuple] = ()  # the last update, counted only when needed
        self._wheel_rest = 0  # part of a notch left over (touchpads send small deltas)
        self.chip = ScrollbackChip(overlay)  # type: ignore[arg-type]
        self.chip.clicked.connect(self.go_live)
        overlay.click_through_changed.connect(lambda _on: self._show_chip())  # the chip's words
        overlay.installEventFilter(self)  # type: ignore[attr-defined]

    # --- what the overlay asks ------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.state.paused

    def rows(self, visible: int) -> list[Row]:
        """The rows to draw while paused (oldest first); [] when live."""
        return self.state.view(visible)

    def received(self, update: FrontData | Sequence[tuple]) -> None:
        """An update arrived. Live, it is only noted (counting a long session's lines on every
        update would cost CPU for nothing); paused, the chip's count may change."""
        self._latest = update
        if self.state.paused and self.state.received(committed_count(update)):
            self._show_chip()

    def restyle(self, font: QFont, fill: QColor, ink: QColor) -> None:
        """The overlay's font or colours changed: the chip follows, a paused view is wrapped anew."""
        self.chip.set_style(font, fill, ink)
        self._place_chip()
        self._rewrap()

    # --- moving the view -------------------------------------------------------------------

    def back(self, rows: int = 1) -> bool:
        """Toward older captions; from live this pauses on a frozen copy of the history."""
        visible = self._visible_rows()
        if not self.state.paused:
            self.state.received(committed_count(self._latest))  # where "new lines" start counting
            self._frozen = self._history()
            moved = self.state.back(rows, self._wrap(self._frozen), visible)
        else:
            moved = self.state.back(rows, (), visible)
        return self._after(moved)

    def forward(self, rows: int = 1) -> bool:
        """Toward newer captions; past the newest row kept, back to live."""
        return self._after(self.state.forward(rows))

    def page_back(self) -> bool:
        return self.back(self._visible_rows())

    def page_forward(self) -> bool:
        return self.forward(self._visible_rows())

    def oldest(self) -> bool:
        return self._after(self.state.oldest(self._visible_rows()))

    def go_live(self) -> bool:
        """Back to the live captions (Esc, End, the chip, or scrolling down to the bottom)."""
        return self._after(self.state.live())

    def _after(self, moved: bool) -> bool:
        if not self.state.paused:
            self._frozen = ()
        if moved:
            self._show_chip()
            self.moved.emit()
        return moved

    def _rewrap(self) -> None:
        if self.state.paused:
            self.state.rewrap(self._wrap(self._frozen), self._visible_rows())
            self._after(True)

    # --- the chip ---------------------------------------------------------------------------

    def _show_chip(self) -> None:
        if not self.state.paused:
            self.chip.hide()
            return
        self.chip.setText(chip_text(self.state.new_lines, clickable=not self._overlay.click_through()))
        self.chip.adjustSize()
        self._place_chip()
        self.chip.show()
        self.chip.raise_()

    def _place_chip(self) -> None:
        """Centred at the top, in the band above the captions (the lag note sits at the right)."""
        size = self.chip.sizeHint()
        x = max(0, (self._overlay.width() - size.width()) // 2)
        self.chip.setGeometry(x, 2, min(size.width(), self._overlay.width()), size.height())

    # --- input ------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self._overlay:
            return False
        kind = event.type()
        if kind == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            return self._wheel(event)
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self._key(event)
        if kind == QEvent.Type.Resize:
            self._place_chip()
            self._rewrap()
        return False

    def _wheel(self, event: QWheelEvent) -> bool:
        delta = event.angleDelta().y() or event.pixelDelta().y()
        if not delta or self._overlay.click_through():
            return False
        self._wheel_rest += delta
        notches = int(self._wheel_rest / WHEEL_STEP)
        self._wheel_rest -= notches * WHEEL_STEP
        if notches > 0:
            self.back(notches)
        elif notches < 0:
            self.forward(-notches)
        event.accept()
        return True

    def _key(self, event: QKeyEvent) -> bool:
        key = Qt.Key(event.key())
        actions: dict[Qt.Key, Callable[[], bool]] = {
            Qt.Key.Key_Up: self.back,
            Qt.Key.Key_PageUp: self.page_back,
            Qt.Key.Key_Down: self.forward,
            Qt.Key.Key_PageDown: self.page_forward,
            Qt.Key.Key_Home: self.oldest,
            Qt.Key.Key_End: self.go_live,
            Qt.Key.Key_Escape: self.go_live,
        }
        action = actions.get(key)
        if action is None:
            return False
        action()
        event.accept()
        return True
