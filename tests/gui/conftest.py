"""GUI tests run headless: Qt's offscreen platform, and settings kept out of the user's config folder."""

from __future__ import annotations

import os
import socket

# Before any Qt import (pytest-qt creates the QApplication later, reading this then).
os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest

from app.gui.bridge import EngineBridge
from app.gui.main_window import MainWindow
from app.gui.settings import CONFIG_DIR_ENV, Settings


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    """Every test gets its own empty config folder; nothing touches the real settings."""
    folder = tmp_path / "config"
    monkeypatch.setenv(CONFIG_DIR_ENV, str(folder))
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_window(qtbot):
    """Real main windows on the real tiny.en engine, each with its own free server port."""
    made: list[MainWindow] = []

    def make(**options) -> MainWindow:
        values = {"model": "tiny.en", "language": "en", "overlay_visible": False, "server_port": free_port()}
        main = MainWindow(Settings(**{**values, **options}), EngineBridge())
        main.show()
        made.append(main)
        qtbot.waitUntil(lambda: main.start_button.isEnabled(), timeout=60_000)
        return main

    yield make
    for main in made:
        main.close()
