"""Loudness of a block for the level meter."""

from __future__ import annotations

import math

import numpy as np

SILENCE_DBFS = -120.0


def rms_dbfs(samples: np.ndarray) -> float:
    """RMS level in dBFS (0 is a full-scale square wave); ``SILENCE_DBFS`` for digital silence.

    A floor instead of ``-inf`` keeps the value plottable and comparable for a meter.
    """
    if samples.size == 0:
        return SILENCE_DBFS
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(SILENCE_DBFS, 20.0 * math.log10(rms)) if rms > 0 else SILENCE_DBFS
