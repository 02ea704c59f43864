"""A private PulseAudio server with a null sink as the default output: real system audio for tests.

Nothing is mocked: PortAudio, the ALSA pulse plugin, parec and the server are the real ones, so the
tests (and bench.desktop) show what a Linux desktop (PulseAudio, or PipeWire's Pulse server, which
speaks the same protocol) will do. The server is private (its own socket, home and runtime dirs),
so it neither needs nor touches a desktop's sound setup.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

SINK = "sayline_test"
MONITOR = f"{SINK}.monitor"
TOOLS = ("pulseaudio", "pactl", "paplay", "parec")
PACKAGES = "libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins"


@dataclass
class PulseServer:
    socket: Path

    def pactl(self, *args: str) -> str:
        done = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10, check=False,
                              env={**os.environ, "LC_ALL": "C"})
        assert done.returncode == 0, f"pactl {' '.join(args)} failed: {done.stderr.strip()}"
        return done.stdout

    def load_sink(self, name: str = SINK) -> None:
        self.pactl("load-module", "module-null-sink", f"sink_name={name}")

    def unload_sink(self, name: str = SINK) -> None:
        for line in self.pactl("list", "short", "modules").splitlines():
            if f"sink_name={name}" in line:
                self.pactl("unload-module", line.split("\t")[0])

    def sinks(self) -> list[str]:
        return [line.split("\t")[1] for line in self.pactl("list", "short", "sinks").splitlines() if line]

    def reset(self) -> None:
        """The state every test starts from: only the test sink, default output and input its monitor."""
        for sink in self.sinks():
            if sink != SINK:
                self.unload_sink(sink)
        if SINK not in self.sinks():
            self.load_sink()
        self.pactl("set-default-sink", SINK)
        self.pactl("set-default-source", MONITOR)


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


@contextmanager
def private_pulse_server(root: Path, extra_args: tuple[str, ...] = ()) -> Iterator[PulseServer]:
    """Run a PulseAudio daemon under ``root``; PULSE_SERVER points at it until the block ends.

    ``extra_args`` go to the daemon's command line: ``--disallow-module-loading`` for a locked-down
    server, ``-L module-stream-restore`` for a desktop's memory of where each application plays.
    """
    socket = root / "native"
    daemon_env = {
        **os.environ, "HOME": str(root), "XDG_RUNTIME_DIR": str(root),
        "XDG_CONFIG_HOME": str(root / "config"), "PULSE_RUNTIME_PATH": str(root / "runtime"),
        "PULSE_STATE_PATH": str(root / "state"),
    }
    log = (root / "pulseaudio.log").open("wb")
    daemon = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disable-shm=1", "--system=false",
         "--use-pid-file=false", "--log-target=stderr",
         "-L", f"module-native-protocol-unix auth-anonymous=1 socket={socket}",
         "-L", f"module-null-sink sink_name={SINK}",
         "-L", "module-suspend-on-idle timeout=1",  # as desktops run it: idle outputs get suspended
         *extra_args],
        env=daemon_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
    )
    environment = mock.patch.dict(os.environ, {"PULSE_SERVER": f"unix:{socket}"})
    environment.start()  # restores every variable, the removed ones too, when the block ends
    os.environ.pop("PULSE_SOURCE", None)
    os.environ.pop("PULSE_SINK", None)
    server = PulseServer(socket)
    try:
        _wait_until_ready(daemon, root / "pulseaudio.log")
        server.reset()
        # PortAudio may have started before this server (another test imported sounddevice); the ALSA
        # "default" device only routes to PulseAudio if the server ran when ALSA read its config.
        from app.audio import portaudio

        portaudio.rescan()
        yield server
    finally:
        environment.stop()
        daemon.terminate()
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        log.close()


def _wait_until_ready(daemon: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError(f"pulseaudio exited at start:\n{log.read_text(errors='replace')[-2000:]}")
        if subprocess.run(["pactl", "info"], capture_output=True, timeout=5, check=False).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("the private pulseaudio server did not answer within 15 s")
