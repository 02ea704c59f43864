"""System audio ("what the computer is playing") per OS, or a sentence saying how to get it.

Linux: the default output's monitor source on PulseAudio or PipeWire-Pulse. Windows: WASAPI loopback
through the optional PyAudioWPatch. macOS has no loopback capture of its own, so a virtual loopback
device (BlackHole and the like) must be installed and selected as the output.
"""

from __future__ import annotations

import functools
import shutil
import sys
from dataclasses import dataclass

from app.audio import pulse
from app.audio.blockqueue import BlockQueue
from app.audio.devices import InputDevice, list_input_devices
from app.audio.errors import AudioError
from app.audio.inputs import AudioInput, OpenedInput
from app.audio.inputs.parec import ParecInput
from app.audio.inputs.stream import PortAudioInput
from app.audio.pulse import MonitorSource
from app.audio.source import Backend, CaptureSource

LOOPBACK_NAMES = ("blackhole", "loopback", "soundflower")
NO_LINUX_BACKEND = (
    "System audio needs the ALSA pulse plugin or the parec tool; install them "
    "(on Debian or Ubuntu: sudo apt install libasound2-plugins pulseaudio-utils)."
)
BLACKHOLE_HINT = (
    "No loopback audio device was found; install BlackHole (brew install blackhole-2ch), then in Audio "
    "MIDI Setup create a Multi-Output Device with your speakers and BlackHole and make it the output."
)


@dataclass(frozen=True)
class SystemAudioUnavailable:
    """Why system audio cannot be captured here, as one sentence with what to do."""

    reason: str


def find_system_audio() -> CaptureSource | SystemAudioUnavailable:
    """A source AudioCapture can open for system audio on this OS, or the reason there is none."""
    try:
        if sys.platform.startswith("linux"):
            pulse.resolve_monitor(None)
            if _alsa_pulse_device() is None and shutil.which("parec") is None:
                raise AudioError(NO_LINUX_BACKEND)
            return CaptureSource("system")
        if sys.platform == "win32":
            from app.audio.inputs import wasapi

            pyaudio = wasapi.load_pyaudiowpatch()
            pa = pyaudio.PyAudio()
            try:
                wasapi.default_loopback(pyaudio, pa)
            finally:
                pa.terminate()
            return CaptureSource("system")
        if sys.platform == "darwin":
            return CaptureSource("system", _mac_loopback(None).id)
    except AudioError as exc:
        return SystemAudioUnavailable(str(exc))
    return SystemAudioUnavailable(f"Sayline cannot capture system audio on {sys.platform}.")


def list_monitor_sources() -> list[MonitorSource]:
    """Linux: every output's monitor source, the default output's marked (empty elsewhere)."""
    if not sys.platform.startswith("linux"):
        return []
    return pulse.list_monitor_sources()


def open_system_input(source: CaptureSource, queue: BlockQueue) -> OpenedInput:
    """Open system-audio capture for ``source`` feeding ``queue``; ``AudioError`` when not possible."""
    if sys.platform.startswith("linux"):
        return _open_linux(source, queue)
    if sys.platform == "win32":
        from app.audio.inputs.wasapi import WasapiLoopbackInput

        loopback = WasapiLoopbackInput(queue)
        loopback.open()
        return OpenedInput(loopback)
    if sys.platform == "darwin":
        device = _mac_loopback(source.device_id)
        stream = PortAudioInput(device, queue, description=f"system audio ({device.name})")
        stream.open()
        return OpenedInput(stream)
    raise AudioError(f"Sayline cannot capture system audio on {sys.platform}.")


def _open_linux(source: CaptureSource, queue: BlockQueue) -> OpenedInput:
    """The monitor through PortAudio's ALSA "pulse" device with PULSE_SOURCE set, else through parec.

    The PortAudio path keeps one capture mechanism for microphones and system audio; parec covers
    systems where the ALSA pulse plugin (libasound2-plugins) is not installed.
    """
    monitor = pulse.resolve_monitor(source.device_id)
    opened = open_monitor_input(monitor, queue, source.backend, f"system audio ({monitor})")
    return OpenedInput(opened, functools.partial(pulse.monitor_problem, monitor, source.device_id is None))


def open_monitor_input(monitor: str, queue: BlockQueue, backend: Backend, description: str) -> AudioInput:
    """Record the PulseAudio source ``monitor`` (an output's monitor); shared with one-app capture."""
    device = _alsa_pulse_device() if backend in ("auto", "portaudio") else None
    if device is None and backend == "portaudio":
        raise AudioError(
            "Capturing system audio through PortAudio needs the ALSA pulse plugin; install it "
            "(on Debian or Ubuntu: sudo apt install libasound2-plugins)."
        )
    opened: AudioInput
    if device is not None:
        opened = PortAudioInput(device, queue, env={"PULSE_SOURCE": monitor}, description=description)
    else:
        opened = ParecInput(monitor, queue, description=description)
    opened.open()
    return opened


def _alsa_pulse_device() -> InputDevice | None:
    """PortAudio's ALSA "pulse" device; None without the plugin, or without PortAudio (parec may work)."""
    try:
        devices = list_input_devices()
    except AudioError:
        return None
    for device in devices:
        if device.host_api == "ALSA" and device.name == "pulse":
            return device
    return None


def _mac_loopback(device_id: str | None) -> InputDevice:
    devices = list_input_devices()
    if device_id is not None:
        for device in devices:
            if device.id == device_id:
                return device
    for device in devices:
        if any(word in device.name.lower() for word in LOOPBACK_NAMES):
            return device
    raise AudioError(BLACKHOLE_HINT)
