"""Starting the desktop app: logging to a file, settings, the engine thread, the window."""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO, Any

from app import __version__
from app.paths import data_dir, frozen_root
from app.private_files import open_private, private_dir

log = logging.getLogger(__name__)


def display_available() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def log_file() -> Path:
    return data_dir() / "logs" / "sayline.log"


class PrivateRotatingFileHandler(RotatingFileHandler):
    """The log names files and devices the user worked with: it, and each file a rollover
    starts, is created 0600 (rotated copies keep that mode when renamed)."""

    def _open(self) -> IO[Any]:
        return open_private(Path(self.baseFilename), self.mode, encoding=self.encoding, errors=self.errors)


def setup_file_logging() -> Path:
    """Details go to a rotating file in the data dir; the window shows one sentence."""
    path = log_file()
    private_dir(path.parent, top=data_dir())
    handler = PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def run_gui(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication

    from app.gui.bridge import EngineBridge
    from app.gui.main_window import MainWindow, app_icon
    from app.gui.settings import load_settings
    from app.gui.theme import apply_theme

    setup_file_logging()
    origin = f"installer build in {frozen_root()}" if frozen_root() else "from source"
    log.info("Sayline %s starting (%s)", __version__, origin)
    app = QApplication(argv or sys.argv[:1])
    app.setApplicationName("Sayline")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(True)
    settings, warning = load_settings()
    apply_theme(app, settings.theme)  # the stylesheet and palette of the user's theme (app/gui/theme.py)
    bridge = EngineBridge()
    # "Did the model load?" is support's first question; the log answers it (check_bundle.sh waits on it).
    bridge.model_ready.connect(lambda name, notice: log.info("model ready: %s", f"{name} {notice}".strip()))
    window = MainWindow(settings, bridge, warning)
    window.show()
    return app.exec()
