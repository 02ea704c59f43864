"""Help ▸ Keyboard shortcuts (F1): the shortcut table as a dialog a screen reader can walk.

A table rather than a block of text: a screen reader reads each row's key and action together
and announces the column headers, and the keys are shown in the platform's words (⌘ on macOS).
It lists `app.gui.shortcuts.SHORTCUTS`, the table the main window binds, and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.shortcuts import GROUPS, SHORTCUTS, Shortcut


def key_text(keys: str) -> str:
    """``keys`` as the platform writes it (Ctrl+Return, ⌘↩); as given when Qt cannot parse it."""
    sequence = QKeySequence(keys)
    shown = sequence.toString(QKeySequence.SequenceFormat.NativeText)
    return shown or keys


class ShortcutsDialog(QDialog):
    """Keys, what they do, and where, grouped in GROUPS order; closes with Esc or Close."""

    def __init__(self, parent: QWidget | None = None, shortcuts: Sequence[Shortcut] = SHORTCUTS) -> None:
        super().__init__(parent, objectName="shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.setAccessibleName("Keyboard shortcuts")
        self.setAccessibleDescription("Every key Sayline responds to, by what it does")
        rows = sorted(shortcuts, key=lambda s: GROUPS.index(s.group) if s.group in GROUPS else len(GROUPS))
        layout = QVBoxLayout(self)
        self.table = QTableWidget(len(rows), 3, objectName="shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Keys", "What it does", "Where"])
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setAccessibleDescription("One row per shortcut: the keys, what they do, and where")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the Close button
        self.table.setWordWrap(True)
        for row, shortcut in enumerate(rows):
            keys = ", ".join(key_text(keys) for keys in shortcut.all_keys())
            for column, text in enumerate((keys, shortcut.does, shortcut.group)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.resizeRowsToContents()
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleDescription("Close this list")
        layout.addWidget(buttons)
        self.table.setCurrentCell(0, 0)
        self.resize(720, 560)

    def listed(self) -> list[tuple[str, str]]:
        """(keys, what it does) per row, as shown."""
        return [(self.table.item(row, 0).text(), self.table.item(row, 1).text())
                for row in range(self.table.rowCount())]
