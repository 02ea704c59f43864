"""The status bar's note while a stopped session is refined: which one, how far, and Cancel.

Refining runs in the background and may take a while on a long session; the user sees that it
is happening, that the window is not waiting for it (Start works meanwhile), and can give it up.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSizePolicy, QWidget

STEPS = 1000  # the bar's resolution


class RefinePanel(QWidget):
    cancel_requested = Signal()

    def __init__(self) -> None:
        super().__init__(objectName="refinePanel")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.bar = QProgressBar(minimum=0, maximum=STEPS, maximumWidth=160, objectName="refineProgress")
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel", objectName="cancelRefineButton")
        self.cancel_button.setToolTip("Keep the live transcript as it is")
        self.cancel_button.clicked.connect(self._cancel)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        # Fixed: the room it does not need stays the status bar message's.
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.setVisible(False)

    def begin(self) -> None:
        """A session is to be refined (it starts once its last words are in)."""
        self.cancel_button.setEnabled(True)
        self.bar.setValue(0)

    def set_current(self, current: bool) -> None:
        """``current``: the transcript shown is the one refined, rather than a previous session's."""
        if self.cancel_button.isEnabled():  # "Cancelling…" stays until the engine answers
            self.label.setText("Refining the transcript…" if current else "Refining the previous session…")

    def set_progress(self, done_s: float, total_s: float) -> None:
        self.bar.setValue(round(STEPS * done_s / total_s) if total_s > 0 else 0)
        self.bar.setToolTip(f"{done_s:.0f} s of {total_s:.0f} s refined")

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)  # once: the answer comes when the engine stops
        self.label.setText("Cancelling…")
        self.cancel_requested.emit()
