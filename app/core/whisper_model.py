"""faster-whisper's model with an encoder window sized to the audio, not to 30 s.

faster-whisper pads every input to Whisper's 30 s window before encoding, and on a CPU
the encoder over that window is most of a decode (base, int8, 2 cores: 0.52 s for 30 s of
frames, 0.07 s for 10 s). A live buffer holds 1–20 s, so most of that work encodes
padding. The decoder attends to whatever the encoder returns, so the padded features are
cut to the audio plus ``margin_s`` of padding (at least ``min_window_s``) first.

Whisper never saw a window shorter than 30 s in training; with too little padding after
the speech it drops or invents the last words. ``bench/README.md`` ("Encoder window")
has the measurement that chose the defaults: on 40 clips of ``eval/en`` at base, WER was
the same as with the full window and decodes were 2.4× faster.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from faster_whisper import WhisperModel

FRAMES_PER_SECOND = 100  # Whisper's mel frames: a 10 ms hop
FULL_WINDOW_FRAMES = 3000


class ShortWindowWhisper(WhisperModel):
    """``transcribe`` as usual; its encoder sees only the audio plus a little padding."""

    def __init__(
        self, *args: object, margin_s: float = 4.0, min_window_s: float = 10.0, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.margin_s = margin_s
        self.min_window_s = min_window_s
        self._call = threading.local()  # each thread's current window: calls never share one

    def transcribe(self, audio: np.ndarray, *args: object, **kwargs: object):  # type: ignore[override]
        """Decode eagerly, so the window set here is the one the encoder uses."""
        self._call.frames = self.window_frames(len(audio) / self.feature_extractor.sampling_rate)
        try:
            segments, info = super().transcribe(audio, *args, **kwargs)
            return list(segments), info
        finally:
            self._call.frames = FULL_WINDOW_FRAMES

    def transcribe_full_window(self, audio: np.ndarray, *args: object, **kwargs: object):
        """Plain faster-whisper, 30 s window: the offline reference the benchmarks score against."""
        return super().transcribe(audio, *args, **kwargs)

    def window_frames(self, audio_s: float) -> int:
        window_s = max(audio_s + self.margin_s, self.min_window_s)
        return min(FULL_WINDOW_FRAMES, math.ceil(window_s) * FRAMES_PER_SECOND)

    def encode(self, features: np.ndarray):  # type: ignore[override]
        frames = getattr(self._call, "frames", FULL_WINDOW_FRAMES)
        return super().encode(features[..., :frames])
