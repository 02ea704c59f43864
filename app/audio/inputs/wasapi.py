"""System audio on Windows: WASAPI loopback of the default output, through the optional PyAudioWPatch.

PortAudio as bundled with sounddevice cannot open an output device for loopback capture; the
PyAudioWPatch fork exposes every output as a "[Loopback]" input device. It is imported lazily because it
only exists on Windows. Not exercised by the Linux test suite; kept small so it is easy to review.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from app.audio.blockqueue import BlockQueue
from app.audio.errors import AudioError

BLOCK_SECONDS = 0.05


def load_pyaudiowpatch() -> ModuleType:
    try:
        import pyaudiowpatch
    except ImportError as exc:
        raise AudioError(
            "System audio on Windows needs the PyAudioWPatch package; reinstall Sayline or run "
            "'pip install PyAudioWPatch'."
        ) from exc
    return pyaudiowpatch


def default_loopback(pyaudio, pa) -> dict:
    """The loopback twin of the default WASAPI output device (same name plus " [Loopback]")."""
    try:
        wasapi = pa.get_host_api_info_by_type(pyaudio.paWASAPI)
        speakers = pa.get_device_info_by_index(wasapi["defaultOutputDevice"])
    except (OSError, KeyError) as exc:
        raise AudioError("Windows reports no sound output device; connect speakers or headphones.") from exc
    if speakers.get("isLoopbackDevice"):
        return speakers
    for device in pa.get_loopback_device_info_generator():
        if speakers["name"] in device["name"]:
            return device
    raise AudioError(
        f"Windows offers no loopback capture for {speakers['name']}; pick another output device in the "
        "Windows sound settings."
    )


class WasapiLoopbackInput:
    """A PyAudioWPatch callback stream on the default output's loopback device."""

    def __init__(self, queue: BlockQueue) -> None:
        self._queue = queue
        self._pyaudio = load_pyaudiowpatch()
        self._pa = None
        self._stream = None
        self._closed = False
        self.rate = 48_000
        self.channels = 2
        self.description = "system audio"

    def open(self) -> None:
        pyaudio = self._pyaudio
        self._pa = pyaudio.PyAudio()
        try:
            device = default_loopback(pyaudio, self._pa)
            self.rate = int(device["defaultSampleRate"])
            self.channels = max(1, int(device["maxInputChannels"]))
            self.description = device["name"]
            self._stream = self._pa.open(
                format=pyaudio.paFloat32, channels=self.channels, rate=self.rate, input=True,
                input_device_index=device["index"], frames_per_buffer=int(self.rate * BLOCK_SECONDS),
                stream_callback=self._on_block,
            )
        except AudioError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise AudioError(
                f"Sayline could not capture system audio ({exc}); check the output device."
            ) from exc

    def _on_block(self, in_data, frame_count, time_info, status):
        self._queue.put(np.frombuffer(in_data, dtype=np.float32).reshape(-1, self.channels).copy())
        return None, self._pyaudio.paContinue

    @property
    def failed(self) -> bool:
        return not self._closed and self._stream is not None and not self._stream.is_active()

    def close(self) -> None:
        self._closed = True
        if self._stream is not None:
            try:
                self._stream.stop_stream()
                self._stream.close()
            except OSError:
                pass
            self._stream = None
        if self._pa is not None:
            self._pa.terminate()
            self._pa = None
