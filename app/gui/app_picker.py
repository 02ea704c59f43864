"""The application picker shown beside the source box for "One application…": a list and a refresh.

Listing asks the sound server (``pactl``), which must not stall the window, so it runs on a short
worker thread and the answer comes back as a queued signal; an answer overtaken by a newer refresh
is dropped. Applications are listed when the picker appears and when the user presses refresh: a
list kept up to date on its own would poll the sound server all the time for a box rarely looked at.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QStyle, QToolButton, QWidget

from app.audio import AudioError, PlayingApp, list_playing_apps

log = logging.getLogger(__name__)

NONE_PLAYING = "No application is playing"
TIP = (
    "The application to caption: only its sound is captioned, and you still hear it. "
    "Start its sound, then refresh the list."
)

Lister = Callable[[], list[PlayingApp]]


class AppPicker(QWidget):
    """Which playing application to caption; ``current_key()`` is what ``CaptureSource("app", …)`` takes."""

    listed = Signal(int, object)  # refresh number, [PlayingApp] or the sentence saying why there is none
    changed = Signal()  # the list was refilled (for tests and the screenshot script)

    def __init__(self, parent: QWidget | None = None, lister: Lister = list_playing_apps) -> None:
        super().__init__(parent)
        self._lister = lister
        self._refreshes = 0
        self.problem = ""  # why no application can be listed ("" when the list worked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.combo = QComboBox(objectName="appCombo")
        self.combo.setMinimumWidth(220)
        self.combo.setToolTip(TIP)
        self.combo.setAccessibleName("Application to caption")
        self.combo.addItem(NONE_PLAYING, None)
        layout.addWidget(self.combo, 1)
        self.refresh_button = QToolButton(objectName="appRefreshButton")
        self.refresh_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_button.setToolTip("List the applications playing sound now")
        self.refresh_button.setAccessibleName("Refresh the list of applications")
        self.refresh_button.clicked.connect(self.refresh)
        layout.addWidget(self.refresh_button)
        self.listed.connect(self._fill)

    def current_key(self) -> str | None:
        """The chosen application's key; None when none is playing or listing failed."""
        return self.combo.currentData()

    def refresh(self) -> None:
        """List the playing applications again, off the Qt thread; ``changed`` follows."""
        self._refreshes += 1
        threading.Thread(
            target=self._list, args=(self._refreshes,), name="sayline-app-list", daemon=True
        ).start()

    def _list(self, number: int) -> None:
        result: list[PlayingApp] | str
        try:
            result = self._lister()
        except AudioError as exc:
            result = str(exc)
        except Exception:  # a bug here must not take the window down with it
            log.exception("listing the playing applications failed")
            result = "Sayline could not list the applications playing sound; see its log for details."
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile
            self.listed.emit(number, result)

    def _fill(self, number: int, result: list[PlayingApp] | str) -> None:
        if number != self._refreshes:
            return  # a newer refresh is on its way
        chosen = self.current_key()
        apps = result if isinstance(result, list) else []
        self.problem = result if isinstance(result, str) else ""
        with QSignalBlocker(self.combo):
            self.combo.clear()
            for app in apps:
                self.combo.addItem(app.label, app.key)
                self.combo.setItemData(self.combo.count() - 1, app.details, Qt.ItemDataRole.ToolTipRole)
            if not apps:
                self.combo.addItem("Not available" if self.problem else NONE_PLAYING, None)
            self.combo.setCurrentIndex(max(0, self.combo.findData(chosen)) if chosen else 0)
        self.combo.setToolTip(self.problem or TIP)
        self.changed.emit()

    def showEvent(self, event: QShowEvent) -> None:
        """Appearing (the source just became "One application…", or the window opened with it) lists."""
        super().showEvent(event)
        self.refresh()
