"""Local speaker segmentation in torch: who speaks in each frame of a ~10 s window, overlap aware.

The network is pyannote's segmentation-3.0 (SincNet front end, four bidirectional LSTM
layers, two linear layers, a 7-class powerset output), rebuilt here in plain torch so
that its checkpoint runs without pyannote.audio. The powerset output says, per frame,
which of up to three local speakers speak, at most two at once; local speaker numbers
only mean something within one window, the clusterer links them across windows.

The app runs the ONNX graph exported from this module (app/core/diarization/export.py);
torch runs it only for the export, its numeric check and the ``torch`` backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from app.core.decoding import SAMPLE_RATE
from app.core.diarization.errors import CHECKPOINT_ERRORS, DiarizationError
from app.core.diarization.outputs import (
    MIN_WINDOW_SAMPLES,
    POWERSET,
    TIMING_KEYS,
    activity_from_powerset,
    no_activity,
)
from app.core.diarization.streaming import FrameTiming


class SincFilters(nn.Module):
    """Learned band-pass filters (SincNet): 40 bands, each as a cosine and a sine filter."""

    def __init__(self, bands: int = 40, kernel_size: int = 251, stride: int = 10) -> None:
        super().__init__()
        self.stride = stride
        self.low_hz_ = nn.Parameter(torch.zeros(bands, 1))
        self.band_hz_ = nn.Parameter(torch.zeros(bands, 1))
        self.register_buffer("window_", torch.zeros(kernel_size // 2))
        self.register_buffer("n_", torch.zeros(1, kernel_size // 2))

    def kernels(self) -> torch.Tensor:
        min_low_hz = min_band_hz = 50.0
        low = min_low_hz + self.low_hz_.abs()
        high = torch.clamp(low + min_band_hz + self.band_hz_.abs(), min_low_hz, SAMPLE_RATE / 2)
        band = high - low
        phase_low, phase_high = low @ self.n_, high @ self.n_
        half_n = self.n_ / 2
        cos_left = (phase_high.sin() - phase_low.sin()) / half_n * self.window_
        sin_left = (phase_low.cos() - phase_high.cos()) / half_n * self.window_
        cos = torch.cat([cos_left, 2 * band, cos_left.flip(1)], dim=1)
        sin = torch.cat([sin_left, torch.zeros_like(band), -sin_left.flip(1)], dim=1)
        return (torch.cat([cos, sin]) / (2 * torch.cat([band, band]))).unsqueeze(1)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return F.conv1d(waveform, self.kernels(), stride=self.stride)


class _FilterbankEncoder(nn.Module):
    """Holds the filters under the checkpoint's ``conv1d.0.filterbank`` name."""

    def __init__(self) -> None:
        super().__init__()
        self.filterbank = SincFilters()

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.filterbank(waveform)


class SincNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.wav_norm1d = nn.InstanceNorm1d(1, affine=True)
        self.conv1d = nn.ModuleList([_FilterbankEncoder(), nn.Conv1d(80, 60, 5), nn.Conv1d(60, 60, 5)])
        self.pool1d = nn.ModuleList([nn.MaxPool1d(3, stride=3) for _ in range(3)])
        self.norm1d = nn.ModuleList([nn.InstanceNorm1d(n, affine=True) for n in (80, 60, 60)])

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        out = self.wav_norm1d(waveform)
        for index, (conv, pool, norm) in enumerate(zip(self.conv1d, self.pool1d, self.norm1d, strict=True)):
            out = conv(out)
            if index == 0:
                out = out.abs()
            out = F.leaky_relu(norm(pool(out)))
        return out


class PyanNet(nn.Module):
    def __init__(self, classes: int = len(POWERSET)) -> None:
        super().__init__()
        self.sincnet = SincNet()
        self.lstm = nn.LSTM(60, 128, num_layers=4, bidirectional=True, batch_first=True)
        self.linear = nn.ModuleList([nn.Linear(256, 128), nn.Linear(128, 128)])
        self.classifier = nn.Linear(128, classes)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.sincnet(waveform).transpose(1, 2))
        for linear in self.linear:
            out = F.leaky_relu(linear(out))
        return F.log_softmax(self.classifier(out), dim=-1)


class LocalSegmentation:
    """Runs segmentation-3.0 on one window at a time and returns per-speaker activity."""

    def __init__(self, checkpoint: Path) -> None:
        try:
            payload = torch.load(checkpoint, map_location="cpu", weights_only=True)
            self._model = PyanNet(payload["model"]["output_dim"])
            self._model.load_state_dict(payload["state_dict"], strict=True)
            self.timing = {key: float(payload["model"][key]) for key in TIMING_KEYS}
            self.frames = FrameTiming(
                self.timing["frame_start"] + self.timing["frame_duration"] / 2, self.timing["frame_step"]
            )
        except CHECKPOINT_ERRORS as exc:
            raise DiarizationError(
                f"The speaker segmentation model {checkpoint} could not be loaded ({exc})."
            ) from exc
        self._model.eval()

    @property
    def network(self) -> nn.Module:
        return self._model

    def __call__(self, window: np.ndarray) -> np.ndarray:
        """(frames, 3) activity in {0, 1} for a mono 16 kHz window of at most 10 s."""
        if window.size < MIN_WINDOW_SAMPLES:
            return no_activity()
        with torch.inference_mode():
            log_probs = self._model(
                torch.from_numpy(np.ascontiguousarray(window, dtype=np.float32))[None, None]
            )
        return activity_from_powerset(log_probs[0].numpy())
