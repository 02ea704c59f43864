"""Diarization backends: the models behind StreamingDiarizer, loaded once per process.

``default`` runs segmentation-3.0 and CAM++ as ONNX graphs on ONNX Runtime: no PyTorch.
``torch`` runs the same checkpoints in the plain-torch rebuild the graphs are exported from,
and ``pyannote`` the segmentation checkpoint through pyannote.audio's own classes; both need
torch (an optional install) and exist to check the default against. All three feed the same
streaming rules, so they are interchangeable per stream.
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
from app.core.diarization.outputs import MIN_WINDOW_SAMPLES, no_activity
from app.core.diarization.streaming import (
    DiarizationSettings,
    Embedder,
    FrameTiming,
    Segmenter,
    StreamingDiarizer,
)
from app.core.diarization.torch_import import import_torch, missing_torch_reason
from app.core.diarization.weights import (
    EMBEDDING_FILE,
    EMBEDDING_ONNX,
    EXPORT_COMMAND,
    PYANNOTE_SEGMENTATION_FILE,
    SEGMENTATION_FILE,
    SEGMENTATION_ONNX,
    checkpoint_file,
    find_onnx_dir,
    missing_onnx_reason,
)
from app.paths import frozen_root

log = logging.getLogger(__name__)

BACKENDS = ("default", "torch", "pyannote")
PYANNOTE_INSTALL = "the steps in README's 'Diarization backends' (torch==2.13.0, then pyannote.audio==4.0.7)"


@dataclass(frozen=True)
class DiarizationModels:
    segmenter: Segmenter
    embedder: Embedder
    frames: FrameTiming

    def stream(self, settings: DiarizationSettings | None = None) -> StreamingDiarizer:
        return StreamingDiarizer(self.segmenter, self.embedder, self.frames, settings)


def unavailable_reason(backend: str = "default") -> str | None:
    """Why this backend cannot run here, in one sentence (nothing is imported); None when it can."""
    return missing_onnx_reason() if backend == "default" else missing_torch_reason()


def load_onnx_backend() -> DiarizationModels:
    """The default backend from wherever its graphs are found (not cached: load_models caches)."""
    from app.core.diarization.onnx_models import OnnxEmbedder, OnnxSegmentation

    folder = find_onnx_dir()
    if folder is None:
        raise DiarizationError(missing_onnx_reason())
    hint = "reinstall Sayline." if frozen_root() else f"make it again with `{EXPORT_COMMAND}`."
    segmentation = OnnxSegmentation(folder / SEGMENTATION_ONNX, hint)
    return DiarizationModels(segmentation, OnnxEmbedder(folder / EMBEDDING_ONNX, hint), segmentation.frames)


def _torch_embedder() -> Embedder:
    from app.core.diarization.campplus import SpeakerEmbedder

    return SpeakerEmbedder(checkpoint_file(EMBEDDING_FILE))


def _torch_models() -> DiarizationModels:
    import_torch().set_num_threads(1)  # one core for diarization, the rest stay with the recogniser
    from app.core.diarization.segmentation import LocalSegmentation

    segmentation = LocalSegmentation(checkpoint_file(SEGMENTATION_FILE))
    return DiarizationModels(segmentation, _torch_embedder(), segmentation.frames)


def _pyannote_models() -> DiarizationModels:
    torch = import_torch()
    torch.set_num_threads(1)
    # pyannote.audio 4 sends usage telemetry on every model load unless told not to: Sayline is offline.
    os.environ["PYANNOTE_METRICS_ENABLED"] = "0"
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
    model = Model.from_pretrained(str(checkpoint_file(PYANNOTE_SEGMENTATION_FILE)))
    model.eval()
    spec = model.specifications
    powerset = Powerset(len(spec.classes), spec.powerset_max_classes)
    field = model.receptive_field

    def segment(window: np.ndarray) -> np.ndarray:
        if window.size < MIN_WINDOW_SAMPLES:
            return no_activity()
        with torch.inference_mode():
            scores = model(torch.from_numpy(np.ascontiguousarray(window, dtype=np.float32))[None, None])
            return powerset.to_multilabel(scores)[0].numpy()

    frames = FrameTiming(field.start + field.duration / 2, field.step)
    return DiarizationModels(segment, _torch_embedder(), frames)


_BACKENDS: dict[str, Callable[[], DiarizationModels]] = {
    "default": load_onnx_backend,
    "torch": _torch_models,
    "pyannote": _pyannote_models,
}
_loaded: dict[str, DiarizationModels] = {}
_lock = threading.Lock()


def load_models(backend: str = "default") -> DiarizationModels:
    """The backend's models, loaded on first use and shared by every stream afterwards."""
    if backend not in _BACKENDS:
        raise DiarizationError(
            f"Unknown diarization backend {backend!r}; choose one of: {', '.join(BACKENDS)}."
        )
    with _lock:
        if backend not in _loaded:
            _loaded[backend] = _BACKENDS[backend]()
            log.info("diarization backend %s loaded", backend)
        return _loaded[backend]
