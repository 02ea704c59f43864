"""The default diarization backend: segmentation-3.0 and CAM++ as ONNX graphs on ONNX Runtime.

ONNX Runtime already ships with the app (faster-whisper's Silero VAD runs on it), so speakers
cost two small files instead of PyTorch. Each graph runs on one thread, leaving the other
cores to the recogniser; a CUDA build of ONNX Runtime runs them on the GPU, and falls back
to the CPU when the GPU cannot take them, as the recogniser does.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from app.core.diarization.errors import DiarizationError
from app.core.diarization.fbank import log_fbank
from app.core.diarization.outputs import (
    MIN_WINDOW_SAMPLES,
    TIMING_KEYS,
    activity_from_powerset,
    no_activity,
    unit_length,
)
from app.core.diarization.streaming import FrameTiming
from app.core.onnx_options import one_thread_options

log = logging.getLogger(__name__)

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
LOG_ERRORS = 3  # ONNX Runtime's warnings would reach the user's terminal; its errors still may


def open_session(path: Path, role: str, damaged_hint: str) -> ort.InferenceSession:
    """A session on the GPU where ONNX Runtime has one, else the CPU; a damaged file is one sentence."""
    if not path.is_file():
        raise DiarizationError(f"The speaker {role} model {path} is missing; {damaged_hint}")
    if CUDA in ort.get_available_providers():
        try:
            return ort.InferenceSession(str(path), one_thread_options(LOG_ERRORS), providers=[CUDA, CPU])
        except Exception as exc:
            log.warning("speaker %s model: the GPU failed (%s); running it on the CPU", role, exc)
    try:
        return ort.InferenceSession(str(path), one_thread_options(LOG_ERRORS), providers=[CPU])
    except Exception as exc:  # ONNX Runtime raises its own Fail/InvalidProtobuf/… types
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DiarizationError(
            f"The speaker {role} model {path} is damaged ({first_line[:200]}); {damaged_hint}"
        ) from exc


class OnnxSegmentation:
    """segmentation-3.0 on one window at a time: per-frame activity of three local speakers."""

    def __init__(self, path: Path, damaged_hint: str) -> None:
        self._session = open_session(path, "segmentation", damaged_hint)
        metadata = self._session.get_modelmeta().custom_metadata_map
        try:
            timing = {key: float(metadata[key]) for key in TIMING_KEYS}
        except (KeyError, ValueError) as exc:
            raise DiarizationError(
                f"The speaker segmentation model {path} lacks its frame timing ({exc}); {damaged_hint}"
            ) from exc
        self.frames = FrameTiming(timing["frame_start"] + timing["frame_duration"] / 2, timing["frame_step"])
        self._input = self._session.get_inputs()[0].name

    def log_probs(self, window: np.ndarray) -> np.ndarray:
        """(frames, 7) powerset log-probabilities, the network's raw answer."""
        waveform = np.ascontiguousarray(window, dtype=np.float32)[None, None]
        (log_probs,) = self._session.run(None, {self._input: waveform})
        return log_probs[0]

    def __call__(self, window: np.ndarray) -> np.ndarray:
        """(frames, 3) activity in {0, 1} for a mono 16 kHz window of at most 10 s."""
        if window.size < MIN_WINDOW_SAMPLES:
            return no_activity()
        return activity_from_powerset(self.log_probs(window))


class OnnxEmbedder:
    """CAM++: speech of one voice in, a unit-length 192-d voice vector out."""

    def __init__(self, path: Path, damaged_hint: str) -> None:
        self._session = open_session(path, "embedding", damaged_hint)
        self._input = self._session.get_inputs()[0].name

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        (embedding,) = self._session.run(None, {self._input: log_fbank(audio)[None]})
        return unit_length(embedding[0])
