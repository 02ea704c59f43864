"""A live session's audio, kept on disk for the refine pass after Stop (app/core/refine.py).

Refining decodes the whole session again, so its audio has to outlive the stream; holding it
in memory would cost 230 MB an hour at 16 kHz float32, so it goes to a FLAC file instead
(lossless, about a third of 16-bit PCM for speech). The file is what was said near the user:
it lives in a private temporary folder (0700, file 0600) and is deleted when the session is
done with it, unless the user asked to keep the audio (:meth:`SessionAudio.keep_as`).

It is bounded: past ``max_bytes`` of FLAC (or ``max_seconds`` of audio) nothing more is
kept and :attr:`SessionAudio.truncated` says so; a refine then covers only what was kept.
Writing encodes one capture block (about 0.1 s) at a time, which costs tens of microseconds,
so it can run on the capture path.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from app.core.decoding import SAMPLE_RATE, decode_into
from app.private_files import copy_private, open_private, private_dir

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # FLAC of speech at 16 kHz: about 5 hours
FILE_NAME = "session.flac"


class SessionAudio:
    """16 kHz mono float32 blocks in, one private FLAC file out; single writer, not thread-safe."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_seconds: float | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_samples = None if max_seconds is None else round(max_seconds * SAMPLE_RATE)
        self.truncated = False
        self._folder = private_dir(Path(tempfile.mkdtemp(prefix="sayline-audio-")))
        self.path = self._folder / FILE_NAME
        self._file: IO[bytes] | None = open_private(self.path, "wb")
        self._container: Any = None
        self._stream: Any = None
        self._samples = 0
        try:
            self._open_encoder()
        except BaseException:
            self.discard()
            raise

    def _open_encoder(self) -> None:
        import av

        self._container = av.open(self._file, mode="w", format="flac")
        self._stream = self._container.add_stream("flac", rate=SAMPLE_RATE, layout="mono")
        self._stream.format = "s16"

    @property
    def seconds(self) -> float:
        """Audio kept so far."""
        return self._samples / SAMPLE_RATE

    def write(self, samples: np.ndarray) -> None:
        """Keep one block; past the cap (or after a write error) blocks are dropped, once logged."""
        if self._container is None or not samples.size:
            return
        if self.max_samples is not None and self._samples + samples.size > self.max_samples:
            self._stop_keeping("the session passed the %.0f s kept", self.max_samples / SAMPLE_RATE)
            return
        import av

        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        try:
            self._container.mux(self._stream.encode(frame))
        except (OSError, av.error.FFmpegError) as exc:
            self._stop_keeping("writing the session audio failed (%s)", exc)
            return
        self._samples += samples.size
        assert self._file is not None
        if self._file.tell() >= self.max_bytes:
            self._stop_keeping("the session audio reached its %d MB cap", self.max_bytes // 2**20)

    def _stop_keeping(self, reason: str, *args: object) -> None:
        log.warning(reason + "; the rest is not kept, so refining covers only what was", *args)
        self.truncated = True
        self.close()

    def close(self) -> None:
        """Finish the file so it can be read; nothing more is written. Idempotent."""
        container, self._container = self._container, None
        if container is not None:
            try:
                container.mux(self._stream.encode(None))
                container.close()
            except Exception:  # a file that cannot be finished is read up to where it is whole
                log.exception("could not finish the session audio file %s", self.path)
        if self._file is not None:
            self._file.close()
            self._file = None

    def read(self) -> np.ndarray:
        """The kept audio as 16 kHz mono float32 (finishing the file first); blocking file work."""
        self.close()
        audio = np.zeros(self._samples, dtype=np.float32)
        if not self._samples:
            return audio
        filled = 0

        def put(block: np.ndarray) -> None:
            nonlocal filled
            take = min(block.size, audio.size - filled)
            audio[filled:filled + take] = block[:take]
            filled += take

        decode_into(str(self.path), "the session audio", put)
        return audio[:filled]

    def keep_as(self, target: Path) -> None:
        """Move the finished file to ``target`` (0600) for a user who wants the audio, then forget it."""
        self.close()
        target = Path(target)
        try:
            os.replace(self.path, target)  # same file system: the file keeps its 0600
        except OSError:
            copy_private(self.path, target)
        self.discard()

    def discard(self) -> None:
        """Delete the audio (and its folder). Idempotent."""
        self.close()
        shutil.rmtree(self._folder, ignore_errors=True)
