"""Finding speech-recognition weights on disk: bundled packages, downloads, a user folder.

``base`` and ``tiny.en`` ship with Sayline (:mod:`app.core.bundled_models`). The other
catalogue names (``small``, ``large-v3``…) are models the user downloaded on request
(:mod:`app.core.model_download`). Anything else must be a faster-whisper (CTranslate2) model
folder: a bare size name is never handed to faster-whisper, which would reach for the network.
"""

from __future__ import annotations

from pathlib import Path

from app.core.bundled_models import BUNDLED, bundled_model
from app.core.model_download import downloaded_model
from app.core.model_errors import ModelError, Progress

DEFAULT_MODEL = "base"


def resolve_model(name_or_path: str, progress: Progress | None = None) -> Path:
    """The folder faster-whisper should load for a model name or path.

    A catalogue name (``small``) means the downloaded model, even if a folder of that name is
    in the current directory (``./small`` names the folder).
    """
    if name_or_path in BUNDLED:
        return bundled_model(name_or_path, progress)
    if downloaded := downloaded_model(name_or_path):
        return downloaded
    folder = Path(name_or_path).expanduser()
    if not folder.exists():
        raise ModelError(
            f"No model called {name_or_path!r}: use 'base', 'tiny.en', a model from `sayline models "
            "list`, or the path of a faster-whisper model folder."
        )
    if not folder.is_dir() or not (folder / "model.bin").is_file():
        raise ModelError(
            f"{folder} is not a faster-whisper model folder (it needs model.bin and config.json)."
        )
    has_vocabulary = any((folder / name).is_file() for name in ("vocabulary.txt", "vocabulary.json"))
    if not (folder / "config.json").is_file() or not has_vocabulary:
        raise ModelError(
            f"The model folder {folder} is incomplete: it needs config.json and a vocabulary file."
        )
    return folder
