"""One blocking model task (a download, a calibration) at a time, off the Qt thread.

Not the engine thread: a model download can take many minutes and a calibration loads models
of its own, and neither may hold up captioning, which runs there. A plain thread with queued
signals, as the application picker does; the task polls ``cancelled()`` between blocks, so a
cancel or a quit ends it within a block (the engine keeps a cancelled download's partial file).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.model_errors import ModelError

log = logging.getLogger(__name__)

# A download reports every block: a signal goes out per percent, or after this long (a slow line).
PROGRESS_STEP = 0.01
PROGRESS_INTERVAL_S = 0.25

Report = Callable[[float, str], None]
"""How a task says how far it is: (fraction done, 0–1; a few words to show beside the bar)."""

Task = Callable[[Report, Callable[[], bool]], Any]
"""Called as ``task(report, cancelled)`` on the worker thread; returns the result."""


class ModelWorker(QObject):
    """Runs a task and reports it: ``progress``, then ``finished``, ``failed`` or ``cancelled``.

    Each signal carries the task's label (the model's name, or "" for a calibration) so the
    dialog knows which row it is about without keeping its own record of what it started. The
    outcome signals come once the thread has ended: a handler may start the next task at once.
    """

    progress = Signal(str, float, str)  # label, fraction done, what to show
    finished = Signal(str, object)  # label, the task's result
    failed = Signal(str, str)  # label, one sentence for the user
    cancelled = Signal(str)  # label
    _ended = Signal(str, str, object)  # label, outcome ("finished", "failed", "cancelled"), payload

    def __init__(
        self, cancelled_errors: tuple[type[BaseException], ...], parent: QObject | None = None
    ) -> None:
        """``cancelled_errors``: what the tasks raise when they stop because they were asked to."""
        super().__init__(parent)
        self._cancelled_errors = cancelled_errors
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._ended.connect(self._report)  # queued: emitted on the worker thread

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, label: str, task: Task) -> bool:
        """Run ``task`` unless one is running (then False: one task at a time)."""
        if self.busy:
            return False
        self._cancel.clear()
        self._thread = threading.Thread(target=self._run, args=(label, task), name="sayline-models")
        self._thread.start()
        return True

    def cancel(self) -> None:
        """Ask the running task to stop; ``cancelled`` follows once it has."""
        self._cancel.set()

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Cancel and wait for the thread, so none is left running at quit."""
        self.cancel()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self, label: str, task: Task) -> None:
        last_time, last_fraction = 0.0, -1.0

        def report(fraction: float, text: str) -> None:
            nonlocal last_time, last_fraction
            now = time.monotonic()
            moved = fraction - last_fraction >= PROGRESS_STEP or now - last_time >= PROGRESS_INTERVAL_S
            if (moved or fraction >= 1) and not self._cancel.is_set():
                last_time, last_fraction = now, fraction
                self._emit(self.progress, label, fraction, text)

        try:
            outcome = ("finished", task(report, self._cancel.is_set))
        except self._cancelled_errors:
            outcome = ("cancelled", None)
        except ModelError as exc:  # the engine's errors are one sentence each
            outcome = ("failed", str(exc))
        except Exception:  # a bug must not leave the dialog waiting forever
            log.exception("model task %r failed", label)
            outcome = ("failed", "Sayline hit an unexpected error; see its log for details.")
        self._emit(self._ended, label, *outcome)

    def _report(self, label: str, outcome: str, payload: object) -> None:
        if self._thread is not None:
            self._thread.join()  # it has emitted its last signal: a moment at most
            self._thread = None
        if outcome == "finished":
            self.finished.emit(label, payload)
        elif outcome == "failed":
            self.failed.emit(label, payload)
        else:
            self.cancelled.emit(label)

    @staticmethod
    def _emit(signal: Any, *args: object) -> None:
        """Emit unless the receiver is gone (its C++ side deleted at quit)."""
        with contextlib.suppress(RuntimeError):
            signal.emit(*args)
