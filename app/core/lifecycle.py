"""A stream's life as one named state with its allowed transitions (pure, no I/O).

Booleans ("input ended", "error", "finished") allowed combinations nobody meant, such as
audio accepted after the end was asked for while an encoded stream was still draining. One
state and a table of the moves it may make says what a stream does at every moment, and a
move the table lacks is a bug that fails loudly instead of a stream that hangs.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Generic, TypeVar


class StreamState(Enum):
    RECEIVING = "receiving"  # audio is taken
    ENDING = "ending"  # the end was asked for; an encoded stream's decoder still drains
    DRAINED = "drained"  # every sample is in: what is left is committed
    FAILED = "failed"  # a sentence went to the client; nothing more is taken
    FINISHED = "finished"  # the final snapshot is out


TRANSITIONS: dict[StreamState, frozenset[StreamState]] = {
    StreamState.RECEIVING: frozenset(
        {StreamState.ENDING, StreamState.DRAINED, StreamState.FAILED, StreamState.FINISHED}
    ),
    StreamState.ENDING: frozenset({StreamState.DRAINED, StreamState.FAILED, StreamState.FINISHED}),
    StreamState.DRAINED: frozenset({StreamState.FAILED, StreamState.FINISHED}),
    StreamState.FAILED: frozenset({StreamState.FINISHED}),
    StreamState.FINISHED: frozenset(),
}


class StageState(Enum):
    """A stage beside the recogniser (speakers, translation)."""

    RUNNING = "running"
    FINISHING = "finishing"  # the stream ended: finish what is owed (every line translated)
    CLOSED = "closed"  # nothing new starts; a late call is a no-op


STAGE_TRANSITIONS: dict[StageState, frozenset[StageState]] = {
    StageState.RUNNING: frozenset({StageState.FINISHING, StageState.CLOSED}),
    StageState.FINISHING: frozenset({StageState.CLOSED}),
    StageState.CLOSED: frozenset(),
}

S = TypeVar("S", bound=Enum)


class LifecycleError(RuntimeError):
    """A move the table does not allow: a bug in the caller, never the client's doing."""


class Lifecycle(Generic[S]):
    """One state and the table of moves it may make."""

    def __init__(self, transitions: Mapping[S, frozenset[S]], start: S) -> None:
        self._transitions = transitions
        self.state = start

    def advance(self, to: S) -> None:
        if to not in self._transitions[self.state]:
            raise LifecycleError(f"cannot go from {self.state.value} to {to.value}")
        self.state = to

    def advance_if_allowed(self, to: S) -> bool:
        """For events that may come late (a decoder's end after a failure): move if the table allows."""
        if to in self._transitions[self.state]:
            self.state = to
            return True
        return False


def stage_lifecycle() -> Lifecycle[StageState]:
    return Lifecycle(STAGE_TRANSITIONS, StageState.RUNNING)


class StreamLifecycle(Lifecycle[StreamState]):
    def __init__(self) -> None:
        super().__init__(TRANSITIONS, StreamState.RECEIVING)

    @property
    def takes_input(self) -> bool:
        """Whether new bytes or samples from the client are accepted."""
        return self.state is StreamState.RECEIVING

    @property
    def takes_decoded_audio(self) -> bool:
        """Whether decoded audio is still queued: also while an encoded stream drains."""
        return self.state in (StreamState.RECEIVING, StreamState.ENDING)

    @property
    def drained(self) -> bool:
        return self.state is StreamState.DRAINED

    @property
    def failed(self) -> bool:
        return self.state is StreamState.FAILED

    @property
    def finished(self) -> bool:
        return self.state is StreamState.FINISHED
