"""What to capture, as plain data the settings can store and the GUI can pass along."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SourceKind = Literal["microphone", "system", "app"]
Backend = Literal["auto", "portaudio", "parec"]


@dataclass(frozen=True)
class CaptureSource:
    """A microphone, the computer's own output, or one application's sound.

    ``device_id``: for a microphone an ``InputDevice.id``; for system audio a specific monitor source
    (Linux) or loopback device id (macOS); for one application ("app") the ``PlayingApp.key`` picked
    from ``list_playing_apps()``. None follows the system default, also across changes (for "app":
    none picked yet). ``backend`` only matters for system audio and applications on Linux: "auto"
    uses PortAudio through the ALSA pulse plugin and falls back to the ``parec`` tool when that plugin
    is not installed.
    """

    kind: SourceKind = "microphone"
    device_id: str | None = None
    backend: Backend = "auto"

    def __post_init__(self) -> None:
        if self.kind not in ("microphone", "system", "app"):
            raise ValueError(f"unknown capture source kind: {self.kind!r}")
        if self.backend not in ("auto", "portaudio", "parec"):
            raise ValueError(f"unknown capture backend: {self.backend!r}")
