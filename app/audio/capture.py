"""One live source (a microphone or system audio) as an async stream of 16 kHz mono blocks.

Threads: PortAudio's callback (or parec's reader) only copies blocks into a bounded queue; everything
else (resampling, blocking into ~100 ms pieces, noticing a lost device, re-opening it) happens in
``blocks()`` on the caller's asyncio loop, which polls the queue instead of waiting on it so no helper
thread is needed and ``stop()`` from any thread ends the iteration within one poll interval.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable

import numpy as np

from app.audio.blockqueue import BlockQueue
from app.audio.errors import AudioError
from app.audio.inputs import OpenedInput
from app.audio.level import SILENCE_DBFS, rms_dbfs
from app.audio.opener import open_input
from app.audio.resample import TARGET_RATE, StreamResampler
from app.audio.source import CaptureSource

log = logging.getLogger(__name__)

StateCallback = Callable[[str, str], None]
"""``on_state(state, message)``: state is "running", "lost" or "recovered"; message is a sentence."""

MAX_BLOCKS_PER_DRAIN = 64  # bounds the time one poll spends resampling after the loop was busy


class AudioCapture:
    """Captures one ``CaptureSource``; a lost device pauses the stream and is re-opened, never raised.

    ``start()`` opens the device (``AudioError`` if it cannot). ``blocks()`` yields float32 blocks of
    ``block_ms`` at 16 kHz until ``stop()``; while the device is lost it yields nothing and retries
    every ``retry_interval`` seconds (the same device, or the default input when that one is gone).
    Loss is noticed from a PortAudio error or end of stream, from no audio for ``stall_timeout``
    seconds (``first_block_timeout`` right after opening, as some servers start slowly), or from the
    source's own check (Linux system audio: the monitor vanished or the default output moved).
    "recovered" is reported once audio flows again, not merely when the device re-opens.
    ``on_state`` is called on the thread running ``blocks()`` (for "running": the one calling
    ``start()``). One ``blocks()`` iteration per capture; leaving it early stops the capture.
    """

    def __init__(
        self,
        source: CaptureSource | None = None,
        on_state: StateCallback | None = None,
        *,
        block_ms: int = 100,
        max_queued_blocks: int = 100,
        retry_interval: float = 1.0,
        stall_timeout: float = 2.0,
        first_block_timeout: float = 5.0,
        check_interval: float = 2.0,
        poll_interval: float = 0.02,
    ) -> None:
        self.source = source or CaptureSource()
        self._on_state = on_state
        self._block_samples = max(1, TARGET_RATE * block_ms // 1000)
        self._queue = BlockQueue(max_queued_blocks)
        self._retry_interval = retry_interval
        self._stall_timeout = stall_timeout
        self._first_block_timeout = first_block_timeout
        self._check_interval = check_interval
        self._poll_interval = poll_interval
        self._lock = threading.Lock()  # guards opening and closing: stop() may come from any thread
        self._stopped = threading.Event()
        self._opened: OpenedInput | None = None
        self._resampler: StreamResampler | None = None
        self._opened_at = 0.0
        self._last_block_at: float | None = None
        self._level = SILENCE_DBFS
        self._state = "idle"
        self._recovering = False  # re-opened after a loss, but no audio seen yet

    @property
    def level(self) -> float:
        """RMS of the latest yielded block in dBFS (``SILENCE_DBFS`` when idle or lost), for a meter."""
        return self._level

    @property
    def drops(self) -> int:
        """Blocks discarded because the loop fell more than ``max_queued_blocks`` behind."""
        return self._queue.drops

    @property
    def state(self) -> str:
        """"idle", "running", "lost" or "stopped"."""
        return self._state

    @property
    def description(self) -> str | None:
        opened = self._opened
        return opened.input.description if opened is not None else None

    def start(self) -> None:
        with self._lock:
            if self._stopped.is_set():
                raise AudioError("This capture was stopped; start a new capture to listen again.")
            if self._opened is not None:
                return
            self._open_locked()
            description = self._opened.input.description
        self._state = "running"
        self._report("running", f"Capturing {description}.")

    def stop(self) -> None:
        """Close the device and end ``blocks()`` (within one poll interval); safe from any thread."""
        self._stopped.set()
        with self._lock:
            self._close_locked()
        self._state = "stopped"
        self._level = SILENCE_DBFS

    async def blocks(self) -> AsyncIterator[np.ndarray]:
        if self._state == "idle":
            self.start()
        buffered = np.zeros(0, dtype=np.float32)
        next_check = time.monotonic() + self._check_interval
        try:
            while not self._stopped.is_set():
                opened = self._opened
                if opened is None:
                    await self._reconnect()
                    buffered = np.zeros(0, dtype=np.float32)
                    next_check = time.monotonic() + self._check_interval
                    continue
                fresh = self._drain()
                if fresh is not None and self._recovering:
                    self._recovered(opened)
                if fresh is not None:
                    buffered = np.concatenate((buffered, fresh))
                    size = self._block_samples
                    while len(buffered) >= size and not self._stopped.is_set():
                        block, buffered = buffered[:size].copy(), buffered[size:]
                        self._level = rms_dbfs(block)
                        yield block
                reason = self._stream_problem(opened, idle=fresh is None)
                if reason is None and opened.check is not None and time.monotonic() >= next_check:
                    next_check = time.monotonic() + self._check_interval
                    reason = await self._checked(opened)
                if reason is not None:
                    self._lose(opened, reason)
                elif fresh is None:
                    await asyncio.sleep(self._poll_interval)
            tail = self._tail(buffered)
            if tail.size:
                yield tail
        finally:
            self.stop()

    def _open_locked(self) -> None:
        self._queue.clear()
        opened = open_input(self.source, self._queue)
        self._opened = opened
        self._resampler = StreamResampler(opened.input.rate, opened.input.channels)
        self._opened_at = time.monotonic()
        self._last_block_at = None

    def _close_locked(self) -> None:
        if self._opened is not None:
            opened, self._opened = self._opened, None
            opened.input.close()

    def _drain(self) -> np.ndarray | None:
        """Everything queued so far, resampled; None when nothing arrived since the last poll."""
        resampler = self._resampler
        if resampler is None:
            return None
        pieces: list[np.ndarray] = []
        for _ in range(MAX_BLOCKS_PER_DRAIN):
            raw = self._queue.get_nowait()
            if raw is None:
                break
            pieces.append(resampler.process(raw))
        if not pieces:
            return None
        self._last_block_at = time.monotonic()
        return np.concatenate(pieces)

    def _stream_problem(self, opened: OpenedInput, idle: bool) -> str | None:
        description = opened.input.description
        if opened.input.failed:
            return f"Audio from {description} stopped; the device was unplugged or failed."
        if not idle:
            return None
        now = time.monotonic()
        if self._last_block_at is None:
            if now - self._opened_at > self._first_block_timeout:
                who = description[:1].upper() + description[1:]
                return f"{who} delivered no audio for {self._first_block_timeout:g} seconds."
        elif now - self._last_block_at > self._stall_timeout:
            return f"No audio has arrived from {description} for {self._stall_timeout:g} seconds."
        return None

    async def _checked(self, opened: OpenedInput) -> str | None:
        assert opened.check is not None
        try:
            return await opened.check()
        except AudioError as exc:
            return str(exc)

    def _lose(self, opened: OpenedInput, reason: str) -> None:
        with self._lock:
            if self._opened is not opened:  # stop() got there first
                return
            self._close_locked()
            self._queue.clear()  # what the lost device left behind is not resumed after recovery
            self._resampler = None
        self._level = SILENCE_DBFS
        if self._recovering:  # a re-open that never delivered: still the same loss, keep retrying
            log.debug("re-opened %s but no audio came: %s", opened.input.description, reason)
            return
        self._state = "lost"
        self._report("lost", f"{reason} Captions are paused until audio is back.")

    async def _reconnect(self) -> None:
        """Re-open every ``retry_interval`` seconds until it opens or ``stop()`` is called.

        Opening is not yet recovery: a device can open and stay silent, so "recovered" waits for the
        first block (``_recovered``), and a re-open that stays silent counts as the same loss.
        """
        while not self._stopped.is_set():
            await self._sleep_unless_stopped(self._retry_interval)
            with self._lock:
                if self._stopped.is_set():
                    return
                try:
                    self._open_locked()
                except AudioError as exc:
                    log.debug("still no audio from %s: %s", self.source, exc)
                    continue
            self._recovering = True
            return

    def _recovered(self, opened: OpenedInput) -> None:
        self._recovering = False
        self._state = "running"
        self._report("recovered", f"Capturing {opened.input.description} again.")

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopped.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(min(self._poll_interval, max(0.0, deadline - time.monotonic())))

    def _tail(self, buffered: np.ndarray) -> np.ndarray:
        """Audio captured before ``stop()`` that has not been yielded yet, with the resampler's tail."""
        leftovers = [buffered]
        resampler = self._resampler
        if resampler is not None:
            while (raw := self._queue.get_nowait()) is not None:
                leftovers.append(resampler.process(raw))
            leftovers.append(resampler.flush())
            self._resampler = None
        return np.concatenate(leftovers).astype(np.float32, copy=False)

    def _report(self, state: str, message: str) -> None:
        log.info("%s: %s", state, message)
        if self._on_state is None:
            return
        try:
            self._on_state(state, message)
        except Exception:  # a listener's bug must not end captioning
            log.exception("on_state callback failed")
