"""CAM++ speaker embeddings (3D-Speaker's model), rebuilt in plain torch for its checkpoint.

The network reads 80-bin log-mel features: a small 2-D residual front end (FCM), then
densely connected TDNN blocks whose outputs are gated by context-aware masking (CAM),
statistics pooling and a 192-dimensional embedding. Voices of one person land close
together in cosine distance, which is all the clusterer needs. As with segmentation, the
app runs this network's ONNX export; torch runs it for the export and the ``torch`` backend.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from app.core.diarization.errors import CHECKPOINT_ERRORS, DiarizationError
from app.core.diarization.fbank import log_fbank
from app.core.diarization.outputs import EMBEDDING_SIZE, unit_length


def _bn_relu(channels: int) -> nn.Sequential:
    layers = nn.Sequential()
    layers.add_module("batchnorm", nn.BatchNorm1d(channels))
    layers.add_module("relu", nn.ReLU())
    return layers


class ResBlock(nn.Module):
    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, stride=(stride, 1), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = nn.Sequential()
        if stride != 1:
            self.shortcut = nn.Sequential(
                nn.Conv2d(channels, channels, 1, stride=(stride, 1), bias=False), nn.BatchNorm2d(channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + self.shortcut(x))


class FrontEnd(nn.Module):
    """FCM: 2-D convolutions over (frequency, time) that halve the frequency axis three times."""

    def __init__(self, channels: int = 32, mel_bins: int = 80) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.layer1 = nn.Sequential(ResBlock(channels, 2), ResBlock(channels, 1))
        self.layer2 = nn.Sequential(ResBlock(channels, 2), ResBlock(channels, 1))
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=(2, 1), padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.out_channels = channels * (mel_bins // 8)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(features.unsqueeze(1))))
        out = F.relu(self.bn2(self.conv2(self.layer2(self.layer1(out)))))
        return out.flatten(1, 2)


class TdnnLayer(nn.Module):
    def __init__(self, channels_in: int, channels_out: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(
            channels_in, channels_out, kernel, stride=stride, padding=kernel // 2, bias=False
        )
        self.nonlinear = _bn_relu(channels_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x))


class ContextMask(nn.Module):
    """CAM: a local convolution scaled by a gate computed from global and 100-frame means."""

    segment_frames = 100

    def __init__(self, channels: int, out_channels: int, kernel: int, dilation: int) -> None:
        super().__init__()
        padding = (kernel - 1) // 2 * dilation
        self.linear_local = nn.Conv1d(
            channels, out_channels, kernel, padding=padding, dilation=dilation, bias=False
        )
        self.linear1 = nn.Conv1d(channels, channels // 2, 1)
        self.linear2 = nn.Conv1d(channels // 2, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = x.shape[-1]
        segments = F.avg_pool1d(x, self.segment_frames, self.segment_frames, ceil_mode=True)
        local_means = segments.repeat_interleave(self.segment_frames, dim=-1)[..., :frames]
        context = x.mean(-1, keepdim=True) + local_means
        gate = torch.sigmoid(self.linear2(F.relu(self.linear1(context))))
        return self.linear_local(x) * gate


class DenseTdnnLayer(nn.Module):
    def __init__(self, channels: int, growth: int, bottleneck: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.nonlinear1 = _bn_relu(channels)
        self.linear1 = nn.Conv1d(channels, bottleneck, 1, bias=False)
        self.nonlinear2 = _bn_relu(bottleneck)
        self.cam_layer = ContextMask(bottleneck, growth, kernel, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))], dim=1)


class Transit(nn.Module):
    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.nonlinear = _bn_relu(channels_in)
        self.linear = nn.Conv1d(channels_in, channels_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.nonlinear(x))


class StatsPool(nn.Module):
    """Mean and (unbiased) standard deviation over time, written out so that it exports to ONNX."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(-1, keepdim=True)
        variance = (x - mean).pow(2).sum(-1) / (x.shape[-1] - 1)
        return torch.cat([mean.squeeze(-1), variance.sqrt()], dim=1)


class Dense(nn.Module):
    def __init__(self, channels_in: int, channels_out: int) -> None:
        super().__init__()
        self.linear = nn.Conv1d(channels_in, channels_out, 1, bias=False)
        self.nonlinear = nn.Sequential()
        self.nonlinear.add_module("batchnorm", nn.BatchNorm1d(channels_out, affine=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x.unsqueeze(-1)).squeeze(-1))


class CamPlusPlus(nn.Module):
    def __init__(self, growth: int = 32, channels: int = 128) -> None:
        super().__init__()
        self.head = FrontEnd()
        xvector = nn.Sequential()
        xvector.add_module("tdnn", TdnnLayer(self.head.out_channels, channels, 5, stride=2))
        for index, (layers, dilation) in enumerate(((12, 1), (24, 2), (16, 2)), start=1):
            block = nn.Sequential()
            for layer in range(layers):
                block.add_module(
                    f"tdnnd{layer + 1}",
                    DenseTdnnLayer(channels + layer * growth, growth, 4 * growth, 3, dilation),
                )
            xvector.add_module(f"block{index}", block)
            channels += layers * growth
            xvector.add_module(f"transit{index}", Transit(channels, channels // 2))
            channels //= 2
        xvector.add_module("out_nonlinear", _bn_relu(channels))
        xvector.add_module("stats", StatsPool())
        xvector.add_module("dense", Dense(channels * 2, EMBEDDING_SIZE))
        self.xvector = xvector

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.xvector(self.head(features.transpose(1, 2)))


class SpeakerEmbedder:
    """Audio of one speaker in, a unit-length 192-d voice vector out."""

    def __init__(self, checkpoint: Path) -> None:
        try:
            state = torch.load(checkpoint, map_location="cpu", weights_only=True)
            self._model = CamPlusPlus()
            self._model.load_state_dict(state, strict=True)
        except CHECKPOINT_ERRORS as exc:
            raise DiarizationError(
                f"The speaker embedding model {checkpoint} could not be loaded ({exc})."
            ) from exc
        self._model.eval()

    @property
    def network(self) -> nn.Module:
        return self._model

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        features = torch.from_numpy(log_fbank(audio))
        with torch.inference_mode():
            return unit_length(self._model(features[None])[0].numpy())
