"""The desktop app's log file is private: 0600 in a 0700 logs folder, rollovers included."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from app.gui.app import log_file, setup_file_logging


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def file_logging(tmp_path, monkeypatch):
    """setup_file_logging() on a 0755 data dir from an older version; the root logger is restored."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    monkeypatch.setenv("SAYLINE_DATA_DIR", str(data))
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    path = setup_file_logging()
    added = [handler for handler in root.handlers if handler not in handlers]
    yield path, added[0]
    for handler in added:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses ACLs")
def test_the_log_file_and_its_folders_are_private(file_logging, tmp_path):
    path, handler = file_logging
    logging.getLogger("sayline.test").info("captioned a meeting")
    handler.flush()
    assert path == log_file() and "captioned a meeting" in path.read_text()
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(tmp_path / "data") == 0o700, "the data dir an older version left 0755 is tightened"
    handler.doRollover()
    assert mode(path) == 0o600, "the file a rollover starts is private too"
    assert mode(path.with_name(path.name + ".1")) == 0o600
