"""torch is optional: only the export and the ``torch``/``pyannote`` backends import it."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from app.core.diarization.errors import DiarizationError
from app.paths import frozen_root


def missing_torch_reason() -> str | None:
    """Why torch cannot be used here, in one sentence; None when it is installed (no import)."""
    if importlib.util.find_spec("torch") is not None:
        return None
    if frozen_root() is not None:
        return (
            "This installed build of Sayline carries no PyTorch, which only the torch and pyannote "
            "diarization backends need; the default backend tells speakers apart without it."
        )
    return (
        "This needs PyTorch (the default diarization backend does not): install the CPU build with "
        "`pip install torch==2.13.0` (or `pip install 'sayline[export]'`)."
    )


def import_torch() -> ModuleType:
    reason = missing_torch_reason()
    if reason is not None:
        raise DiarizationError(reason)
    import torch

    return torch
