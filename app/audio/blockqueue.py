"""The hand-off between an audio thread and the engine loop: bounded, never blocking the producer."""

from __future__ import annotations

import queue

import numpy as np


class BlockQueue:
    """A bounded FIFO of audio blocks that drops the oldest block when full, and counts the drops.

    The producer is PortAudio's real-time callback (or a pipe reader); blocking it would make the
    driver overrun, and an unbounded queue would grow without limit if the engine stalled. Dropping the
    oldest keeps the captions closest to now. One producer and one consumer are assumed.
    """

    def __init__(self, max_blocks: int) -> None:
        self._queue: queue.Queue[np.ndarray] = queue.Queue(maxsize=max_blocks)
        self.drops = 0

    def put(self, block: np.ndarray) -> None:
        while True:
            try:
                self._queue.put_nowait(block)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.drops += 1
                except queue.Empty:
                    pass

    def get_nowait(self) -> np.ndarray | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def clear(self) -> None:
        while self.get_nowait() is not None:
            pass
