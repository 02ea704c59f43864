"""What both model backends share: reading the networks' raw outputs the same way.

segmentation-3.0 answers with a 7-class powerset per frame (none, each of three local
speakers alone, each pair together); CAM++ answers with an unnormalised 192-d vector. The
streaming rules want per-speaker activity in {0, 1} and unit-length voice vectors, whichever
runtime computed them.
"""

from __future__ import annotations

import numpy as np

from app.core.decoding import SAMPLE_RATE

POWERSET = ((), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2))
LOCAL_SPEAKERS = 3
MIN_WINDOW_SAMPLES = SAMPLE_RATE // 10  # shorter windows give no frames worth reading
EMBEDDING_SIZE = 192
# The segmentation checkpoint's frame geometry; the ONNX export carries the same keys as metadata.
TIMING_KEYS = ("frame_start", "frame_duration", "frame_step")

_POWERSET_MATRIX = np.array(
    [[1.0 if speaker in speakers else 0.0 for speaker in range(LOCAL_SPEAKERS)] for speakers in POWERSET],
    dtype=np.float32,
)


def no_activity() -> np.ndarray:
    return np.zeros((0, LOCAL_SPEAKERS), dtype=np.float32)


def activity_from_powerset(log_probs: np.ndarray) -> np.ndarray:
    """(frames, 7) powerset scores -> (frames, 3) activity: the likeliest class's speakers."""
    return _POWERSET_MATRIX[np.asarray(log_probs).argmax(axis=-1)]


def unit_length(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
