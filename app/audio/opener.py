"""Turns a ``CaptureSource`` into an open input feeding a queue: the one place that picks a backend."""

from __future__ import annotations

from app.audio.app_capture import open_app_input
from app.audio.blockqueue import BlockQueue
from app.audio.devices import InputDevice, resolve_input_device
from app.audio.errors import AudioError
from app.audio.inputs import OpenedInput
from app.audio.inputs.stream import PortAudioInput
from app.audio.source import CaptureSource
from app.audio.system_audio import open_system_input


def open_input(source: CaptureSource, queue: BlockQueue) -> OpenedInput:
    """Open ``source``; ``AudioError`` when nothing can be opened."""
    if source.kind == "system":
        return open_system_input(source, queue)
    if source.kind == "app":
        return open_app_input(source, queue)
    return _open_microphone(source, queue)


def _open_microphone(source: CaptureSource, queue: BlockQueue) -> OpenedInput:
    """The chosen input, else the default one, so captions go on when a saved microphone is gone.

    PortAudio keeps listing an unplugged device until it re-scans (which it cannot do while another
    capture is open), so a chosen device that is listed but fails to open also falls back.
    """
    device = resolve_input_device(source.device_id)
    try:
        return _open_device(device, source, queue)
    except AudioError:
        if source.device_id is None or device.is_default:
            raise
    return _open_device(resolve_input_device(None), source, queue)


def _open_device(device: InputDevice, source: CaptureSource, queue: BlockQueue) -> OpenedInput:
    description = f"{device.name} ({device.host_api})"
    if source.device_id is not None and device.id != source.device_id:
        description = f"the default input {description}, because {source.device_id} is not available"
    stream = PortAudioInput(device, queue, description=description)
    stream.open()
    return OpenedInput(stream)
