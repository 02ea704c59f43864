"""Where bundled resources live, from a source checkout and from a frozen installer build, and
where the user's data goes.

A PyInstaller build unpacks (one-folder: ships) everything under ``sys._MEIPASS``; a checkout
keeps ``resources/`` beside the ``app`` package. Nothing else in the app may guess paths.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs


def frozen_root() -> Path | None:
    """The installer build's bundle folder, or None when running from a checkout or a pip install."""
    root = getattr(sys, "_MEIPASS", None)
    return Path(root) if root else None


def resources_dir() -> Path:
    root = frozen_root() or Path(__file__).resolve().parent.parent
    return root / "resources"


def demo_sample() -> Path:
    return resources_dir() / "samples" / "jfk.wav"


def bundled_models_dir() -> Path | None:
    """Models an installer build carries ready to load (base already joined); None elsewhere."""
    root = frozen_root()
    return root / "models" if root else None


def data_dir() -> Path:
    """Where Sayline keeps prepared models and logs; ``SAYLINE_DATA_DIR`` overrides it."""
    override = os.environ.get("SAYLINE_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("Sayline", "Sayline"))
