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
from typing import Any, BinaryIO

import numpy as np

SAMPLE_RATE = 16_000
STREAM_PROBE_BYTES = 32 * 1024
"""How much of a stream FFmpeg may read to recognise its format before it gives up.

FFmpeg's default is 1 MiB, and a stream (unlike a file) has no end to stop the probe
early: a client that sent 64 KB of garbage and waited got no answer at all. Every format a
client sends (WebM, Ogg, MP4, MP3, WAV, FLAC) is recognised in its first few KB; an MP3
behind a large ID3 tag still is.
"""
log = logging.getLogger(__name__)


class AudioDecodeError(Exception):
    """The input is not audio Sayline can read; ``str()`` is a sentence for the user."""


class AudioTooLongError(AudioDecodeError):
    """The audio runs past the caller's cap; decoding stopped there instead of filling memory."""


class _NoAudioTrack(Exception):
    """The container opened but holds no audio (an image, a silent video)."""


class _TooLong(Exception):
    """Decoding passed its cap; raised from inside the demux loop so nothing more is decoded."""


class _Stopped(Exception):
    """The decode's owner stopped it (a closed stream, an abandoned upload): unwind, report nothing."""


def duration_words(seconds: float) -> str:
    """A cap as people say it: "30 seconds", "1 minute", "90 minutes", "2 hours"."""
    if seconds >= 3600 and seconds % 3600 == 0:
        amount, unit = seconds / 3600, "hour"
    elif seconds >= 60:
        amount, unit = round(seconds / 60, 1), "minute"
    else:
        amount, unit = round(seconds, 1), "second"
    return f"{amount:g} {unit}{'' if amount == 1 else 's'}"


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


def _decode_container(
    container: Any,
    emit: Callable[[np.ndarray], None],
    max_samples: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Demux the first audio track, resample to 16 kHz mono float, emit blocks; return samples.

    Raises ``_TooLong`` as soon as more than ``max_samples`` decoded (a few KB of FLAC can
    hold hours of silence, so a cap has to act while decoding, not on the result), and
    ``_Stopped`` at the next packet once ``should_stop()`` says so.
    """
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
                if max_samples is not None and total > max_samples:
                    raise _TooLong
                emit(samples)

    for packet in container.demux(stream):
        if should_stop is not None and should_stop():
            raise _Stopped
        for frame in packet.decode():
            push(resampler.resample(frame))
    push(resampler.resample(None))
    return total


def decode_file(path: str | Path, max_seconds: float | None = None) -> np.ndarray:
    """A file's audio as 16 kHz mono float32, whatever its format and sample rate.

    With ``max_seconds``, longer audio raises :class:`AudioTooLongError` as soon as decoding
    passes the cap, without decoding (or holding) the rest.
    """
    path = Path(path)
    if not path.exists():
        raise AudioDecodeError(f"No such file: {path}")
    if path.is_dir():
        raise AudioDecodeError(f"{path} is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path} is empty.")
    return _decode_whole(str(path), str(path), max_seconds)


def _is_empty(file: BinaryIO) -> bool:
    """Whether a seekable file has nothing left to read; one that cannot seek is left to FFmpeg."""
    seekable = getattr(file, "seekable", None)
    if seekable is None or not seekable():
        return False
    here = file.tell()
    end = file.seek(0, io.SEEK_END)
    file.seek(here)
    return end <= here


def _decode_whole(source: Any, label: str, max_seconds: float | None = None) -> np.ndarray:
    blocks: list[np.ndarray] = []
    decode_into(source, label, blocks.append, max_seconds)
    return np.concatenate(blocks)


def decode_into(
    source: Any,
    label: str,
    emit: Callable[[np.ndarray], None],
    max_seconds: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> float:
    """Decode ``source`` (a path, or a binary file read from where it stands, such as an upload
    spooled to disk) block by block into ``emit``; return the seconds decoded.

    ``should_stop`` is asked at every packet: a caller abandoning the decode (a client gone, a
    server stopping) gets :class:`AudioDecodeError` at once instead of waiting for the end.
    ``emit`` may block: a caller that hands blocks to a stream as it takes them holds a few
    seconds of audio, not the whole file. Raises :class:`AudioDecodeError` (one sentence) for
    what is not audio, and :class:`AudioTooLongError` once decoding passes ``max_seconds``.
    """
    import av

    if not isinstance(source, str) and _is_empty(source):
        raise AudioDecodeError(f"{label} is empty.")
    total = 0

    def counted(samples: np.ndarray) -> None:
        nonlocal total
        total += samples.size
        emit(samples)

    max_samples = None if max_seconds is None else round(max_seconds * SAMPLE_RATE)
    try:
        with av.open(source, mode="r") as container:
            _decode_container(container, counted, max_samples, should_stop)
    except _NoAudioTrack:
        raise AudioDecodeError(f"{label} has no audio track.") from None
    except _TooLong:
        assert max_seconds is not None
        raise AudioTooLongError(
            f"{label} is longer than {duration_words(max_seconds)}, the most this server takes."
        ) from None
    except _Stopped:
        raise AudioDecodeError(f"Decoding {label} was stopped.") from None
    except (av.error.FFmpegError, ValueError) as exc:
        if not total:
            reason = _describe(exc)
            raise AudioDecodeError(f"{label} is not an audio file Sayline can read ({reason}).") from None
        log.warning("%s is damaged after %.1f s; using what decoded", label, total / SAMPLE_RATE)
    if not total:
        raise AudioDecodeError(f"{label} contains no audio.")
    return total / SAMPLE_RATE


class _ByteFeed:
    """A read-only file object whose ``read`` blocks until bytes arrive or the feed ends.

    ``on_read`` runs on the reading thread after each read, so a writer holding back while
    too much is unread learns when there is room again.
    """

    def __init__(self, on_read: Callable[[], None] | None = None) -> None:
        self._data = bytearray()
        self._closed = False
        self._cond = threading.Condition()
        self._on_read = on_read

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

    @property
    def unread(self) -> int:
        return len(self._data)

    def read(self, size: int = -1) -> bytes:
        with self._cond:
            while not self._data and not self._closed:
                self._cond.wait()
            n = len(self._data) if size is None or size < 0 else min(size, len(self._data))
            chunk = bytes(self._data[:n])
            del self._data[:n]
        if self._on_read is not None:
            self._on_read()
        return chunk


class StreamDecoder:
    """Decodes one encoded stream fed in arbitrary pieces; callbacks run on its thread.

    ``on_audio`` gets 16 kHz mono float32 blocks, then exactly one of ``on_error`` (a
    sentence) or ``on_end``, unless :meth:`stop` or :meth:`close` came first: after those
    nothing more is reported. :meth:`close` always leaves no thread behind.

    With ``max_backlog`` (samples), the thread waits after a block while more than that is
    decoded but not yet :meth:`consumed`: a few KB of FLAC can hold hours of silence, and a
    decoder running ahead of its consumer would hold all of it in memory.
    """

    def __init__(
        self,
        on_audio: Callable[[np.ndarray], None],
        on_error: Callable[[str], None],
        on_end: Callable[[], None],
        max_backlog: int | None = None,
        on_read: Callable[[], None] | None = None,
    ) -> None:
        self._feed = _ByteFeed(on_read)
        self._on_audio = on_audio
        self._on_error = on_error
        self._on_end = on_end
        self._bytes_in = 0
        self._max_backlog = max_backlog
        self._backlog = 0  # samples handed to on_audio and not yet consumed
        self._stopped = False
        self._room = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="sayline-decoder", daemon=True)
        self._thread.start()

    def feed(self, data: bytes) -> None:
        self._bytes_in += len(data)
        self._feed.write(data)

    def finish(self) -> None:
        """No more bytes will come: decode what is left, then report the end."""
        self._feed.close()

    def consumed(self, samples: int) -> None:
        """The consumer took ``samples`` of the decoded audio: a waiting decoder may go on."""
        with self._room:
            self._backlog -= samples
            self._room.notify_all()

    def stop(self) -> None:
        """Stop decoding and report nothing more; returns at once (the thread ends soon after)."""
        with self._room:
            self._stopped = True
            self._room.notify_all()
        self._feed.discard()

    def close(self, timeout: float = 2.0) -> None:
        self.stop()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("audio decoder thread did not stop within %.1f s", timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def unread_bytes(self) -> int:
        """Bytes fed that the decoder has not read yet."""
        return self._feed.unread

    def _run(self) -> None:
        error = self._decode()
        if self._stopped:
            return  # stopped or closed: the owner has stopped listening
        if error is None:
            self._on_end()
        else:
            self._on_error(error)

    def _decode(self) -> str | None:
        """Decode to the end; None when the stream ended well, else the sentence for the user."""
        import av

        try:
            options = {"formatprobesize": str(STREAM_PROBE_BYTES)}
            with av.open(self._feed, mode="r", options=options) as container:
                total = _decode_container(container, self._emit, should_stop=self._is_stopped)
        except _Stopped:
            return None
        except _NoAudioTrack:
            return "The stream has no audio track."
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            if self._bytes_in == 0:
                return None  # the client ended before sending anything: not an error
            return f"The audio stream could not be decoded ({_describe(exc)})."
        if total == 0 and self._bytes_in > 0:
            return "The audio stream contained no decodable audio."
        return None

    def _is_stopped(self) -> bool:
        return self._stopped

    def _emit(self, samples: np.ndarray) -> None:
        with self._room:
            self._backlog += samples.size
        self._on_audio(samples)
        self._wait_for_room()

    def _wait_for_room(self) -> None:
        """Block while the consumer has too much waiting; ``_Stopped`` once stopped meanwhile."""
        with self._room:
            limit = self._max_backlog
            if limit is not None:
                self._room.wait_for(lambda: self._stopped or self._backlog <= limit)
            if self._stopped:
                raise _Stopped
