"""Real applications playing into the private PulseAudio server, for the one-application tests.

Each ``Player`` is a real ``paplay`` process with its own pid and name, as a call or a video player
would be; the helpers read where its stream is from the real server.
"""

from __future__ import annotations

import subprocess
import time
import wave
from pathlib import Path

import numpy as np

from app.audio import PlayingApp, list_playing_apps
from app.audio.app_route import parse_short_sinks
from app.audio.app_streams import ROUTE_PREFIX, parse_sink_inputs
from tests.audio.conftest import match_score, read_wav
from tests.conftest import eval_dir
from tests.pulse import SINK, PulseServer


def padded(folder: Path, name: str, lead_s: float, tail_s: float, repeat: int = 1) -> tuple[Path, np.ndarray]:
    """The eval recording ``name`` with silence around it (time to pick and route the player before
    the speech starts, and a player still alive after it): the file to play, and the speech alone."""
    speech, rate = read_wav(eval_dir("en") / name)
    assert rate == 16_000
    lead, tail = np.zeros(int(lead_s * rate), np.float32), np.zeros(int(tail_s * rate), np.float32)
    audio = np.concatenate([lead, *[speech] * repeat, tail])
    path = folder / f"{Path(name).stem}_{lead_s}_{tail_s}_{repeat}.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((audio * 32767).astype("<i2").tobytes())
    return path, speech


class Player:
    """A real ``paplay`` process: an application playing into ``sink`` under the name ``name``.

    It asks for 100 ms of latency, as calls and video players do. Left to its default (2 s), the
    test's null sinks (which cannot rewind, unlike a sound card's) would have rendered up to 2 s
    ahead when the stream is moved, and that audio is played where the stream was, not captured.
    """

    def __init__(self, path: Path, name: str, sink: str | None = SINK) -> None:
        self.name = name
        command = ["paplay", f"--client-name={name}", f"--stream-name={name} speech", "--latency-msec=100"]
        if sink is not None:  # None: where the server puts it, as for most applications
            command.append(f"--device={sink}")
        quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.process = subprocess.Popen([*command, str(path)], **quiet)
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid

    def app(self, timeout: float = 5.0) -> PlayingApp:
        """This player as the picker lists it, once its stream is on the server."""
        deadline = time.monotonic() + timeout
        while True:
            found = [app for app in list_playing_apps() if app.pid == self.pid]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"{self.name} never showed up in the list"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def sink_index(pulse: PulseServer, name: str) -> int:
    return next(s.index for s in parse_short_sinks(pulse.pactl("list", "short", "sinks")) if s.name == name)


def sink_of(pulse: PulseServer, pid: int) -> int | None:
    """The output the process ``pid`` plays on now (None: it has no stream)."""
    streams = parse_sink_inputs(pulse.pactl("list", "sink-inputs"))
    return next((s.sink for s in streams if s.pid == pid), None)


def leftovers(pulse: PulseServer) -> list[str]:
    """Modules and sinks of Sayline's still on the server."""
    listed = pulse.pactl("list", "short", "modules") + pulse.pactl("list", "short", "sinks")
    return [line for line in listed.splitlines() if ROUTE_PREFIX in line]


def pieces_heard(captured: np.ndarray, reference: np.ndarray, piece_s: float = 0.5) -> list[float]:
    """How well each half-second of speech in ``reference`` is found somewhere in ``captured`` (1.0 =
    exactly), quiet pieces left out.

    One score over the whole reference drops to ~0.6 when a heavily loaded machine drops or inserts
    20 ms anywhere in the chain; scoring pieces keeps the test about what was captured, not about
    the scheduler.
    """
    size = int(piece_s * 16_000)
    pieces = [reference[i:i + size] for i in range(0, len(reference) - size + 1, size)]
    loud = [p for p in pieces if np.sqrt(np.mean(p**2)) > 0.01]
    return [match_score(captured, piece) for piece in loud]

