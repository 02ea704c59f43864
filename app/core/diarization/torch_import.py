"""torch is an optional dependency: import it with a sentence that says how to get it."""

from __future__ import annotations

from types import ModuleType

from app.core.diarization.errors import DiarizationError


def import_torch() -> ModuleType:
    try:
        import torch
    except ImportError as exc:
        raise DiarizationError(
            "Speaker diarization needs PyTorch: install the CPU build with "
            "`pip install torch==2.13.0` (or `pip install sayline[diarization]`)."
        ) from exc
    return torch
