"""The Models dialog offscreen: states, downloads from a loopback hub (progress, cancel and resume,
failures), remove, a recorded calibration, and the window's Models… hooks and model label."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton

from app.core.calibration import Timing
from app.core.calibration_run import CalibrationCancelled, Measurement, choose_from, save
from app.core.model_catalog import find_model
from app.core.model_download import HUB_ENV, installed_models, model_dir, models_dir
from app.core.models import resolve_model
from app.core.sizes import format_size
from app.gui import models_dialog
from app.gui.models_dialog import COLUMNS, NOT_CALIBRATED, ModelsDialog, model_summary
from tests.gui.test_accessibility import unnamed_controls
from tests.hub import FakeHub, closed_port_url, tiny_en_files

SMALL = find_model("small")  # the hub serves tiny.en's files as small (as tests/test_model_download.py)
STALL_AT = 8 << 20  # bytes: a stalled download stops here until it is cancelled
BUFFER_S = 6.875  # calibration_run's mean live buffer of the 11 s sample
RECORDED = Measurement(  # a two-core machine (tests/test_calibration.py's TWO_CORES, without small)
    (Timing("tiny.en", "cpu", "int8", BUFFER_S, 0.19), Timing("base", "cpu", "int8", BUFFER_S, 0.33)),
    "2025-06-01T10:00:00+02:00",
)


@pytest.fixture
def hub(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    with FakeHub({SMALL.repo: tiny_en_files()}) as server:
        monkeypatch.setenv(HUB_ENV, server.url)
        yield server


@pytest.fixture
def dialog(qtbot, data_dir: Path) -> Iterator[ModelsDialog]:
    shown = ModelsDialog("base", "en")
    qtbot.addWidget(shown)
    shown.show()
    yield shown
    shown.shutdown()


@pytest.fixture
def stall(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Downloads stop at STALL_AT bytes, as on a stalled line, until cancelled or the event is set."""
    go_on = threading.Event()
    real = models_dialog.download_model

    def stalling(name, *, progress, cancelled, catalog):
        def slow(done: int, total: int) -> None:
            while done >= STALL_AT and not (cancelled() or go_on.is_set()):
                go_on.wait(0.01)
            progress(done, total)

        return real(name, progress=slow, cancelled=cancelled, catalog=catalog)

    monkeypatch.setattr(models_dialog, "download_model", stalling)
    return go_on


def recorded_calibration(language: str, **_) -> tuple[Measurement, object]:
    """What calibration_run.calibrate returns and saves, without the seconds of measuring."""
    save(RECORDED)
    return RECORDED, choose_from(RECORDED, language)


def cell(dialog: ModelsDialog, name: str, column: str) -> str:
    return dialog.table.item(dialog._row_of(name), COLUMNS.index(column)).text()


def select(dialog: ModelsDialog, name: str) -> None:
    dialog.table.selectRow(dialog._row_of(name))


def install_small_by_hand() -> None:
    """tiny.en's files as an installed small: what a finished download leaves, without the download."""
    shutil.copytree(resolve_model("tiny.en"), model_dir("small"))


def test_the_list_shows_bundled_and_available_models_and_fitting_buttons(qtbot, dialog):
    assert cell(dialog, "base", "State") == "bundled · in use"
    assert cell(dialog, "tiny.en", "State") == "bundled"
    assert cell(dialog, "small", "State") == "available"
    assert cell(dialog, "small", "Languages") == "Multilingual"
    assert cell(dialog, "small.en", "Languages") == "English"
    assert cell(dialog, "small", "Size") == "464 MiB"
    assert dialog.summary.text() == NOT_CALIBRATED and cell(dialog, "small", "Speed here") == "–"
    assert dialog.table.hasFocus() and dialog.selected().name == "base"  # the model in use, ready for arrows
    assert not dialog.download_button.isEnabled() and not dialog.use_button.isEnabled()
    assert unnamed_controls(dialog) == []
    QTest.keyClick(dialog.table, Qt.Key.Key_Up)
    assert dialog.selected().name == "tiny.en"
    assert dialog.use_button.isEnabled() and not dialog.remove_button.isEnabled()  # bundled: never removed
    select(dialog, "small")
    assert dialog.download_button.isEnabled() and not dialog.use_button.isEnabled()
    assert not dialog.cancel_button.isVisible()  # nothing to cancel


def test_download_shows_progress_and_ends_installed(qtbot, hub, dialog):
    seen: list[tuple[float, str]] = []
    dialog.worker.progress.connect(lambda _label, fraction, text: seen.append((fraction, text)))
    select(dialog, "small")
    with qtbot.waitSignal(dialog.models_changed, timeout=20_000):
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        assert dialog.progress.isVisible() and dialog.cancel_button.isEnabled()
        assert cell(dialog, "small", "State").startswith("downloading")
    total = sum(len(data) for data in tiny_en_files().values())
    assert seen[-1] == (1.0, f"{format_size(total)} of {format_size(total)}")
    assert "small" in installed_models() and cell(dialog, "small", "State") == "installed"
    assert dialog.status.text() == "small is installed; Use this model switches to it."
    assert not dialog.progress.isVisible()
    assert dialog.use_button.isEnabled() and dialog.remove_button.isEnabled()


def test_cancel_keeps_the_partial_and_download_resumes(qtbot, hub, dialog, stall):
    assert dialog.download("small")
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=10_000)
    assert re.fullmatch(r"Downloading small: [\d.]+ MiB of [\d.]+ MiB", dialog.progress_text.text())
    assert re.fullmatch(r"downloading \d+%", cell(dialog, "small", "State"))
    with qtbot.waitSignal(dialog.worker.cancelled, timeout=10_000):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() == "Download of small cancelled; Download resumes it where it stopped."
    arrived = (models_dir() / ".partial" / "small" / "model.bin").stat().st_size
    assert arrived > 0 and "small" not in installed_models()
    assert re.fullmatch(r"partly downloaded \([\d.]+ MiB\)", cell(dialog, "small", "State"))  # to be resumed

    stall.set()
    hub.requests.clear()
    with qtbot.waitSignal(dialog.models_changed, timeout=20_000):
        assert dialog.download("small")
    assert [seen.range for seen in hub.gets("model.bin")] == [f"bytes={arrived}-"]  # resumed, not restarted
    assert cell(dialog, "small", "State") == "installed"


@pytest.mark.parametrize(
    ("fault", "sentence"),
    [
        ("offline", r"Could not reach 127\.0\.0\.1:\d+ to download config\.json of the small model .*check "
                    r"the internet connection, then try again\."),
        ("hub", r"had an error sending model\.bin of the small model \(HTTP 500\); try again later"),
    ],
)
def test_a_failure_is_shown_as_the_engines_one_sentence(qtbot, hub, dialog, monkeypatch, fault, sentence):
    if fault == "offline":
        monkeypatch.setenv(HUB_ENV, closed_port_url())
    else:
        hub.status["model.bin"] = 500
    with qtbot.waitSignal(dialog.worker.failed, timeout=10_000):
        dialog.download("small")
    assert re.search(sentence, dialog.status.text())
    assert "\n" not in dialog.status.text() and cell(dialog, "small", "State") == "available"
    select(dialog, "small")
    assert dialog.download_button.isEnabled()  # try again


def test_remove_deletes_an_installed_model_but_never_the_one_in_use(qtbot, dialog):
    install_small_by_hand()
    dialog.refresh()
    select(dialog, "small")
    assert cell(dialog, "small", "State") == "installed" and dialog.remove_button.isEnabled()
    dialog.set_current("small")
    assert cell(dialog, "small", "State") == "installed · in use" and not dialog.remove_button.isEnabled()
    dialog.set_current("base")
    with qtbot.waitSignal(dialog.models_changed):
        dialog.remove("small")
    assert dialog.status.text() == "Removed small." and cell(dialog, "small", "State") == "available"
    assert not model_dir("small").exists()


def test_a_recorded_calibration_is_shown_with_why_and_the_recommendation_in_bold(qtbot, data_dir):
    save(RECORDED)
    dialog = ModelsDialog("tiny.en", "en")
    qtbot.addWidget(dialog)
    choice = choose_from(RECORDED, "en")
    assert choice.pick == "base"
    assert dialog.summary.text() == f"{choice.summary} (Measured 2025-06-01 10:00.)"
    assert cell(dialog, "base", "Model") == "base (recommended)"
    assert dialog.table.item(dialog._row_of("base"), 0).font().bold()
    assert not dialog.table.item(dialog._row_of("tiny.en"), 0).font().bold()
    assert cell(dialog, "base", "Speed here") == "0.048× real time"
    small_rtf = 0.33 / BUFFER_S * find_model("small").relative_cost  # estimated from base
    assert cell(dialog, "small", "Speed here") == f"≈ {small_rtf:.2g}× real time (estimated)"
    select(dialog, "small")
    why = next(v.why for v in choice.verdicts if v.model == "small")
    assert dialog.why.text() == why and "too slow for live captions" in why
    assert dialog.table.item(dialog._row_of("small"), 3).toolTip() == why


def test_calibrate_runs_off_the_gui_thread_and_can_be_cancelled(qtbot, dialog, monkeypatch):
    """The worker, progress and result with a stand-in for the seconds-long measurement."""
    release = threading.Event()
    threads: list[str] = []

    def slow(language, *, progress, cancelled):
        threads.append(threading.current_thread().name)
        progress(0.5, "Timing base (2 of 2)…")
        while not release.wait(0.01):
            if cancelled():
                raise CalibrationCancelled
        return recorded_calibration(language)

    monkeypatch.setattr(models_dialog, "calibrate", slow)
    assert dialog.calibrate()
    qtbot.waitUntil(lambda: dialog.progress_text.text() == "Timing base (2 of 2)…", timeout=5_000)
    assert dialog.progress.value() == models_dialog.BAR_STEPS // 2 and not dialog.calibrate_button.isEnabled()
    with qtbot.waitSignal(dialog.worker.cancelled, timeout=5_000):
        dialog.cancel()
    assert dialog.status.text() == "Calibration cancelled; the last result is kept."
    assert dialog.summary.text() == NOT_CALIBRATED

    release.set()
    with qtbot.waitSignal(dialog.calibrated, timeout=5_000):
        dialog.calibrate()
    assert threads == ["sayline-models"] * 2
    assert dialog.status.text() == choose_from(RECORDED, "en").summary
    assert cell(dialog, "base", "Model") == "base (recommended)"


def test_calibrate_and_use_say_why_when_the_engine_is_busy(qtbot, data_dir):
    dialog = ModelsDialog("base", "en", blocked=lambda: "Stop captioning first.")
    qtbot.addWidget(dialog)
    select(dialog, "tiny.en")
    dialog.use_selected()
    assert not dialog.calibrate() and not dialog.worker.busy
    assert dialog.status.text() == "Stop captioning first." and dialog.current == "base"


def test_closing_during_a_download_cancels_it_and_leaves_no_thread(qtbot, hub, dialog, stall):
    dialog.download("small")
    qtbot.waitUntil(lambda: dialog.progress.value() > 0, timeout=10_000)
    dialog.reject()  # Esc, Close or the title bar
    assert dialog.isVisible()  # until the download has stopped
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert not dialog.worker.busy
    assert not any(thread.name == "sayline-models" for thread in threading.enumerate())
    assert (models_dir() / ".partial" / "small" / "model.bin").stat().st_size > 0


def test_the_window_opens_models_uses_one_and_shows_its_device(qtbot, data_dir, make_window, monkeypatch):
    window = make_window()
    engine = window.bridge.host.engine
    assert window.model_label.text() == model_summary("tiny.en", engine.device, engine.compute_type)
    assert window.model_label.text() in ("tiny.en · CPU · int8", "tiny.en · GPU · float16")
    assert window.calibrate_offer.isVisible()  # no calibration saved yet: offered, not run

    install_small_by_hand()
    dialog = window.show_models()
    assert window.show_models() is dialog  # one dialog, brought to the front
    dialog.models_changed.emit()  # as after a download: the Model box lists it
    assert window.model_combo.findData("small") >= 0
    select(dialog, "small")
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert window.settings.model == "small" and window.model_combo.currentData() == "small"
    assert window.model_label.text() == "small · loading…"
    qtbot.waitUntil(lambda: window.start_button.isEnabled(), timeout=60_000)
    engine = window.bridge.host.engine
    assert window.model_label.text() == model_summary("small", engine.device, engine.compute_type)
    assert cell(dialog, "small", "State") == "installed · in use"

    monkeypatch.setattr(models_dialog, "calibrate", recorded_calibration)
    offer = window.findChild(QPushButton, "calibrateOffer")
    with qtbot.waitSignal(dialog.calibrated, timeout=5_000):
        qtbot.mouseClick(offer, Qt.MouseButton.LeftButton)
    assert not window.calibrate_offer.isVisible()
