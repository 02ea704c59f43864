"""PulseAudio capture through the ``parec`` tool, for systems without the ALSA pulse plugin."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading

import numpy as np

from app.audio.blockqueue import BlockQueue
from app.audio.errors import AudioError

RATE = 16_000
READ_BYTES = 3_200  # at most 100 ms of s16le mono per read


class ParecInput:
    """``parec`` asked for 16 kHz mono s16le, read by one thread that only copies into the queue.

    PulseAudio does the resampling, so the blocks are already what the engine wants (the resampler
    passes them through). The process is killed on ``close()``, which also ends the reader thread.
    """

    rate = RATE
    channels = 1

    def __init__(self, source_name: str, queue: BlockQueue, description: str | None = None) -> None:
        self.source_name = source_name
        self.description = description or source_name
        self._queue = queue
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def open(self) -> None:
        executable = shutil.which("parec")
        if executable is None:
            raise AudioError(
                "System audio needs the ALSA pulse plugin or the parec tool; install them "
                "(on Debian or Ubuntu: sudo apt install libasound2-plugins pulseaudio-utils)."
            )
        command = [
            executable, f"--device={self.source_name}", "--format=s16le", f"--rate={RATE}",
            "--channels=1", "--raw", "--latency-msec=50",
        ]
        try:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise AudioError(f"Sayline could not start parec to capture {self.description} ({exc}).") from exc
        self._thread = threading.Thread(target=self._pump, name="sayline-parec", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        fd = self._process.stdout.fileno()
        carry = b""
        while True:
            try:
                data = os.read(fd, READ_BYTES)
            except OSError:
                return
            if not data:
                return
            data = carry + data
            usable = len(data) - len(data) % 2
            carry = data[usable:]
            if usable:
                self._queue.put(np.frombuffer(data[:usable], dtype="<i2").reshape(-1, 1))

    @property
    def failed(self) -> bool:
        if self._closed or self._process is None:
            return False
        thread_done = self._thread is not None and not self._thread.is_alive()
        return thread_done or self._process.poll() is not None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
