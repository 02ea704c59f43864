"""Any device's rate and channel count in, 16 kHz mono float32 out (what the engine takes)."""

from __future__ import annotations

import numpy as np
import soxr

TARGET_RATE = 16_000


class StreamResampler:
    """Block-by-block resampling that keeps filter state across blocks, so nothing is dropped or clicked.

    Channels are averaged first: it is the least surprising downmix for speech and resampling one
    channel instead of several is cheaper. soxr's stream mode is a real band-limited resampler; naive
    decimation would alias everything above 8 kHz down into the speech band.
    """

    def __init__(self, in_rate: int, channels: int, quality: str = "HQ") -> None:
        self.in_rate = int(in_rate)
        self.channels = int(channels)
        self._stream = (
            None if self.in_rate == TARGET_RATE
            else soxr.ResampleStream(self.in_rate, TARGET_RATE, 1, dtype="float32", quality=quality)
        )

    def process(self, block: np.ndarray) -> np.ndarray:
        """``block`` is (frames,) or (frames, channels), float or int16; returns 16 kHz mono float32."""
        mono = _to_mono_float(block)
        if self._stream is None:
            return mono
        return self._stream.resample_chunk(mono)

    def flush(self) -> np.ndarray:
        """The filter's tail: the last few milliseconds still held back at the end of a stream."""
        if self._stream is None:
            return np.zeros(0, dtype=np.float32)
        return self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)


def _to_mono_float(block: np.ndarray) -> np.ndarray:
    samples = np.asarray(block)
    if samples.dtype == np.int16:
        samples = samples.astype(np.float32) / 32768.0
    if samples.ndim == 2:
        samples = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    return np.ascontiguousarray(samples, dtype=np.float32)
