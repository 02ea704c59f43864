"""A private PulseAudio server with a null sink as the default output, and real speech to play into it.

Nothing is mocked: PortAudio, the ALSA pulse plugin, parec and the server are the real ones, so the
tests show what a Linux desktop (PulseAudio, or PipeWire's Pulse server, which speaks the same
protocol) will do. The server is private (its own socket, home and runtime dirs), so it neither needs
nor touches a desktop's sound setup.
"""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from app.audio import AudioCapture
from tests.pulse import SINK


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
