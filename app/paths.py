"""Where bundled resources live, from a source checkout and from a frozen installer build."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    root = Path(frozen_root) if frozen_root else Path(__file__).resolve().parent.parent
    return root / "resources"


def demo_sample() -> Path:
    return resources_dir() / "samples" / "jfk.wav"
