"""Ways of getting raw audio blocks into a ``BlockQueue``: PortAudio, parec, WASAPI loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


class AudioInput(Protocol):
    """An open source of raw blocks feeding a ``BlockQueue`` from its own thread.

    ``rate`` and ``channels`` describe the blocks it queues; ``failed`` turns True when the source ends
    without ``close()`` having been called (device unplugged, server gone, process died).
    """

    rate: int
    channels: int
    description: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    @property
    def failed(self) -> bool: ...


Check = Callable[[], Awaitable["str | None"]]


@dataclass
class OpenedInput:
    """An open input plus, where the platform needs one, a periodic check that it is still the right one.

    ``check`` returns a sentence when the capture should be re-opened (its source vanished or the
    default output moved) and None while all is well.
    """

    input: AudioInput
    check: Check | None = None
