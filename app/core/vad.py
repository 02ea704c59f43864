"""Silero VAD (the ONNX file faster-whisper ships) run on 32 ms windows, state carried across.

The model is shared by every stream; each stream owns a :class:`VadStream` holding the LSTM
state, the 64-sample context and the window remainder, so any chunking of the same audio
gives the same probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.decoding import SAMPLE_RATE

WINDOW = 512  # 32 ms at 16 kHz: what Silero was trained on
_CONTEXT = 64
WINDOW_S = WINDOW / SAMPLE_RATE


def bundled_vad_path() -> Path:
    import faster_whisper

    return Path(faster_whisper.__file__).parent / "assets" / "silero_vad_v6.onnx"


class SileroVad:
    """The loaded ONNX session; thread-safe, so one serves all streams."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime

        from app.core.onnx_options import one_thread_options

        self._session = onnxruntime.InferenceSession(
            str(path or bundled_vad_path()),
            providers=["CPUExecutionProvider"],
            sess_options=one_thread_options(log_severity=4),
        )

    def stream(self) -> VadStream:
        return VadStream(self)

    def run(self, windows: np.ndarray, h: np.ndarray, c: np.ndarray):
        probs, h, c = self._session.run(None, {"input": windows, "h": h, "c": c})
        return np.asarray(probs, dtype=np.float32).reshape(-1), h, c


@dataclass(frozen=True)
class SpeechRegion:
    start: float
    end: float


class VadStream:
    """Per-stream VAD: feed samples, get speech probability for every completed window."""

    def __init__(self, model: SileroVad) -> None:
        self._model = model
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(_CONTEXT, dtype=np.float32)
        self._remainder = np.zeros(0, dtype=np.float32)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Speech probabilities, one per 512-sample window completed by ``samples``."""
        audio = np.concatenate([self._remainder, samples.astype(np.float32, copy=False)])
        n_windows = len(audio) // WINDOW
        self._remainder = audio[n_windows * WINDOW:]
        if n_windows == 0:
            return np.zeros(0, dtype=np.float32)
        windows = audio[: n_windows * WINDOW].reshape(n_windows, WINDOW)
        contexts = np.empty((n_windows, _CONTEXT), dtype=np.float32)
        contexts[0] = self._context
        contexts[1:] = windows[:-1, -_CONTEXT:]
        self._context = windows[-1, -_CONTEXT:].copy()
        batch = np.concatenate([contexts, windows], axis=1)
        probs, self._h, self._c = self._model.run(batch, self._h, self._c)
        return probs


class SpeechTracker:
    """Turns window probabilities into speech regions with hysteresis.

    Pure bookkeeping (no model), so its rules are unit-tested directly. Times are
    stream-absolute seconds; ``now`` is the end of the last window seen.
    """

    def __init__(self, threshold: float = 0.5, release: float = 0.35) -> None:
        self.threshold = threshold
        self.release = release
        self.now = 0.0
        self._in_speech = False
        self._speech_start = 0.0
        self._last_voiced_end = 0.0
        self._regions: list[SpeechRegion] = []
        self.heard_speech = False

    def push(self, probabilities: np.ndarray) -> None:
        for p in probabilities:
            start, self.now = self.now, self.now + WINDOW_S
            if self._in_speech:
                if p >= self.release:
                    self._last_voiced_end = self.now
                elif self.now - self._last_voiced_end >= 0.25:
                    self._close_region()
            elif p >= self.threshold:
                self._in_speech = True
                self.heard_speech = True
                self._speech_start = start
                self._last_voiced_end = self.now

    def _close_region(self) -> None:
        self._regions.append(SpeechRegion(self._speech_start, self._last_voiced_end))
        self._in_speech = False

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def last_speech_end(self) -> float:
        """End of the latest voiced window (``now`` while speech is ongoing)."""
        return self.now if self._in_speech else self._last_voiced_end

    @property
    def silence_duration(self) -> float:
        """How long it has been quiet; 0 during speech and before any speech."""
        if self._in_speech or not self.heard_speech:
            return 0.0
        return self.now - self._last_voiced_end

    def regions(self, since: float = 0.0) -> list[SpeechRegion]:
        """Speech regions ending after ``since``; the ongoing one is included, open-ended."""
        found = [r for r in self._regions if r.end > since]
        if self._in_speech:
            found.append(SpeechRegion(self._speech_start, self.now))
        return found

    def speech_since(self, since: float) -> float:
        """Seconds of speech after ``since``: gates ASR calls so silence never reaches Whisper."""
        return sum(r.end - max(r.start, since) for r in self.regions(since))

    def forget_before(self, time: float) -> None:
        """Drop regions wholly before ``time`` so a long session keeps constant memory."""
        self._regions = [r for r in self._regions if r.end > time]
