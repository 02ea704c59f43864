"""A PortAudio input stream whose callback does nothing but copy the block into the queue."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from app.audio import portaudio
from app.audio.blockqueue import BlockQueue
from app.audio.devices import InputDevice
from app.audio.errors import AudioError

BLOCK_SECONDS = 0.05  # 50 ms callbacks: low latency without waking Python hundreds of times a second


class PortAudioInput:
    """One sounddevice ``InputStream`` on one device.

    ``env`` is applied to the process environment only while the stream opens: the ALSA pulse plugin
    reads PULSE_SOURCE when it connects, which is how a PulseAudio monitor source is picked through the
    generic "pulse" device. The environment is process-global, so this happens under ``portaudio.LOCK``
    and is restored right after.
    """

    def __init__(
        self, device: InputDevice, queue: BlockQueue, *, env: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> None:
        self.device = device
        self.rate = int(device.samplerate)
        self.channels = max(1, min(2, device.channels))
        self.description = description or f"{device.name} ({device.host_api})"
        self._queue = queue
        self._env = dict(env or {})
        self._stream = None
        self._finished = False
        self._closed = False

    def open(self) -> None:
        sd = portaudio.sounddevice()
        with portaudio.LOCK, _environment(self._env):
            stream = None
            try:
                stream = sd.InputStream(
                    device=self.device.index,
                    samplerate=self.rate,
                    channels=self.channels,
                    dtype="float32",
                    blocksize=max(1, int(self.rate * BLOCK_SECONDS)),
                    callback=self._on_block,
                    finished_callback=self._on_finished,
                )
                stream.start()
            except (sd.PortAudioError, ValueError) as exc:
                if stream is not None:
                    stream.close(ignore_errors=True)
                raise AudioError(
                    f"Sayline could not open {self.description} ({exc}); check that it is connected and "
                    "not in exclusive use by another app."
                ) from exc
            self._stream = stream
            portaudio.stream_opened()

    def _on_block(self, indata, frames, time, status) -> None:
        # Runs on PortAudio's real-time thread: copy and hand over, nothing else (no locks held long,
        # no logging, no allocation beyond the copy).
        self._queue.put(indata.copy())

    def _on_finished(self) -> None:
        self._finished = True

    @property
    def failed(self) -> bool:
        return self._finished and not self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._stream is not None:
            self._stream.close(ignore_errors=True)  # aborts: pending blocks are not worth waiting for
            self._stream = None
            portaudio.stream_closed()


@contextmanager
def _environment(overrides: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
