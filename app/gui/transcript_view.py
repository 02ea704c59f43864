"""The main window's transcript: a Qt list model over the session record (model/view)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.core.frontdata import format_time
from app.gui.overlay import speaker_color
from app.transcript.record import SourcedLine

PAUSE_COLOR = "#8a8f98"  # a pause row: quieter than speech, still 5:1 on either theme's transcript


class TranscriptModel(QAbstractListModel):
    """Rows are caption lines in time order; only changed rows are announced to the view."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[SourcedLine] = []
        self.label_for = lambda entry: entry.source

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self._rows[index.row()]
        line = entry.line
        if role == Qt.ItemDataRole.DisplayRole:
            if line.is_silence:
                return f"{format_time(line.start)}   · pause {line.end - line.start:.1f} s ·"
            label = self.label_for(entry)
            prefix = f"{label}: " if label else ""
            translated = line.translation if line.translation != line.text else ""
            under = f"\n{' ' * 14}→ {translated}" if translated else ""
            return f"{format_time(line.start)}   {prefix}{line.text}{under}"
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(PAUSE_COLOR) if line.is_silence else QColor(speaker_color(max(line.speaker, 1)))
        if role == Qt.ItemDataRole.ToolTipRole and not line.is_silence:
            return f"{format_time(line.start)} – {format_time(line.end)}"
        return None

    def set_rows(self, rows: list[SourcedLine]) -> None:
        """Append-only in practice: new rows are inserted, changed ones repainted."""
        old = self._rows
        same_prefix = len(old) <= len(rows) and all(
            (a.source, a.index) == (b.source, b.index) for a, b in zip(old, rows, strict=False)
        )
        if not same_prefix:
            self.beginResetModel()
            self._rows = rows
            self.endResetModel()
            return
        changed = [i for i, (a, b) in enumerate(zip(old, rows, strict=False)) if a != b]
        if len(rows) > len(old):
            self.beginInsertRows(QModelIndex(), len(old), len(rows) - 1)
            self._rows = rows
            self.endInsertRows()
        else:
            self._rows = rows
        for row in changed:
            self.dataChanged.emit(self.index(row), self.index(row))

    def refresh(self) -> None:
        """Repaint every row, e.g. after a speaker was renamed."""
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1))

    def speaker_at(self, row: int) -> int | None:
        """The speaker of a row that a name can be given to (None for pauses and meeting sources)."""
        if not 0 <= row < len(self._rows):
            return None
        entry = self._rows[row]
        return entry.line.speaker if entry.line.speaker > 0 and not entry.source else None

    def plain_text(self) -> str:
        return "\n".join(self.data(self.index(row)) for row in range(len(self._rows)))
