"""The Models dialog: the catalogue, how fast each model runs here, and getting or removing one.

A dialog of its own rather than more entries in the Model box: choosing a model trades accuracy
against how far captions trail speech, and only a measurement on this machine says where that
line is. So the dialog shows the last calibration (``app.core.calibration_run``) beside each
model, with the sentence saying why it does or does not keep up, and the recommended model in
bold. Downloads happen only when the user presses Download; they and calibrations run on a
ModelWorker thread, so the window stays live, and Cancel keeps a download's partial file so
the next Download resumes it. Every failure is shown as the engine's one sentence.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.calibration import Choice, Verdict
from app.core.calibration_run import CalibrationCancelled, Measurement, calibrate, choose_from, load_last
from app.core.model_catalog import CATALOG, CatalogModel
from app.core.model_download import (
    DownloadCancelled,
    download_model,
    install_state,
    installed_models,
    remove_model,
)
from app.core.model_errors import ModelError
from app.core.sizes import format_size
from app.gui.accessibility import describe
from app.gui.model_worker import ModelWorker, Report
from app.gui.settings import model_name

COLUMNS = ("Model", "Size", "Languages", "Speed here", "State")
CALIBRATION = ""  # the worker's label for a calibration; a download's is the model's name
BAR_STEPS = 1000
NOT_CALIBRATED = "Not measured yet: Calibrate times the installed models on this computer in a few seconds."

Blocked = Callable[[], str | None]
"""Why models cannot be switched or measured now (captioning, say), or None when they can."""


def model_summary(model: str, device: str, compute_type: str) -> str:
    """The status bar's words for the loaded model: "base · CPU · int8"; a folder by its name."""
    return f"{model_name(model)} · {'GPU' if device == 'cuda' else device.upper()} · {compute_type}"


def _download(
    name: str, catalog: Sequence[CatalogModel], report: Report, cancelled: Callable[[], bool]
) -> Path:
    """The worker's task for Download: the engine's download, its bytes as a fraction and words."""

    def progress(done: int, total: int) -> None:
        report(done / total if total else 0.0, f"{format_size(done)} of {format_size(total)}")

    return download_model(name, progress=progress, cancelled=cancelled, catalog=catalog)


def _calibrate(language: str, report: Report, cancelled: Callable[[], bool]) -> tuple[Measurement, Choice]:
    return calibrate(language, progress=report, cancelled=cancelled)


def _when(iso: str) -> str:
    """A saved calibration's time as a person reads it: "2025-06-01 10:00" (the file's own text if odd)."""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


class ModelsDialog(QDialog):
    """The catalogue as a table; Download, Cancel, Remove, Use this model, Calibrate."""

    model_chosen = Signal(str)  # "Use this model": the window switches to it and reloads the engine
    models_changed = Signal()  # a model was installed or removed: the window's Model box follows
    calibrated = Signal()  # a calibration was saved

    def __init__(
        self,
        current: str,
        language: str,
        blocked: Blocked = lambda: None,
        parent: QWidget | None = None,
        catalog: Sequence[CatalogModel] = CATALOG,
    ) -> None:
        super().__init__(parent, objectName="modelsDialog")
        self.current = current
        self.language = language
        self._blocked = blocked
        self.catalog = tuple(catalog)
        self._measurement = load_last()  # the last calibration; None before the first
        self._choice: Choice | None = None  # what it recommends for the language and the models there now
        self._fraction: dict[str, float] = {}  # downloads under way, by model
        self._close_when_idle = False
        self.worker = ModelWorker((DownloadCancelled, CalibrationCancelled), self)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.setWindowTitle("Speech models")
        self._build()
        self.refresh()
        self.table.selectRow(max(self._row_of(current), 0))
        self.table.setFocus()  # arrows pick a model at once; the buttons act on it

    # -- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Larger models are more accurate but slower. Sayline downloads a model only when you "
            "press Download; the bundled ones work without a network."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        calibration_row = QHBoxLayout()
        self.summary = QLabel(objectName="calibrationSummary")
        self.summary.setWordWrap(True)
        calibration_row.addWidget(self.summary, 1)
        self.calibrate_button = self._button("Ca&librate", "calibrateButton", self.calibrate, calibration_row)
        layout.addLayout(calibration_row)
        self.table = QTableWidget(len(self.catalog), len(COLUMNS), objectName="modelTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTabKeyNavigation(False)  # Tab moves on to the buttons; arrows move between rows
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._sync)
        layout.addWidget(self.table, 1)
        self.why = QLabel(objectName="modelWhy")  # the selected model's verdict, in a sentence
        self.why.setWordWrap(True)
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.why)
        progress_row = QHBoxLayout()  # shown while a download or calibration runs
        self.progress = QProgressBar(minimum=0, maximum=BAR_STEPS, objectName="modelProgress")
        self.progress.setTextVisible(False)  # the theme's bar is a thin line; the words are beside it
        self.progress_text = QLabel(objectName="modelProgressText")
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.progress_text, 1)
        self.cancel_button = self._button("&Cancel", "cancelModelButton", self.cancel, progress_row)
        layout.addLayout(progress_row)
        self.status = QLabel(objectName="modelStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.download_button = self._button("&Download", "downloadModelButton", self._download, buttons)
        self.remove_button = self._button("&Remove…", "removeModelButton", self._remove, buttons)
        self.use_button = self._button("&Use this model", "useModelButton", self.use_selected, buttons)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        close.button(QDialogButtonBox.StandardButton.Close).setAccessibleDescription(
            "Close this dialog; a download under way is cancelled and resumes at the next Download"
        )
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self._show_progress(False)
        self.resize(780, 640)
        describe(self)

    @staticmethod
    def _button(text: str, name: str, slot: Callable[[], object], row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text, objectName=name)
        button.clicked.connect(lambda: slot())
        row.addWidget(button)
        return button

    # -- what the table shows -------------------------------------------------------------

    def _verdict(self, name: str) -> Verdict | None:
        if self._choice is None:
            return None
        return next((v for v in self._choice.verdicts if v.model == name), None)

    def _row_of(self, name: str) -> int:
        return next((row for row, model in enumerate(self.catalog) if model.name == name), -1)

    def selected(self) -> CatalogModel | None:
        rows = self.table.selectionModel().selectedRows()
        return self.catalog[rows[0].row()] if rows else None

    def state(self, model: CatalogModel, installed: set[str] | None = None) -> str:
        """bundled, installed, available (or partly downloaded), or "downloading 42%"; "· in use"
        for the current model."""
        installed = set(installed_models()) if installed is None else installed
        if model.name in self._fraction:
            text = f"downloading {self._fraction[model.name]:.0%}"
        else:
            text = install_state(model, installed)
        return f"{text} · in use" if model.name == self.current else text

    def refresh(self) -> None:
        """Fill every row again from the disk and the last calibration, keeping the selection.

        The recommendation is chosen again each time: a download or a new caption language since
        the measurement changes it, and choosing is arithmetic on the saved timings.
        """
        installed = set(installed_models())
        measurement = self._measurement
        self._choice = choose_from(measurement, self.language) if measurement else None
        pick = self._choice.pick if self._choice else None
        for row, model in enumerate(self.catalog):
            verdict = self._verdict(model.name)
            name = f"{model.name} (recommended)" if model.name == pick else model.name
            cells = (
                name,
                format_size(model.size_bytes),
                "English" if model.english_only else "Multilingual",
                self._speed(verdict),
                self.state(model, installed),
            )
            for column, text in enumerate(cells):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, column, item)
                item.setText(text)
                item.setToolTip(verdict.why if verdict else NOT_CALIBRATED)
                font = QFont(item.font())
                font.setBold(model.name == pick)
                item.setFont(font)
        if self._choice is None or measurement is None:
            self.summary.setText(NOT_CALIBRATED)
        else:
            self.summary.setText(f"{self._choice.summary} (Measured {_when(measurement.measured_at)}.)")
        self._sync()

    @staticmethod
    def _speed(verdict: Verdict | None) -> str:
        if verdict is None or verdict.timing is None:
            return "–"
        if verdict.timing.estimated:
            return f"≈ {verdict.timing.rtf:.2g}× real time (estimated)"
        return f"{verdict.timing.rtf:.2g}× real time"

    def _sync(self) -> None:
        """The buttons that fit the selected model and what is running; its why below the table."""
        model = self.selected()
        busy = self.worker.busy
        installed = model is not None and (model.bundled or model.name in installed_models())
        verdict = self._verdict(model.name) if model else None
        self.why.setText(verdict.why if verdict else (NOT_CALIBRATED if model else ""))
        self.download_button.setEnabled(model is not None and not installed and not busy)
        self.cancel_button.setEnabled(busy and not self._close_when_idle)
        removable = installed and model is not None and not model.bundled and model.name != self.current
        self.remove_button.setEnabled(removable and not busy)
        self.use_button.setEnabled(installed and model is not None and model.name != self.current)
        self.calibrate_button.setEnabled(not busy)

    def _say(self, text: str) -> None:
        """The outcome line, also handed to a screen reader (politely: it never cuts the user off)."""
        self.status.setText(text)
        if text:
            QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(self.status, text))

    def _show_progress(self, on: bool, text: str = "") -> None:
        for widget in (self.progress, self.progress_text, self.cancel_button):
            widget.setVisible(on)
        self.progress_text.setText(text)
        if not on:
            self.progress.setValue(0)

    # -- actions --------------------------------------------------------------------------

    def download(self, name: str) -> bool:
        """Start downloading ``name`` (resuming a cancelled one); False while something else runs."""
        task = functools.partial(_download, name, self.catalog)
        if not self.worker.start(name, task):
            return False
        self._fraction[name] = 0.0
        self._say("")
        self._show_progress(True, f"Downloading {name}…")
        self.refresh()
        return True

    def _download(self) -> None:
        model = self.selected()
        if model is not None:
            self.download(model.name)

    def calibrate(self) -> bool:
        """Time the installed models here and recommend one; False when it cannot run now."""
        reason = self._blocked()
        if reason:
            self._say(reason)
            return False
        if not self.worker.start(CALIBRATION, functools.partial(_calibrate, self.language)):
            self._say("Wait for the download to finish, or cancel it, before calibrating.")
            return False
        self._say("")
        self._show_progress(True, "Calibrating…")
        self._sync()
        return True

    def cancel(self) -> None:
        """Stop the download or calibration under way; a download's partial file is kept."""
        if self.worker.busy:
            self.worker.cancel()
            self.progress_text.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _remove(self) -> None:
        model = self.selected()
        if model is None:
            return
        question = f"Remove {model.name} ({format_size(model.size_bytes)})? Download brings it back."
        if QMessageBox.question(self, "Remove model", question) == QMessageBox.StandardButton.Yes:
            self.remove(model.name)

    def remove(self, name: str) -> None:
        try:
            remove_model(name)
        except ModelError as exc:
            self._say(str(exc))
        else:
            self._say(f"Removed {name}.")
            self.models_changed.emit()
        self.refresh()

    def use_selected(self) -> None:
        """Switch the app to the selected model, unless captioning (say) forbids it now."""
        model = self.selected()
        if model is None:
            return
        reason = self._blocked()
        if reason:
            self._say(reason)
            return
        self.set_current(model.name)
        self._say(f"Sayline now uses {model.name}; it is loading.")
        self.model_chosen.emit(model.name)

    def set_current(self, name: str) -> None:
        """The model the app uses (it may also change in the window's Model box)."""
        self.current = name
        self.refresh()

    # -- the worker's reports ---------------------------------------------------------------

    def _on_progress(self, label: str, fraction: float, text: str) -> None:
        if self.cancel_button.isEnabled():  # not after Cancel: "Cancelling…" stays
            self.progress.setValue(round(BAR_STEPS * fraction))
            self.progress_text.setText(f"Downloading {label}: {text}" if label else text)
        row = self._row_of(label)
        if label in self._fraction and row >= 0:
            self._fraction[label] = fraction
            self.table.item(row, COLUMNS.index("State")).setText(self.state(self.catalog[row]))

    def _on_finished(self, label: str, result: object) -> None:
        if label == CALIBRATION:
            self._measurement = result[0]  # type: ignore[index]  # its choice is made again in refresh
            self._ended()
            self._say(self._choice.summary if self._choice else NOT_CALIBRATED)
            self.calibrated.emit()
        else:
            self._fraction.pop(label, None)
            self._ended()
            self._say(f"{label} is installed; Use this model switches to it.")
            self.models_changed.emit()

    def _on_failed(self, label: str, sentence: str) -> None:
        self._fraction.pop(label, None)
        self._say(sentence)
        self._ended()

    def _on_cancelled(self, label: str) -> None:
        self._fraction.pop(label, None)
        if label == CALIBRATION:
            self._say("Calibration cancelled; the last result is kept.")
        else:
            self._say(f"Download of {label} cancelled; Download resumes it where it stopped.")
        self._ended()

    def _ended(self) -> None:
        self._show_progress(False)
        self.refresh()
        if self._close_when_idle:
            self._close_when_idle = False
            super().reject()

    # -- closing ----------------------------------------------------------------------------

    def reject(self) -> None:
        """Close (Esc, Close, the title bar): a task under way is cancelled first, then it closes."""
        if self.worker.busy:
            self._close_when_idle = True
            self.cancel()
            return
        super().reject()

    def shutdown(self) -> None:
        """At quit: cancel and wait, so no thread outlives the app (a partial download is kept)."""
        self.worker.shutdown()
