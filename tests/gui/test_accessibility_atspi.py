"""What Orca would get: the real main window read through AT-SPI, the Linux accessibility bus.

tests/gui/test_accessibility.py checks Qt's side of the accessibility interface; this checks
that it reaches a screen reader: names and descriptions, the label a combo box is read with, and
a caption announcement arriving as AT-SPI's ``object:announcement`` event. The desktop (Xvfb, a
private D-Bus session, the accessibility bus) is set up by tests/gui/atspi_session.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.gui.settings import CONFIG_DIR_ENV
from tests.gui.atspi_session import ANNOUNCED, BUS_LAUNCHER, SYSTEM_PYTHON

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = "xvfb dbus-daemon at-spi2-core gir1.2-atspi-2.0 python3-gi"
CONTROLS = ("push button", "check box", "combo box", "spin button", "text", "list")


def missing() -> list[str]:
    gone = [tool for tool in ("Xvfb", "dbus-run-session") if shutil.which(tool) is None]
    gone += [path for path in (BUS_LAUNCHER, SYSTEM_PYTHON) if not Path(path).exists()]
    if not gone:
        check = "import gi; gi.require_version('Atspi', '2.0'); from gi.repository import Atspi"
        if subprocess.run([SYSTEM_PYTHON, "-c", check], capture_output=True, check=False).returncode:
            gone.append("the Atspi typelib for the system python3")
    return gone


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> dict:
    if not sys.platform.startswith("linux"):
        pytest.skip("AT-SPI is Linux's accessibility bus")
    if gone := missing():
        pytest.fail(f"{', '.join(gone)} not found; install the Debian packages {PACKAGES}.")
    workdir = tmp_path_factory.mktemp("atspi")
    # Module-scoped, so before conftest's per-test config folder: the app gets its own here.
    env = {**os.environ, CONFIG_DIR_ENV: str(workdir / "config")}
    done = subprocess.run(
        ["dbus-run-session", "--", sys.executable, "-m", "tests.gui.atspi_session", str(workdir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    log = (workdir / "app.log").read_text() if (workdir / "app.log").exists() else ""
    assert lines, f"no answer from the probe: {done.stderr[-2000:]}\napp: {log[-2000:]}"
    result = json.loads(lines[-1])
    assert result["found"], "Sayline never appeared on the accessibility bus"
    return result


def test_every_control_reaches_the_screen_reader_named_and_described(seen):
    # Not the parts of compound controls: a combo box's popup list, a text field's clear button.
    parts_of = ("combo box", "text")
    controls = [node for node in seen["nodes"] if node["role"] in CONTROLS and node["parent"] not in parts_of]
    assert len(controls) > 30
    assert [node for node in controls if not node["name"] and not node["labelled_by"]] == []
    assert [node for node in controls if not node["description"]] == []
    start = next(node for node in controls if node["name"] == "Start")
    assert "Ctrl+Return" in start["description"]
    assert any(node["role"] == "spin button" and node["name"] == "Server port" for node in controls)


def test_combo_boxes_are_read_with_their_labels(seen):
    combos = {node["description"][:40]: node for node in seen["nodes"] if node["role"] == "combo box"}
    source = next(node for text, node in combos.items() if text.startswith("Where the speech comes from"))
    assert source["name"] == "Microphone" and source["labelled_by"] == ["Source"]


def test_a_caption_announcement_arrives_as_an_atspi_event(seen):
    assert seen["heard"] == [ANNOUNCED]
