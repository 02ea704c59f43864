"""Kaldi-style log-mel filterbank features, the input CAM++ was trained on.

80 mel bins, 25 ms Povey windows every 10 ms, pre-emphasis 0.97, DC removed, power
spectrum, no dither; then the mean over the segment is subtracted (CMN), which also
cancels any constant gain, so the waveform's scale does not matter. Plain numpy, so that
both embedding backends (ONNX Runtime, and torch where installed) read the same features.
"""

from __future__ import annotations

import numpy as np

from app.core.decoding import SAMPLE_RATE

FRAME_LENGTH = 400  # 25 ms
FRAME_SHIFT = 160  # 10 ms
FFT_SIZE = 512
MEL_BINS = 80
LOW_HZ = 20.0


def _mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_banks() -> np.ndarray:
    """(257, 80) triangular filters, equally spaced on Kaldi's mel scale from 20 Hz to Nyquist."""
    low, high = _mel(LOW_HZ), _mel(SAMPLE_RATE / 2)
    delta = (high - low) / (MEL_BINS + 1)
    left = low + np.arange(MEL_BINS) * delta
    center, right = left + delta, left + 2 * delta
    bin_mel = _mel(np.arange(FFT_SIZE // 2 + 1) * SAMPLE_RATE / FFT_SIZE)[None, :]
    up = (bin_mel - left[:, None]) / (center - left)[:, None]
    down = (right[:, None] - bin_mel) / (right - center)[:, None]
    return np.clip(np.minimum(up, down), 0.0, None).T.astype(np.float32)


_BANKS = _mel_banks()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME_LENGTH) / (FRAME_LENGTH - 1))) ** 0.85  # Povey
_EPSILON = np.finfo(np.float32).eps


def log_fbank(waveform: np.ndarray) -> np.ndarray:
    """(frames, 80) float32 mean-normalised log-mel features of a 1-D 16 kHz waveform."""
    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.size < FRAME_LENGTH:
        return np.zeros((0, MEL_BINS), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(waveform, FRAME_LENGTH)[::FRAME_SHIFT]
    frames = frames - frames.mean(axis=1, keepdims=True)
    previous = np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    frames = ((frames - 0.97 * previous) * _WINDOW).astype(np.float32)
    spectrum = np.fft.rfft(frames, n=FFT_SIZE)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    features = np.log(np.maximum(power @ _BANKS, _EPSILON))
    return features - features.mean(axis=0, keepdims=True)
