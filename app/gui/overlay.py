"""The always-on-top caption window: the last few caption lines, legible over anything.

Why it is drawn by hand instead of with a QLabel: captions must stay readable over any video or
slide, which needs an outline around every glyph (a QPainterPath stroke) and per-span colours
(speaker names, committed text, the greyed live buffer) on rows that roll from the bottom. The
widget is passive: it repaints only when `show_update` brings something new or its settings or
size change, and its timers run once: the geometry debounce after a move, the caption hold (and
its fade) after the last change of the captions when a hold time is set; idle CPU is nil.
Scrollback (wheel up to read older lines while captioning goes on) is app/gui/overlay_scrollback.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QScreen,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import QSizeGrip, QWidget

from app.core.frontdata import FrontData
from app.gui.caption_hold import CaptionHold, committed_end, since_clear, still_cleared
from app.gui.caption_rows import Paragraph, Row, Span
from app.gui.overlay_highlight import HighlightFinder, highlighted_parts, paint_highlights
from app.gui.overlay_scrollback import OverlayScrollback
from app.gui.settings import Settings

# The web page's palette (resources/web/app.js), so a speaker has one colour everywhere.
SPEAKER_COLORS = ("#6cb6ff", "#f0a56b", "#7ee2a8", "#d2a8ff", "#f47f8f", "#6fd6d0", "#e6d36f", "#a5b4fc")
LAG_THRESHOLD_S = 2.0  # below this the captions are as live as they get; no need to say so
LAG_COLOR = "#ffc15e"
GEOMETRY_DEBOUNCE_MS = 300  # one report per drag, not one per pixel
TAIL_LINES = 24  # committed lines considered per update; far more than 4 rows ever need
HISTORY_LINES = 400  # committed lines scrollback can page back through: bounded, a few pages of talk
# A new user's overlay is as wide as this many characters of caption text: 32 (DCMP, US
# broadcast) to 42 (BBC, Netflix) characters a line is what readers follow at a glance; wider
# lines make the eye travel and go back. 37 sits in the middle. The user may resize it at will.
DEFAULT_LINE_CHARS = 37
# What an average character's width is measured on: ordinary caption text, not a pangram.
LINE_SAMPLE = "so what we are going to do next is look at how the numbers changed over the year"
DEFAULT_MAX_WIDTH_SHARE = 0.9  # on a small screen the overlay never fills it edge to edge
HIGH_CONTRAST_TEXT = "#ffffff"  # the high-contrast theme's overlay: white on an opaque black box
HIGH_CONTRAST_BOX = "#000000"
DEFAULT_BOTTOM_MARGIN_SHARE = 0.06
LIVE_BLEND = 0.42  # how far the live buffer's colour moves from the text colour toward the outline
TRANSLATION_TINT = "#ffd75e"  # translations are tinted toward this, so the eye tells them from the original
TRANSLATION_BLEND = 0.55

LabelFor = Callable[[int], str]


class CaptionLine(NamedTuple):
    """One caption entry for callers that build captions themselves (e.g. merged meeting streams).

    ``color`` colours the label ("" = the text colour). ``live`` marks text not yet committed,
    drawn greyed. A live entry without a label continues the entry before it on the same row,
    the way the live buffer follows committed text.
    """

    label: str
    color: str
    text: str
    live: bool = False


def speaker_color(speaker: int) -> str:
    """A fixed colour per speaker number ("" for unattributed speech: the plain text colour)."""
    return SPEAKER_COLORS[(speaker - 1) % len(SPEAKER_COLORS)] if speaker > 0 else ""


def screen_key(screen: QScreen) -> str:
    """Identifies a screen *in its current arrangement*, so each layout remembers its own place."""
    geometry = screen.geometry()
    name = screen.name() or "screen"
    return f"{name} {geometry.width()}x{geometry.height()}+{geometry.x()}+{geometry.y()}"


def paragraphs_from_update(
    update: FrontData, label_for: LabelFor, tail: int = TAIL_LINES
) -> tuple[Paragraph, ...]:
    """Committed lines as flowing paragraphs: one per run of a speaker, broken by silences.

    Flowing (rather than one row per engine line) keeps words where they are when the live buffer
    commits, so the reader's eye never has to jump. Names appear only once two speakers spoke.
    """
    speakers = {line.speaker for line in update.lines if not line.is_silence and line.text.strip()}
    labelled = len(speakers) > 1
    paragraphs: list[list[Span]] = []
    current: int | None = None
    for line in update.lines[-tail:]:
        text = line.text.strip()
        if line.is_silence:
            current = None
        elif text and paragraphs and line.speaker == current:
            paragraphs[-1].append(Span(" " + text, "text"))
        elif text:
            label = label_for(line.speaker) if labelled else ""
            head = [Span(f"{label}: ", "label", speaker_color(line.speaker))] if label else []
            paragraphs.append([*head, Span(text, "text")])
            current = line.speaker
    buffer = update.buffer_transcription.strip()
    if buffer and paragraphs and current is not None:
        paragraphs[-1].append(Span(" " + buffer, "live"))
    elif buffer:
        paragraphs.append([Span(buffer, "live")])
    return tuple(tuple(paragraph) for paragraph in paragraphs)


def translated_paragraphs(
    update: FrontData, label_for: LabelFor, show: str, tail: int = TAIL_LINES
) -> tuple[Paragraph, ...]:
    """What the overlay shows of a translated stream: ``original``, ``translation`` or ``both``.

    ``translation`` is the original layout with each line's translation as its text (a line
    still being translated waits). ``both`` goes line by line, each translation tinted under
    its original, since two flowing paragraphs would drift apart as they grow.
    """
    if show == "original":
        return paragraphs_from_update(update, label_for, tail)
    if show == "translation":
        lines = tuple(replace(line, text=line.translation) for line in update.lines)
        return paragraphs_from_update(
            replace(update, lines=lines, buffer_transcription=update.buffer_translation), label_for, tail
        )
    speakers = {line.speaker for line in update.lines if not line.is_silence and line.text.strip()}
    paragraphs: list[list[Span]] = []
    open_line = False  # the last paragraph is an original still waiting for its translation
    for line in update.lines[-tail:]:
        text = line.text.strip()
        if line.is_silence or not text:
            continue
        label = label_for(line.speaker) if len(speakers) > 1 else ""
        head = [Span(f"{label}: ", "label", speaker_color(line.speaker))] if label else []
        paragraphs.append([*head, Span(text, "text")])
        translation = line.translation.strip()
        open_line = not translation
        if translation and translation != text:
            paragraphs.append([Span(translation, "translation")])
    buffer = update.buffer_transcription.strip()
    if buffer and open_line and paragraphs:
        paragraphs[-1].append(Span(" " + buffer, "live"))
    elif buffer:
        paragraphs.append([Span(buffer, "live")])
    if update.buffer_translation.strip():
        paragraphs.append([Span(update.buffer_translation.strip(), "translation_live")])
    return tuple(tuple(paragraph) for paragraph in paragraphs)


def paragraphs_from_lines(lines: Iterable[CaptionLine | tuple]) -> tuple[Paragraph, ...]:
    """`CaptionLine`s (or plain (label, color, text[, live]) tuples) as paragraphs."""
    paragraphs: list[list[Span]] = []
    for entry in lines:
        line = CaptionLine(*entry)
        text = line.text.strip()
        if not text:
            continue
        role = "live" if line.live else "text"
        if line.live and not line.label and paragraphs:
            paragraphs[-1].append(Span(" " + text, role))
            continue
        head = [Span(f"{line.label}: ", "label", line.color)] if line.label else []
        paragraphs.append([*head, Span(text, role)])
    return tuple(tuple(paragraph) for paragraph in paragraphs)


def _utf16_offsets(text: str) -> list[int] | None:
    """Python index for each UTF-16 offset QTextLayout reports, when the two differ (emoji)."""
    if all(ord(char) <= 0xFFFF for char in text):
        return None
    offsets: list[int] = []
    for index, char in enumerate(text):
        offsets.extend([index] * (2 if ord(char) > 0xFFFF else 1))
    offsets.append(len(text))
    return offsets


def wrap_paragraph(paragraph: Paragraph, font: QFont, width: float) -> list[Row]:
    """Break a paragraph into rows no wider than ``width``, keeping each span's role."""
    text = "".join(span.text for span in paragraph)
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    bounds: list[tuple[int, int]] = []
    layout.beginLayout()
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(max(1.0, width))
        bounds.append((line.textStart(), line.textStart() + line.textLength()))
    layout.endLayout()
    offsets = _utf16_offsets(text)
    if offsets is not None:
        bounds = [(offsets[start], offsets[end]) for start, end in bounds]
    starts = []
    position = 0
    for span in paragraph:
        starts.append(position)
        position += len(span.text)
    rows = []
    for row_start, row_end in bounds:
        pieces = []
        for span, start in zip(paragraph, starts, strict=True):
            low, high = max(row_start, start), min(row_end, start + len(span.text))
            if low < high:
                pieces.append(Span(span.text[low - start : high - start], span.role, span.color))
        if pieces:
            rows.append(Row(tuple(pieces)))
    return rows


def _luminance(color: QColor) -> float:
    return 0.2126 * color.redF() + 0.7152 * color.greenF() + 0.0722 * color.blueF()


def _blend(a: QColor, b: QColor, share: float) -> QColor:
    """``a`` moved ``share`` of the way toward ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * share,
        a.greenF() + (b.greenF() - a.greenF()) * share,
        a.blueF() + (b.blueF() - a.blueF()) * share,
    )


class _ResizeGrip(QSizeGrip):
    """Qt's resize grip (which also does the Wayland-proper system resize) with marks that show.

    The style's own dotted grip is nearly invisible on a dark translucent box.
    """

    SIDE = 20

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.color = QColor("#ffffff")

    def sizeHint(self) -> QSize:
        return QSize(self.SIDE, self.SIDE)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.color, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        corner = QPointF(self.width() - 5, self.height() - 5)  # inside the box's rounded corner
        for reach in (4.0, 8.0, 12.0):
            painter.drawLine(corner - QPointF(reach, 0), corner - QPointF(0, reach))
        painter.end()


class CaptionOverlay(QWidget):
    """Frameless, translucent, always-on-top caption window.

    Feed it with `show_update(FrontData)` from the bridge; style it with `apply_settings`.
    Drag anywhere to move, the bottom-right grip to resize. Its place is reported through
    `geometry_changed` for the main window to keep in the settings; the overlay never saves.
    """

    geometry_changed = Signal(str, list)  # (screen key, [x, y, w, h]), debounced after move/resize
    click_through_changed = Signal(bool)

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlags(
            Qt.WindowType.Tool  # no taskbar entry; on macOS see WA_MacAlwaysShowToolWindow
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus  # captions must never steal the keyboard
        )
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_MacAlwaysShowToolWindow)
        self.setWindowTitle("Sayline captions")
        self.setAccessibleName("Captions")
        self.setAccessibleDescription(
            "The latest caption lines, always on top. It never takes the keyboard: the main window's "
            "transcript holds every line, and the captions can be announced by the screen reader."
        )
        self.setCursor(Qt.CursorShape.OpenHandCursor)

        self._settings = Settings()
        self._custom_label_for: LabelFor | None = None
        self._last_update: FrontData | None = None
        self._paragraphs: tuple[Paragraph, ...] = ()
        self._lag_text = ""
        self._rows: list[Row] | None = None  # layout cache, dropped on any change
        self._highlight: HighlightFinder | None = None  # words to mark (keyword alerts), or none
        self._click_through = False
        self._hover = False
        self._drag_offset: QPoint | None = None
        self._last_reported: tuple[str, list[int]] | None = None

        self._grip = _ResizeGrip(self)
        self._grip.hide()  # shown while the pointer is over the overlay
        self._grip.setAccessibleName("Resize captions")
        self._grip.setAccessibleDescription(
            "Drag to resize the caption overlay; View, Reset overlay position undoes it"
        )
        self._cleared_end: float | None = None  # committed lines ending by then were faded out
        self._hold = CaptionHold(self)  # Settings.caption_hold_s: the last caption's time on screen
        self._hold.opacity_changed.connect(self.update)
        self._hold.expired.connect(self._clear_captions)
        self.scrollback = OverlayScrollback(self, self._history, self._wrap_rows, self._wanted_rows)
        self.scrollback.moved.connect(self._relayout)
        self.scrollback.chip.setAccessibleDescription("Back to the live captions")  # its text names it

        self._geometry_timer = QTimer(self)
        self._geometry_timer.setSingleShot(True)
        self._geometry_timer.setInterval(GEOMETRY_DEBOUNCE_MS)
        self._geometry_timer.timeout.connect(self._report_geometry)

        self._font = QFont()
        self._lag_font = QFont()
        self.apply_settings(settings or Settings())

    # --- public API -------------------------------------------------------------------------

    def show_update(
        self, update: FrontData | Sequence[CaptionLine | tuple], lag_s: float | None = None
    ) -> None:
        """Show a stream snapshot, or ready-made `CaptionLine`s (then pass ``lag_s`` yourself).

        Cheap when nothing visible changed: no layout, no repaint.
        """
        if isinstance(update, FrontData):
            self._last_update = update
            paragraphs = self._paragraphs_of(update)
            lag = update.remaining_time_transcription if lag_s is None else lag_s
        else:
            self._last_update = None
            paragraphs = paragraphs_from_lines(update)
            lag = lag_s or 0.0
        lag_text = f"lag {lag:.1f} s" if lag > LAG_THRESHOLD_S else ""
        self.scrollback.received(update)  # a paused view stays put; its chip counts what arrives
        if paragraphs != self._paragraphs:
            self._hold.restart(bool(paragraphs))
        if paragraphs == self._paragraphs and lag_text == self._lag_text:
            return
        self._paragraphs = paragraphs
        self._lag_text = lag_text
        self._rows = None
        self.update()

    def apply_settings(self, settings: Settings) -> None:
        """Font, colours, backing box, outline, line count, click-through and speaker names.

        Showing or hiding the overlay stays with the caller (tray, main window).
        """
        old_height = self._preferred_height()
        bottom = self.geometry().bottom()  # before setMinimumSize, which may already grow the window
        self._settings = settings
        self._font = self._make_font(settings)
        self._lag_font = QFont(self._font)
        self._lag_font.setPointSizeF(max(9.0, settings.font_size * 0.42))
        self._lag_font.setWeight(QFont.Weight.Medium)
        if self._last_update is not None:
            self._paragraphs = self._paragraphs_of(self._last_update)
        self.setMinimumSize(self._minimum_width(), self._preferred_height())
        if self._preferred_height() != old_height or self.height() < self._preferred_height():
            self.resize(self.width(), self._preferred_height())
            self.move(self.x(), bottom - self.height() + 1)  # rows grow upward, captions stay put
        colors = self._colors()  # the theme's where high contrast overrides the user's
        grip = QColor(colors["text"])
        grip.setAlpha(170)
        self._grip.color = grip
        self._hold.set_hold(settings.caption_hold_s)
        chip_fill, chip_ink = QColor(colors["text"]), QColor(colors["box"])
        chip_ink.setAlpha(255)
        self.scrollback.restyle(self._lag_font, chip_fill, chip_ink)
        self.set_click_through(settings.click_through)
        self._rows = None
        self.update()

    def set_label_for(self, label_for: LabelFor | Mapping[int, str] | None) -> None:
        """Speaker names from the caller (e.g. "You"/"Others" in meeting mode); None: the settings'."""
        if isinstance(label_for, Mapping):
            names = dict(label_for)
            self._custom_label_for = lambda speaker: names.get(speaker, self._settings.label_for(speaker))
        else:
            self._custom_label_for = label_for
        if self._last_update is not None:
            update, self._last_update = self._last_update, None
            self._paragraphs = ()
            self.show_update(update)

    def set_click_through(self, on: bool) -> None:
        """Let clicks fall through to the window below. The way back is the caller's (tray, hotkey)."""
        if on == self._click_through:
            return
        self._click_through = on
        self._drag_offset = None
        self._set_hover(False)
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowTransparentForInput, on)
        if visible:
            self.show()  # changing window flags hides a window
        self.click_through_changed.emit(on)

    def click_through(self) -> bool:
        return self._click_through

    def restore_geometry(self, settings: Settings) -> None:
        """Go back to the most recently used place among the screens connected now.

        Entries in ``settings.overlay_geometry`` are per screen arrangement, newest last (see
        `Settings.with_overlay_geometry`). With none usable: bottom-centre of the primary screen,
        70% of its width. The place is always pulled fully onto its screen.
        """
        screens = {screen_key(screen): screen for screen in QGuiApplication.screens()}
        for key, rect in reversed(settings.overlay_geometry.items()):
            if key in screens:
                target = self._fit(QRect(*rect), screens[key].availableGeometry())
                break
        else:
            target = self._default_geometry()
            key = ""
        self.setGeometry(target)
        self._last_reported = (key or self._current_screen_key(), self._rect_list())

    def visible_lines(self) -> list[str]:
        """The rows as drawn now, top to bottom (speaker prefixes included)."""
        return [row.text for row in self._layout()]

    def set_highlight(self, finder: HighlightFinder | None) -> None:
        """Mark the ranges ``finder`` gives for each row's text (app/gui/overlay_highlight.py); None: none."""
        if finder is not self._highlight:
            self._highlight = finder
            self.update()

    def highlighted_words(self) -> list[str]:
        """The marked text on the rows drawn now, top to bottom."""
        rows = [[(span.text, span.role) for span in row.spans] for row in self._layout()]
        return [part for row in rows for part in highlighted_parts(row, self._highlight)]

    def lag_indicator(self) -> str:
        """The lag text shown in the corner, or "" when the engine keeps up."""
        return self._lag_text

    def sizeHint(self) -> QSize:
        return QSize(max(self._minimum_width(), 640), self._preferred_height())

    # --- metrics and layout -----------------------------------------------------------------

    @staticmethod
    def _make_font(settings: Settings) -> QFont:
        font = QFont(settings.font_family) if settings.font_family else QFont()
        font.setStyleHint(QFont.StyleHint.SansSerif, QFont.StyleStrategy.PreferAntialias)
        font.setPointSizeF(settings.font_size)
        font.setWeight(QFont.Weight.DemiBold)  # thin strokes vanish inside an outline
        return font

    def _line_height(self) -> float:
        return QFontMetricsF(self._font).lineSpacing()

    def _padding(self) -> tuple[int, int, int]:
        """(side, top, bottom): the top also holds the lag indicator."""
        line = self._line_height()
        lag = QFontMetricsF(self._lag_font).height()
        return round(line * 0.4), round(lag + line * 0.1), round(line * 0.3)

    def _preferred_height(self) -> int:
        _, top, bottom = self._padding()
        return int(top + bottom + self._settings.overlay_lines * self._line_height() + 0.999)

    def _minimum_width(self) -> int:
        side, _, _ = self._padding()
        return max(160, int(QFontMetricsF(self._font).averageCharWidth() * 12) + 2 * side)

    def _label_for(self) -> LabelFor:
        return self._custom_label_for or self._settings.label_for

    def _show_mode(self) -> str:
        return self._settings.overlay_translation if self._settings.target_language else "original"

    def _paragraphs_of(self, update: FrontData) -> tuple[Paragraph, ...]:
        """The live view's paragraphs; what the caption hold faded out stays out (this stream's)."""
        self._cleared_end = still_cleared(update, self._cleared_end)
        shown = since_clear(update, self._cleared_end)
        return translated_paragraphs(shown, self._label_for(), self._show_mode())

    def _history(self) -> tuple[Paragraph, ...]:
        """The committed captions scrollback pages through: the last HISTORY_LINES lines, faded or not."""
        if self._last_update is None:  # ready-made lines: the ones given, without the live words
            live = ("live", "translation_live")
            kept = (tuple(span for span in p if span.role not in live) for p in self._paragraphs)
            return tuple(p for p in kept if any(span.role != "label" for span in p))
        update = replace(self._last_update, buffer_transcription="", buffer_translation="")
        return translated_paragraphs(update, self._label_for(), self._show_mode(), HISTORY_LINES)

    def _wrap_rows(self, paragraphs: Sequence[Paragraph]) -> list[Row]:
        side, _, _ = self._padding()
        return [row for p in paragraphs for row in wrap_paragraph(p, self._font, self.width() - 2 * side)]

    def _wanted_rows(self) -> int:
        """How many rows the box shows: the chosen line count, or fewer if it was made too small."""
        _, top, bottom = self._padding()
        fit = int((self.height() - top - bottom) / self._line_height() + 0.01)
        return max(1, min(self._settings.overlay_lines, fit))

    def _relayout(self) -> None:
        self._rows = None
        self.update()

    def _clear_captions(self) -> None:
        """The hold ran out: the caption goes, and the next words start on an empty box."""
        if self._last_update is not None:
            self._cleared_end = committed_end(self._last_update)
            self._paragraphs = self._paragraphs_of(self._last_update)
        else:
            self._paragraphs = ()  # ready-made lines come back if the caller sends them again
        self._relayout()

    def _layout(self) -> list[Row]:
        """The last N rows that fit, newest paragraph at the bottom; cached until something changes."""
        if self._rows is not None:
            return self._rows
        side, _, _ = self._padding()
        wanted = self._wanted_rows()
        if self.scrollback.paused:  # the reader is looking back: the frozen rows, not the live ones
            self._rows = self.scrollback.rows(wanted)
            return self._rows
        rows: list[Row] = []
        for paragraph in reversed(self._paragraphs):
            rows[:0] = wrap_paragraph(paragraph, self._font, self.width() - 2 * side)
            if len(rows) >= wanted:
                break
        self._rows = rows[-wanted:]
        return self._rows

    # --- painting ---------------------------------------------------------------------------

    def _colors(self) -> dict[str, QColor]:
        high_contrast = self._settings.theme == "high_contrast"  # the user's own colours give way
        text = QColor(HIGH_CONTRAST_TEXT if high_contrast else self._settings.text_color)
        outline = QColor("#000000") if _luminance(text) > 0.5 else QColor("#ffffff")
        box = QColor(HIGH_CONTRAST_BOX if high_contrast else self._settings.background_color)
        # Alpha 1 at least: fully transparent pixels let clicks through on some platforms,
        # and the overlay must stay draggable everywhere inside its box.
        box.setAlpha(255 if high_contrast else max(1, round(self._settings.background_opacity * 255)))
        translation = _blend(text, QColor(TRANSLATION_TINT), TRANSLATION_BLEND)
        return {
            "text": text,
            "live": _blend(text, outline, LIVE_BLEND),
            "translation": translation,
            "translation_live": _blend(translation, outline, LIVE_BLEND),
            "outline": outline,
            "box": box,
        }

    def paintEvent(self, event: QPaintEvent) -> None:
        colors = self._colors()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        radius = min(self._line_height() * 0.3, self.height() / 2)
        box = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colors["box"])
        painter.drawRoundedRect(box, radius, radius)
        if self._hover:  # show the window's extent while it can be dragged or resized
            edge = QColor(colors["text"])
            edge.setAlpha(110)
            painter.setPen(QPen(edge, 1.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(box, radius, radius)

        side, top, bottom = self._padding()
        metrics = QFontMetricsF(self._font)
        rows = self._layout()
        baseline = self.height() - bottom - metrics.descent() - (len(rows) - 1) * metrics.lineSpacing()
        painter.setOpacity(1.0 if self.scrollback.paused else self._hold.opacity)  # fading out after the hold
        for row in rows:
            self._draw_row(painter, row, side, baseline, colors)
            baseline += metrics.lineSpacing()
        painter.setOpacity(1.0)
        if self._lag_text:
            lag_metrics = QFontMetricsF(self._lag_font)
            x = self.width() - side - lag_metrics.horizontalAdvance(self._lag_text)
            y = round(top * 0.1) + lag_metrics.ascent()
            self._draw_text(painter, [(self._lag_text, QColor(LAG_COLOR))], self._lag_font, x, y, colors)
        painter.end()

    def _draw_row(self, painter: QPainter, row: Row, x: float, y: float, colors: dict[str, QColor]) -> None:
        if self._highlight is not None:
            pieces = [(span.text, span.role) for span in row.spans]
            paint_highlights(painter, pieces, self._font, x, y, self._highlight)
        pieces = []
        for span in row.spans:
            if span.role == "label":
                color = QColor(span.color) if span.color else colors["text"]
            else:
                color = colors[span.role]
            pieces.append((span.text, color))
        self._draw_text(painter, pieces, self._font, x, y, colors)

    def _draw_text(
        self,
        painter: QPainter,
        pieces: list[tuple[str, QColor]],
        font: QFont,
        x: float,
        y: float,
        colors: dict[str, QColor],
    ) -> None:
        """Coloured pieces on one baseline; with the outline on, every outline goes under every fill."""
        metrics = QFontMetricsF(font)
        if not self._settings.outline:
            painter.setFont(font)
            for text, color in pieces:
                painter.setPen(color)
                painter.drawText(QPoint(round(x), round(y)), text)
                x += metrics.horizontalAdvance(text)
            return
        paths = []
        for text, color in pieces:
            path = QPainterPath()
            path.addText(x, y, font, text)
            paths.append((path, color))
            x += metrics.horizontalAdvance(text)
        width = max(2.0, metrics.ascent() * 0.16)
        pen = QPen(colors["outline"], width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        for path, _ in paths:
            painter.strokePath(path, pen)
        for path, color in paths:
            painter.fillPath(path, color)

    # --- moving, resizing, remembering ------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._click_through:
            super().mousePressEvent(event)
            return
        event.accept()
        handle = self.windowHandle()
        if handle is not None and handle.startSystemMove():
            return  # the window manager moves it (the only way on Wayland)
        self._drag_offset = event.globalPosition().toPoint() - self.frameGeometry().topLeft()
        self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_offset is None or not event.buttons() & Qt.MouseButton.LeftButton:
            super().mouseMoveEvent(event)
            return
        event.accept()
        self.move(event.globalPosition().toPoint() - self._drag_offset)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag_offset is not None and event.button() == Qt.MouseButton.LeftButton:
            self._drag_offset = None
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def enterEvent(self, event) -> None:
        self._set_hover(not self._click_through)
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:
        self._set_hover(False)
        super().leaveEvent(event)

    def _set_hover(self, on: bool) -> None:
        if on != self._hover:
            self._hover = on
            self._grip.setVisible(on)
            self.update()

    def moveEvent(self, event) -> None:
        super().moveEvent(event)
        self._schedule_report()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        size = self._grip.sizeHint()
        self._grip.setGeometry(self.width() - size.width(), self.height() - size.height(), *size.toTuple())
        self._rows = None
        self._schedule_report()

    def _schedule_report(self) -> None:
        if self.isVisible():
            self._geometry_timer.start()  # restarts: one report when the moving stops

    def _report_geometry(self) -> None:
        place = (self._current_screen_key(), self._rect_list())
        if place != self._last_reported:
            self._last_reported = place
            self.geometry_changed.emit(*place)

    def _rect_list(self) -> list[int]:
        geometry = self.geometry()
        return [geometry.x(), geometry.y(), geometry.width(), geometry.height()]

    def _current_screen_key(self) -> str:
        screen = QGuiApplication.screenAt(self.geometry().center()) or self.screen()
        return screen_key(screen or QGuiApplication.primaryScreen())

    def _fit(self, rect: QRect, area: QRect) -> QRect:
        """``rect`` resized to the overlay's limits and moved fully inside ``area``."""
        width = min(max(rect.width(), self.minimumWidth()), area.width())
        height = min(max(rect.height(), self.minimumHeight()), area.height())
        x = min(max(rect.x(), area.left()), area.left() + area.width() - width)
        y = min(max(rect.y(), area.top()), area.top() + area.height() - height)
        return QRect(x, y, width, height)

    def default_width(self) -> int:
        """Wide enough for DEFAULT_LINE_CHARS characters of ordinary text at the current font."""
        side, _, _ = self._padding()
        per_char = QFontMetricsF(self._font).horizontalAdvance(LINE_SAMPLE) / len(LINE_SAMPLE)
        return round(per_char * DEFAULT_LINE_CHARS + 2 * side)

    def reset_geometry(self) -> None:
        """Back to the first-run place (bottom centre of the primary screen): the keyboard's way to
        bring back an overlay dragged off-screen or made too small, since the overlay takes no keys."""
        self.setGeometry(self._default_geometry())

    def _default_geometry(self) -> QRect:
        area = QGuiApplication.primaryScreen().availableGeometry()
        width = min(self.default_width(), round(area.width() * DEFAULT_MAX_WIDTH_SHARE))
        height = self._preferred_height()
        x = area.left() + (area.width() - width) // 2
        y = area.top() + area.height() - height - round(area.height() * DEFAULT_BOTTOM_MARGIN_SHARE)
        return self._fit(QRect(x, y, width, height), area)
