"""What to capture, as plain data the settings can store and the GUI can pass along."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["microphone", "system"]
Backend = Literal["auto", "portaudio", "parec"]


@dataclass(frozen=True)
class CaptureSource:
    """A microphone or the computer's own output.

    ``device_id``: for a microphone an ``InputDevice.id``; for system audio a specific monitor source
    (Linux) or loopback device id (macOS). None follows the system default, also across changes.
    ``backend`` only matters for system audio on Linux: "auto" uses PortAudio through the ALSA pulse
    plugin and falls back to the ``parec`` tool when that plugin is not installed.
    """

    kind: SourceKind = "microphone"
    device_id: str | None = None
    backend: Backend = "auto"

    def __post_init__(self) -> None:
        if self.kind not in ("microphone", "system"):
            raise ValueError(f"unknown capture source kind: {self.kind!r}")
        if self.backend not in ("auto", "portaudio", "parec"):
            raise ValueError(f"unknown capture backend: {self.backend!r}")
