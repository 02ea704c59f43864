"""The small interface every streaming policy implements, so the processor never knows which runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from app.core.words import TimedWord


class StreamingPolicy(Protocol):
    """Turns hypotheses over the current audio buffer into committed words.

    The processor calls :meth:`update` after each decode with the words (stream-absolute
    times) Whisper produced for the whole buffer, and :meth:`flush` when the utterance or
    stream ends. Committed words are final: a policy never takes one back.
    """

    def update(self, hypothesis: Sequence[TimedWord], buffer_end: float) -> list[TimedWord]:
        """Take a fresh hypothesis; return the words that just became final."""
        ...

    def flush(self) -> list[TimedWord]:
        """Commit everything still pending (the speaker paused or the stream ended)."""
        ...

    @property
    def pending(self) -> tuple[TimedWord, ...]:
        """The not-yet-final tail of the latest hypothesis: the live buffer."""
        ...

    @property
    def committed_until(self) -> float:
        """Stream time at which the last committed word ends."""
        ...
