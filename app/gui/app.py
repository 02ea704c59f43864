"""Starting the desktop app: logging to a file, settings, the engine thread, the window."""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from app.core.models import data_dir
from app.paths import resources_dir


def display_available() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def log_file() -> Path:
    return data_dir() / "logs" / "sayline.log"


def setup_file_logging() -> Path:
    """Details go to a rotating file in the data dir; the window shows one sentence."""
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
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

    setup_file_logging()
    app = QApplication(argv or sys.argv[:1])
    app.setApplicationName("Sayline")
    app.setWindowIcon(app_icon())
    app.setStyleSheet((resources_dir() / "styles" / "app.qss").read_text(encoding="utf-8"))
    app.setQuitOnLastWindowClosed(True)
    settings, warning = load_settings()
    window = MainWindow(settings, EngineBridge(), warning)
    window.show()
    return app.exec()
