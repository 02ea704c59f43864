"""Bytes in, 16 kHz mono float32 out: raw PCM, or any stream FFmpeg (through PyAV) can read.

PyAV brings its own FFmpeg, so there is no subprocess to reap and the installers carry no
extra binary. An encoded stream is decoded on its own thread from a blocking byte feed,
so bytes can arrive in arbitrary pieces, as a browser's MediaRecorder sends them.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000
log = logging.getLogger(__name__)


class AudioDecodeError(Exception):
    """The input is not audio Sayline can read; ``str()`` is a sentence for the user."""


class _NoAudioTrack(Exception):
    """The container opened but holds no audio (an image, a silent video)."""


def pcm16_to_float(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


class PcmDecoder:
    """s16le mono 16 kHz; an odd trailing byte waits for the next chunk instead of being lost."""

    def __init__(self) -> None:
        self._carry = b""

    def decode(self, chunk: bytes) -> np.ndarray:
        data = self._carry + chunk
        usable = len(data) - (len(data) % 2)
        self._carry = data[usable:]
        return pcm16_to_float(data[:usable])

    @property
    def has_leftover(self) -> bool:
        return bool(self._carry)


def _describe(exc: Exception) -> str:
    """FFmpeg's reason without the errno and the placeholder file name PyAV appends."""
    return (getattr(exc, "strerror", None) or str(exc)).strip().rstrip(".")


def _decode_container(container: Any, emit: Callable[[np.ndarray], None]) -> int:
    """Demux the first audio track, resample to 16 kHz mono float, emit blocks; return samples."""
    import av

    if not container.streams.audio:
        raise _NoAudioTrack
    stream = container.streams.audio[0]
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    total = 0

    def push(frames: list[Any]) -> None:
        nonlocal total
        for frame in frames:
            samples = frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)
            if samples.size:
                total += samples.size
                emit(samples)

    for packet in container.demux(stream):
        for frame in packet.decode():
            push(resampler.resample(frame))
    push(resampler.resample(None))
    return total


def decode_file(path: str | Path) -> np.ndarray:
    """A file's audio as 16 kHz mono float32, whatever its format and sample rate."""
    path = Path(path)
    if not path.exists():
        raise AudioDecodeError(f"No such file: {path}")
    if path.is_dir():
        raise AudioDecodeError(f"{path} is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path} is empty.")
    return _decode_whole(str(path), str(path))


def decode_bytes(data: bytes, label: str) -> np.ndarray:
    """Like :func:`decode_file` for an upload held in memory; ``label`` names it in errors."""
    if not data:
        raise AudioDecodeError(f"{label} is empty.")
    return _decode_whole(io.BytesIO(data), label)


def _decode_whole(source: Any, label: str) -> np.ndarray:
    import av

    blocks: list[np.ndarray] = []
    try:
        with av.open(source, mode="r") as container:
            _decode_container(container, blocks.append)
    except _NoAudioTrack:
        raise AudioDecodeError(f"{label} has no audio track.") from None
    except (av.error.FFmpegError, ValueError) as exc:
        if not blocks:
            reason = _describe(exc)
            raise AudioDecodeError(f"{label} is not an audio file Sayline can read ({reason}).") from None
        seconds = sum(map(len, blocks)) / SAMPLE_RATE
        log.warning("%s is damaged after %.1f s; using what decoded", label, seconds)
    if not blocks:
        raise AudioDecodeError(f"{label} contains no audio.")
    return np.concatenate(blocks)


class _ByteFeed:
    """A read-only file object whose ``read`` blocks until bytes arrive or the feed ends."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._closed = False
        self._cond = threading.Condition()

    def write(self, data: bytes) -> None:
        with self._cond:
            self._data.extend(data)
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def discard(self) -> None:
        with self._cond:
            self._data.clear()
            self._closed = True
            self._cond.notify_all()

    def read(self, size: int = -1) -> bytes:
        with self._cond:
            while not self._data and not self._closed:
                self._cond.wait()
            n = len(self._data) if size is None or size < 0 else min(size, len(self._data))
            chunk = bytes(self._data[:n])
            del self._data[:n]
            return chunk


class StreamDecoder:
    """Decodes one encoded stream fed in arbitrary pieces; callbacks run on its thread.

    ``on_audio`` gets 16 kHz mono float32 blocks, then exactly one of ``on_error`` (a
    sentence) or ``on_end``. :meth:`close` always leaves no thread behind.
    """

    def __init__(
        self,
        on_audio: Callable[[np.ndarray], None],
        on_error: Callable[[str], None],
        on_end: Callable[[], None],
    ) -> None:
        self._feed = _ByteFeed()
        self._on_audio = on_audio
        self._on_error = on_error
        self._on_end = on_end
        self._bytes_in = 0
        self._thread = threading.Thread(target=self._run, name="sayline-decoder", daemon=True)
        self._thread.start()

    def feed(self, data: bytes) -> None:
        self._bytes_in += len(data)
        self._feed.write(data)

    def finish(self) -> None:
        """No more bytes will come: decode what is left, then report the end."""
        self._feed.close()

    def close(self, timeout: float = 2.0) -> None:
        self._feed.discard()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("audio decoder thread did not stop within %.1f s", timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        import av

        try:
            with av.open(self._feed, mode="r") as container:
                total = _decode_container(container, self._on_audio)
        except _NoAudioTrack:
            self._on_error("The stream has no audio track.")
            return
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            if self._bytes_in == 0:
                self._on_end()  # the client ended before sending anything: not an error
                return
            self._on_error(f"The audio stream could not be decoded ({_describe(exc)}).")
            return
        if total == 0 and self._bytes_in > 0:
            self._on_error("The audio stream contained no decodable audio.")
            return
        self._on_end()
