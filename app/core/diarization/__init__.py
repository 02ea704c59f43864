"""Streaming speaker diarization: who is speaking, labelled 1, 2, 3… for a whole session.

Importing this package is cheap: the models load only in :func:`load_models`.
"""

from app.core.diarization.backends import BACKENDS, DiarizationModels, load_models, unavailable_reason
from app.core.diarization.clusters import ClusterSettings
from app.core.diarization.errors import DiarizationError
from app.core.diarization.options import MAX_SPEAKERS_LIMIT, DiarizationOptions
from app.core.diarization.streaming import DiarizationSettings, StreamingDiarizer
from app.core.diarization.turns import SpeakerTurn

__all__ = [
    "BACKENDS",
    "MAX_SPEAKERS_LIMIT",
    "ClusterSettings",
    "DiarizationError",
    "DiarizationModels",
    "DiarizationOptions",
    "DiarizationSettings",
    "SpeakerTurn",
    "StreamingDiarizer",
    "load_models",
    "unavailable_reason",
]
