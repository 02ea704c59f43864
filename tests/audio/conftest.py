"""A private PulseAudio server with a null sink as the default output, and real speech to play into it.

Nothing is mocked: PortAudio, the ALSA pulse plugin, parec and the server are the real ones, so the
tests show what a Linux desktop (PulseAudio, or PipeWire's Pulse server, which speaks the same
protocol) will do. The server is private (its own socket, home and runtime dirs), so it neither needs
nor touches a desktop's sound setup.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from app.audio import AudioCapture

SINK = "sayline_test"
MONITOR = f"{SINK}.monitor"
SPEECH = Path(__file__).resolve().parents[3] / "shared" / "eval" / "en" / "jfk.wav"
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


@pytest.fixture(scope="session")
def pulse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    if not sys.platform.startswith("linux"):
        pytest.skip("the real-audio tests need Linux with PulseAudio")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found; install the Debian packages {PACKAGES}.")
    root = tmp_path_factory.mktemp("pulse")
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
         "-L", "module-suspend-on-idle timeout=1"],  # as desktops run it: idle outputs get suspended
        env=daemon_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
    )
    patch = pytest.MonkeyPatch()
    patch.setenv("PULSE_SERVER", f"unix:{socket}")
    for name in ("PULSE_SOURCE", "PULSE_SINK"):
        patch.delenv(name, raising=False)
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
        patch.undo()
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
            pytest.fail(f"pulseaudio exited at start:\n{log.read_text(errors='replace')[-2000:]}")
        if subprocess.run(["pactl", "info"], capture_output=True, timeout=5, check=False).returncode == 0:
            return
        time.sleep(0.1)
    pytest.fail("the private pulseaudio server did not answer within 15 s")


@pytest.fixture
def pulse(pulse_server: PulseServer) -> PulseServer:
    pulse_server.reset()
    return pulse_server


@pytest.fixture(scope="session")
def speech_file() -> Path:
    if not SPEECH.is_file():
        pytest.fail(
            f"Test speech is missing: {SPEECH}. The audio tests need the project's shared/ folder beside "
            "the checkout (../shared/eval/en/jfk.wav)."
        )
    return SPEECH


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1, f"{path} is not 16-bit mono"
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float32) / 32768
        return samples, wav.getframerate()


@pytest.fixture(scope="session")
def speech_clip(speech_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 2.5 s of the speech file (it starts speaking at once): enough for the quicker tests."""
    samples, rate = read_wav(speech_file)
    clip = tmp_path_factory.mktemp("clips") / "jfk_start.wav"
    with wave.open(str(clip), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((samples[: rate * 5 // 2] * 32768).astype("<i2").tobytes())
    return clip


class Recorder:
    """Iterates captures on the running loop, keeping every block, like the engine thread will."""

    def __init__(self, *captures: AudioCapture) -> None:
        self.captures = captures
        self.blocks: list[list[np.ndarray]] = [[] for _ in captures]
        self.levels: list[list[float]] = [[] for _ in captures]  # capture.level seen after each block
        self.tasks: list[asyncio.Task] = []

    async def __aenter__(self) -> Recorder:
        for capture in self.captures:
            capture.start()
        self.tasks = [asyncio.create_task(self._consume(i, c)) for i, c in enumerate(self.captures)]
        return self

    async def _consume(self, index: int, capture: AudioCapture) -> None:
        async for block in capture.blocks():
            self.blocks[index].append(block)
            self.levels[index].append(capture.level)

    async def __aexit__(self, *exc) -> None:
        for capture in self.captures:
            capture.stop()
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout=2)

    def audio(self, index: int = 0, since_block: int = 0) -> np.ndarray:
        blocks = self.blocks[index][since_block:]
        return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)

    async def wait_for_blocks(self, count: int = 1, timeout: float = 8.0) -> None:
        """Until every capture delivered ``count`` more blocks: the path from the server is flowing."""
        targets = [len(blocks) + count for blocks in self.blocks]
        deadline = time.monotonic() + timeout
        while any(len(b) < t for b, t in zip(self.blocks, targets, strict=True)):
            counts = [len(b) for b in self.blocks]
            assert time.monotonic() < deadline, f"no audio within {timeout} s: {counts}"
            await asyncio.sleep(0.02)


async def play(path: Path, sink: str = SINK) -> None:
    """``paplay`` the file into ``sink`` and wait until it has been played out."""
    process = await asyncio.create_subprocess_exec("paplay", f"--device={sink}", str(path))
    assert await process.wait() == 0, f"paplay {path} failed"
    await asyncio.sleep(0.4)  # the last fragments still travel from the sink to the monitor


async def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.02)


def match_score(captured: np.ndarray, reference: np.ndarray) -> float:
    """Peak normalised cross-correlation of ``reference`` within ``captured`` (1.0 = identical)."""
    if captured.size < reference.size:
        captured = np.concatenate((captured, np.zeros(reference.size - captured.size, np.float32)))
    size = 1 << int(np.ceil(np.log2(captured.size + reference.size)))
    spectrum = np.fft.rfft(captured, size) * np.conj(np.fft.rfft(reference, size))
    lag = int(np.argmax(np.fft.irfft(spectrum, size)[: captured.size - reference.size + 1]))
    segment = captured[lag: lag + reference.size].astype(np.float64)
    ref = reference.astype(np.float64)
    return float(segment @ ref / (np.linalg.norm(segment) * np.linalg.norm(ref) + 1e-12))
