"""The one place that loads sounddevice and touches PortAudio's process-wide state.

Importing sounddevice fails with an ``OSError`` when the PortAudio library is missing; doing it here,
lazily, turns that into a sentence instead of an import-time crash of the whole app. PortAudio is also
process-global: re-scanning devices (terminate + initialize) would kill every open stream, so streams
opened by Sayline are counted and a re-scan only happens while none is open.
"""

from __future__ import annotations

import threading
import time
from types import ModuleType

from app.audio.errors import AudioError

# Serialises stream opens, re-scans and the process-environment tweaks some opens need (PULSE_SOURCE).
LOCK = threading.RLock()
_open_streams = 0
_last_rescan = float("-inf")


def sounddevice() -> ModuleType:
    """The sounddevice module, or ``AudioError`` when PortAudio cannot be loaded."""
    try:
        import sounddevice as sd
    except OSError as exc:
        raise AudioError(
            "Sayline cannot use audio devices because the PortAudio library is missing; install it "
            "(on Debian or Ubuntu: sudo apt install libportaudio2) and restart Sayline."
        ) from exc
    except ImportError as exc:
        raise AudioError(
            "Sayline cannot use audio devices because its sounddevice package is missing; reinstall Sayline."
        ) from exc
    return sd


def stream_opened() -> None:
    global _open_streams
    with LOCK:
        _open_streams += 1


def stream_closed() -> None:
    global _open_streams
    with LOCK:
        _open_streams = max(0, _open_streams - 1)


def rescan(min_interval: float = 0.0) -> bool:
    """Make PortAudio enumerate devices again (a device plugged in since start); False if not done.

    PortAudio only enumerates devices when it initialises, so a USB microphone plugged in later is
    invisible until this runs. It is refused while any Sayline stream is open because terminating
    PortAudio would close that stream under its owner, and skipped within ``min_interval`` seconds of
    the previous one because enumerating can take a noticeable fraction of a second.
    """
    global _last_rescan
    sd = sounddevice()
    with LOCK:
        if _open_streams or time.monotonic() - _last_rescan < min_interval:
            return False
        sd._terminate()
        sd._initialize()
        _last_rescan = time.monotonic()
        return True
