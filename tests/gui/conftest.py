"""GUI tests run headless: Qt's offscreen platform, and settings kept out of the user's config folder."""

from __future__ import annotations

import os

# Before any Qt import (pytest-qt creates the QApplication later, reading this then).
os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest

from app.gui.settings import CONFIG_DIR_ENV


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    """Every test gets its own empty config folder; nothing touches the real settings."""
    folder = tmp_path / "config"
    monkeypatch.setenv(CONFIG_DIR_ENV, str(folder))
    return folder
