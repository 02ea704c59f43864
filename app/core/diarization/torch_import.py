"""torch is an optional dependency: import it with a sentence that says how to get it."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from app.core.diarization.errors import DiarizationError


def missing_torch_reason() -> str | None:
    """Why diarization cannot run here, in one sentence; None when torch is installed (no import)."""
    if importlib.util.find_spec("torch") is not None:
        return None
    if getattr(sys, "frozen", False):
        return (
            "This installed build of Sayline has no speaker diarization (PyTorch would double its "
            "size); install Sayline from source, as its README says, to tell speakers apart."
        )
    return (
        "Speaker diarization needs PyTorch: install the CPU build with "
        "`pip install torch==2.13.0` (or `pip install sayline[diarization]`)."
    )


def import_torch() -> ModuleType:
    reason = missing_torch_reason()
    if reason is not None:
        raise DiarizationError(reason)
    import torch

    return torch
