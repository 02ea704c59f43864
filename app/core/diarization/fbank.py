"""Kaldi-style log-mel filterbank features, the input CAM++ was trained on.

80 mel bins, 25 ms Povey windows every 10 ms, pre-emphasis 0.97, DC removed, power
spectrum, no dither; then the mean over the segment is subtracted (CMN), which also
cancels any constant gain, so the waveform's scale does not matter.
"""

from __future__ import annotations

import torch

from app.core.decoding import SAMPLE_RATE

FRAME_LENGTH = 400  # 25 ms
FRAME_SHIFT = 160  # 10 ms
FFT_SIZE = 512
MEL_BINS = 80
LOW_HZ = 20.0


def _mel(hz: torch.Tensor) -> torch.Tensor:
    return 1127.0 * torch.log1p(hz / 700.0)


def _mel_banks() -> torch.Tensor:
    """(80, 257) triangular filters, equally spaced on Kaldi's mel scale from 20 Hz to Nyquist."""
    nyquist = SAMPLE_RATE / 2
    low, high = _mel(torch.tensor(LOW_HZ)), _mel(torch.tensor(nyquist))
    delta = (high - low) / (MEL_BINS + 1)
    left = low + torch.arange(MEL_BINS) * delta
    center, right = left + delta, left + 2 * delta
    bin_mel = _mel(torch.arange(FFT_SIZE // 2 + 1) * SAMPLE_RATE / FFT_SIZE)[None, :]
    up = (bin_mel - left[:, None]) / (center - left)[:, None]
    down = (right[:, None] - bin_mel) / (right - center)[:, None]
    return torch.clamp(torch.minimum(up, down), min=0.0)


_BANKS = _mel_banks()
_WINDOW = torch.hann_window(FRAME_LENGTH, periodic=False).pow(0.85)  # Kaldi's "povey" window


def log_fbank(waveform: torch.Tensor) -> torch.Tensor:
    """(frames, 80) mean-normalised log-mel features of a 1-D 16 kHz waveform."""
    if waveform.numel() < FRAME_LENGTH:
        return torch.zeros(0, MEL_BINS)
    frames = waveform.unfold(0, FRAME_LENGTH, FRAME_SHIFT)
    frames = frames - frames.mean(dim=1, keepdim=True)
    previous = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
    frames = (frames - 0.97 * previous) * _WINDOW
    power = torch.fft.rfft(frames, n=FFT_SIZE).abs().pow(2)
    features = torch.log(torch.clamp(power @ _BANKS.T, min=torch.finfo(torch.float32).eps))
    return features - features.mean(dim=0, keepdim=True)

