"""A private desktop with the accessibility bus, the real main window on it, and the AT-SPI probe.

Not a test file: tests/gui/test_accessibility_atspi.py runs ``dbus-run-session -- python -m
tests.gui.atspi_session WORKDIR``, so the D-Bus session (and the accessibility bus it finds) is
private and goes away with the run. Here: a virtual X screen (Xvfb), the AT-SPI bus launcher,
Sayline's main window on Qt's xcb platform with its AT-SPI bridge on, and the probe
(tests/gui/atspi_probe.py, run by the system python3). The probe's JSON goes to stdout.

``python -m tests.gui.atspi_session WORKDIR app`` is the app side: the real window, which
announces one caption line once the probe says it listens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BUS_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"
SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("atspi_probe.py")
ANNOUNCED = "Hello from Sayline."
LISTEN_S = 15.0


def run_app(workdir: Path) -> int:
    os.environ.setdefault("SAYLINE_CONFIG_DIR", str(workdir / "config"))  # never the user's settings
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.gui.bridge import EngineBridge
    from app.gui.main_window import MainWindow
    from app.gui.settings import Settings

    qt = QApplication(sys.argv[:1])
    qt.setApplicationName("Sayline")
    window = MainWindow(Settings(model="tiny.en", language="en", overlay_visible=False), EngineBridge())
    window.show()
    QTimer.singleShot(0, lambda: (workdir / "shown").write_text("shown"))  # once the window is up
    ready = workdir / "ready"

    def announce_when_heard() -> None:
        if ready.exists():
            window.announce_action.trigger()  # the user's opt-in, as from the View menu
            window.announcer.add_lines([ANNOUNCED])
        else:
            QTimer.singleShot(100, announce_when_heard)

    announce_when_heard()
    QTimer.singleShot(round(LISTEN_S * 1000) + 5000, window.close)  # never outlives the run
    return qt.exec()


def start_display(workdir: Path) -> tuple[subprocess.Popen, str]:
    """Xvfb on the first free display; its number comes back through -displayfd."""
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    if not number:
        raise RuntimeError("Xvfb did not start")
    return xvfb, f":{number}"


def run_session(workdir: Path) -> int:
    xvfb, display = start_display(workdir)
    env = {**os.environ, "DISPLAY": display}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    bus = subprocess.Popen([BUS_LAUNCHER, "--launch-immediately"], env=env, **quiet)
    app = None
    try:
        time.sleep(0.5)  # the launcher claims org.a11y.Bus, which Qt asks for at start
        app_env = {**env, "QT_QPA_PLATFORM": "xcb", "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1"}
        with open(workdir / "app.log", "w") as log:
            app = subprocess.Popen([sys.executable, "-m", "tests.gui.atspi_session", str(workdir), "app"],
                                   env=app_env, stdout=subprocess.DEVNULL, stderr=log)
        probe = subprocess.run([SYSTEM_PYTHON, str(PROBE), str(workdir), str(LISTEN_S)],
                               env=env, capture_output=True, text=True, timeout=60, check=False)
        sys.stdout.write(probe.stdout)
        sys.stderr.write(probe.stderr)
        return probe.returncode
    finally:
        for process in (app, bus, xvfb):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    sys.exit(run_app(folder) if sys.argv[2:] == ["app"] else run_session(folder))
