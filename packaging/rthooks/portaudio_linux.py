"""PyInstaller runtime hook: on Linux, sounddevice loads the PortAudio shipped in the bundle.

sounddevice asks ``ctypes.util.find_library("portaudio")``, which on Linux only searches the
system's linker cache, so a frozen build would use (or miss) the system library even though it
ships its own. Windows and macOS builds carry sounddevice's ``_sounddevice_data`` copy, which
sounddevice already finds by itself, so this hook changes nothing there.
"""

import ctypes.util
import os
import sys

_system_find_library = ctypes.util.find_library


def _bundled_portaudio_first(name):
    if name == "portaudio":
        bundled = os.path.join(sys._MEIPASS, "libportaudio.so.2")
        if os.path.isfile(bundled):
            return bundled
    return _system_find_library(name)


if sys.platform.startswith("linux"):
    ctypes.util.find_library = _bundled_portaudio_first
