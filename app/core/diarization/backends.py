"""Diarization backends: the models behind StreamingDiarizer, loaded once per process.

``default`` runs pyannote's segmentation-3.0 network rebuilt in plain torch; ``pyannote``
runs the same checkpoint through pyannote.audio's own classes (an optional install).
Both use CAM++ voice vectors and the same streaming rules, so they are interchangeable
per stream. torch is imported only here, only when diarization is switched on.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.core.diarization.errors import DiarizationError
from app.core.diarization.streaming import (
    DiarizationSettings,
    Embedder,
    FrameTiming,
    Segmenter,
    StreamingDiarizer,
)
from app.core.diarization.torch_import import import_torch
from app.core.diarization.weights import (
    EMBEDDING_FILE,
    PYANNOTE_SEGMENTATION_FILE,
    SEGMENTATION_FILE,
    weight_file,
)

log = logging.getLogger(__name__)

BACKENDS = ("default", "pyannote")
PYANNOTE_INSTALL = "the steps in README's 'Diarization backends' (torch==2.13.0, then pyannote.audio==4.0.7)"


@dataclass(frozen=True)
class DiarizationModels:
    segmenter: Segmenter
    embedder: Embedder
    frames: FrameTiming

    def stream(self, settings: DiarizationSettings | None = None) -> StreamingDiarizer:
        return StreamingDiarizer(self.segmenter, self.embedder, self.frames, settings)


def _default_segmenter() -> tuple[Segmenter, FrameTiming]:
    from app.core.diarization.segmentation import LocalSegmentation

    segmentation = LocalSegmentation(weight_file(SEGMENTATION_FILE))
    return segmentation, segmentation.frames


def _pyannote_segmenter() -> tuple[Segmenter, FrameTiming]:
    # pyannote.audio 4 sends usage telemetry on every model load unless told not to: Sayline is offline.
    os.environ["PYANNOTE_METRICS_ENABLED"] = "0"
    from app.core.diarization.segmentation import MIN_WINDOW_SAMPLES

    try:
        with warnings.catch_warnings():  # "torchcodec is not installed": unused, audio arrives as tensors
            warnings.simplefilter("ignore", UserWarning)
            from pyannote.audio import Model
        from pyannote.audio.utils.powerset import Powerset
    except Exception as exc:  # a broken torchaudio raises OSError, not ImportError
        raise DiarizationError(
            f"The pyannote diarization backend needs pyannote.audio ({exc}); "
            f"install it with {PYANNOTE_INSTALL}."
        ) from exc
    torch = import_torch()
    model = Model.from_pretrained(str(weight_file(PYANNOTE_SEGMENTATION_FILE)))
    model.eval()
    spec = model.specifications
    powerset = Powerset(len(spec.classes), spec.powerset_max_classes)
    field = model.receptive_field

    def segment(window: np.ndarray) -> np.ndarray:
        if window.size < MIN_WINDOW_SAMPLES:
            return np.zeros((0, len(spec.classes)), dtype=np.float32)
        with torch.inference_mode():
            scores = model(torch.from_numpy(np.ascontiguousarray(window, dtype=np.float32))[None, None])
            return powerset.to_multilabel(scores)[0].numpy()

    return segment, FrameTiming(field.start + field.duration / 2, field.step)


_SEGMENTERS: dict[str, Callable[[], tuple[Segmenter, FrameTiming]]] = {
    "default": _default_segmenter,
    "pyannote": _pyannote_segmenter,
}
_loaded: dict[str, DiarizationModels] = {}
_lock = threading.Lock()


def load_models(backend: str = "default") -> DiarizationModels:
    """The backend's models, loaded on first use and shared by every stream afterwards."""
    if backend not in _SEGMENTERS:
        raise DiarizationError(
            f"Unknown diarization backend {backend!r}; choose one of: {', '.join(BACKENDS)}."
        )
    with _lock:
        if backend not in _loaded:
            torch = import_torch()
            torch.set_num_threads(1)  # one core for diarization, the rest stay with the recogniser
            from app.core.diarization.campplus import SpeakerEmbedder

            segmenter, frames = _SEGMENTERS[backend]()
            embedder = SpeakerEmbedder(weight_file(EMBEDDING_FILE))
            log.info("diarization backend %s loaded", backend)
            _loaded[backend] = DiarizationModels(segmenter, embedder, frames)
        return _loaded[backend]
