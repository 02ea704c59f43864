"""Ctrl+F in the transcript: a find bar that marks every hit, counts them, and steps through them.

Why its own widget over any list view: the transcript keeps growing while the user searches, so
the hits are kept per row and only the rows the model reports as new or changed are searched
again (a long session is never rescanned per caption line). While the bar holds a search, the
main window stops pulling the transcript to its newest line (`holds_view`), so the hit being
read does not scroll away.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app.gui.hit_delegate import HitDelegate, Span


@dataclass(frozen=True)
class Hit:
    """One occurrence of the query: a row and a range in that row's display text."""

    row: int
    start: int
    end: int


def find_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Every occurrence of ``query`` in ``text``, ignoring case, as (start, end); none for a blank query."""
    if not query.strip():
        return []
    return [match.span() for match in re.finditer(re.escape(query), text, re.IGNORECASE)]


def find_hits(texts: Iterable[str], query: str) -> list[Hit]:
    """Every occurrence in a list of texts, in reading order."""
    return [Hit(row, start, end) for row, text in enumerate(texts) for start, end in find_spans(text, query)]


def count_text(current: int, total: int, query: str) -> str:
    """The count beside the field: "3 of 12", "No matches", or nothing before anything is typed."""
    if not query.strip():
        return ""
    if not total:
        return "No matches"
    return f"{current + 1} of {total}"


class FindBar(QWidget):
    """A find bar for ``view``'s rows (their display text); hidden until Ctrl+F.

    Enter or F3: next hit; Shift+Enter or Shift+F3: previous; Esc or the × closes it and
    takes the marks away. Hits wrap around at either end.
    """

    def __init__(self, view: QAbstractItemView, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="findBar")
        self._view = view
        self._row_spans: list[list[tuple[int, int]]] = []  # per row, the hits in its text
        self._hits: list[Hit] = []
        self._current = -1
        self._active = False  # opened and not dismissed: hits are kept up to date only then

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(objectName="findEdit", placeholderText="Find in transcript")
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(lambda _: self._search())
        self.edit.installEventFilter(self)
        layout.addWidget(self.edit, 1)
        self.count_label = QLabel(objectName="findCount")
        self.count_label.setMinimumWidth(self.count_label.fontMetrics().horizontalAdvance("9999 of 9999"))
        layout.addWidget(self.count_label)
        self.previous_button = QPushButton("↑", toolTip="Previous (Shift+Enter, Shift+F3)")
        self.previous_button.clicked.connect(self.previous)
        layout.addWidget(self.previous_button)
        self.next_button = QPushButton("↓", toolTip="Next (Enter, F3)")
        self.next_button.clicked.connect(self.next)
        layout.addWidget(self.next_button)
        close_button = QPushButton("×", toolTip="Close (Esc)")
        close_button.clicked.connect(self.dismiss)
        layout.addWidget(close_button)
        self.edit.setAccessibleName("Find in transcript")
        self.count_label.setAccessibleName("Matches")
        for button, name in ((self.previous_button, "Previous match"), (self.next_button, "Next match"),
                             (close_button, "Close the find bar")):
            button.setAccessibleName(name)  # a screen reader would otherwise read an arrow sign
            button.setFixedWidth(button.fontMetrics().horizontalAdvance("××") + 30)  # glyph-sized

        view.setItemDelegate(HitDelegate(self._spans_in_row, view))
        model = view.model()
        model.rowsInserted.connect(self._rows_inserted)
        model.rowsRemoved.connect(self._rows_removed)
        model.dataChanged.connect(self._data_changed)
        model.modelReset.connect(self._search_all)
        model.layoutChanged.connect(self._search_all)

        # On the view (always shown) so Ctrl+F and F3 work from anywhere in its window.
        window_wide = Qt.ShortcutContext.WindowShortcut
        QShortcut(QKeySequence.StandardKey.Find, view, self.open, context=window_wide)
        QShortcut(QKeySequence("F3"), view, self._next_or_open, context=window_wide)
        QShortcut(QKeySequence("Shift+F3"), view, self._previous_or_open, context=window_wide)
        QShortcut(QKeySequence("Esc"), self, self.dismiss, context=window_wide)  # only while shown
        self.hide()

    # --- public -----------------------------------------------------------------------------

    def query(self) -> str:
        return self.edit.text()

    def hits(self) -> list[Hit]:
        return list(self._hits)

    def current(self) -> Hit | None:
        return self._hits[self._current] if 0 <= self._current < len(self._hits) else None

    def holds_view(self) -> bool:
        """Whether the view should stay where the search put it instead of following new lines."""
        return self._active and bool(self.query().strip())

    def open(self) -> None:
        """Show the bar with its last query selected, ready to type over; the marks come back."""
        self._active = True
        self.show()
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()
        self._search()

    def dismiss(self) -> None:
        """Hide the bar and its marks; the keyboard goes back to the transcript."""
        if not self._active:
            return
        self._active = False
        self.hide()
        self._hits, self._row_spans, self._current = [], [], -1
        self._view.viewport().update()
        self._view.setFocus(Qt.FocusReason.OtherFocusReason)

    def next(self) -> None:
        self._step(1)

    def previous(self) -> None:
        self._step(-1)

    # --- searching --------------------------------------------------------------------------

    def _spans_of(self, first: int, last: int) -> list[list[tuple[int, int]]]:
        """The hits in rows ``first``..``last`` (inclusive) of the view's model."""
        model, query = self._view.model(), self.query()
        texts = (str(model.data(model.index(row, 0)) or "") for row in range(first, last + 1))
        return [find_spans(text, query) for text in texts]

    def _search(self) -> None:
        """The query changed: search every row, and go to the first hit from the top of the view."""
        self._search_all()
        top = self._view.indexAt(self._view.viewport().rect().topLeft()).row()
        below = (i for i, hit in enumerate(self._hits) if hit.row >= top)
        self._current = next(below, 0) if self._hits else -1
        self._show_current()

    def _search_all(self, *_: object) -> None:
        if not self._active:
            return
        rows = self._view.model().rowCount()
        self._row_spans = self._spans_of(0, rows - 1)
        self._rebuild()

    def _rows_inserted(self, parent: QModelIndex | QPersistentModelIndex, first: int, last: int) -> None:
        if self._active and not parent.isValid():
            self._row_spans[first:first] = self._spans_of(first, last)
            self._rebuild()

    def _rows_removed(self, parent: QModelIndex | QPersistentModelIndex, first: int, last: int) -> None:
        if self._active and not parent.isValid():
            del self._row_spans[first : last + 1]
            self._rebuild()

    def _data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, *_: object) -> None:
        if self._active:
            first, last = top_left.row(), bottom_right.row()
            self._row_spans[first : last + 1] = self._spans_of(first, last)
            self._rebuild()

    def _rebuild(self) -> None:
        """Flatten the per-row hits, keeping the current hit where it still is (rows only grow)."""
        kept = self.current()
        self._hits = [Hit(row, *span) for row, spans in enumerate(self._row_spans) for span in spans]
        if kept is None:
            self._current = 0 if self._hits else -1
        else:
            after = (i for i, hit in enumerate(self._hits) if (hit.row, hit.start) >= (kept.row, kept.start))
            self._current = next(after, len(self._hits) - 1)
        self._update_count()
        self._view.viewport().update()

    # --- moving -----------------------------------------------------------------------------

    def _step(self, direction: int) -> None:
        if not self._hits:
            return
        self._current = (self._current + direction) % len(self._hits)
        self._show_current()

    def _next_or_open(self) -> None:
        if self._active:
            self.next()
        else:
            self.open()

    def _previous_or_open(self) -> None:
        if self._active:
            self.previous()
        else:
            self.open()

    def _show_current(self) -> None:
        hit = self.current()
        if hit is not None:
            index = self._view.model().index(hit.row, 0)
            self._view.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        self._update_count()
        self._view.viewport().update()

    def _update_count(self) -> None:
        self.count_label.setText(count_text(self._current, len(self._hits), self.query()))
        for button in (self.previous_button, self.next_button):
            button.setEnabled(len(self._hits) > 1)

    def _spans_in_row(self, row: int) -> list[Span]:
        """What the delegate marks in a row: each hit, the current one flagged."""
        if not 0 <= row < len(self._row_spans) or not self._row_spans[row]:
            return []
        current = self.current()
        return [
            (start, end, current is not None and (current.row, current.start) == (row, start))
            for start, end in self._row_spans[row]
        ]

    # --- keys in the field ------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
                self._step(-1 if shift else 1)
                return True
            if event.key() == Qt.Key.Key_Escape:
                self.dismiss()
                return True
        return super().eventFilter(watched, event)
