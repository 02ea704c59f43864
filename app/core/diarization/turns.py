"""Labelled history: who spoke when, as time-ordered turns built a frame at a time.

Kept apart from the streaming rules because the diarizer keeps two of them: what the
clusterer decided at the time (which later decisions lean on) and what is shown, which
may be corrected afterwards.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SpeakerTurn:
    start: float
    end: float
    speaker: int


Span = tuple[float, float]


class TurnHistory:
    def __init__(self) -> None:
        self._turns: list[SpeakerTurn] = []
        self._starts: list[float] = []

    @property
    def turns(self) -> tuple[SpeakerTurn, ...]:
        return tuple(self._turns)

    @property
    def last_speaker(self) -> int | None:
        return self._turns[-1].speaker if self._turns else None

    def add(self, start: float, end: float, speaker: int) -> None:
        """Append a labelled stretch; one touching the last turn of the same speaker extends it."""
        last = self._turns[-1] if self._turns else None
        start = max(start, last.end) if last is not None else start
        if last is not None and last.speaker == speaker and start - last.end < 1e-3:
            self._turns[-1] = SpeakerTurn(last.start, end, speaker)
        else:
            self._turns.append(SpeakerTurn(start, end, speaker))
            self._starts.append(start)

    def speaker_at(self, time: float) -> int | None:
        index = bisect.bisect_right(self._starts, time) - 1
        if index >= 0 and self._turns[index].end >= time:
            return self._turns[index].speaker
        return None

    def speaker_for(self, start: float, end: float, slack_s: float) -> int | None:
        """The speaker talking most during [start, end]; else the nearest one within ``slack_s``."""
        first = max(0, bisect.bisect_right(self._starts, start) - 1)
        talking = speaker_talking_most(self._turns[first:], start, end)
        if talking is not None:
            return talking
        nearest = min(self._turns, key=lambda t: max(t.start - end, start - t.end), default=None)
        if nearest is not None and max(nearest.start - end, start - nearest.end) <= slack_s:
            return nearest.speaker
        return None

    def relabel(self, spans: list[Span], old: int, new: int) -> None:
        """Give ``new`` the parts of ``old``'s turns inside ``spans`` (sorted, not overlapping)."""
        pieces: list[SpeakerTurn] = []
        for turn in self._turns:
            pieces.extend(_split(turn, spans, new) if turn.speaker == old else [turn])
        self._turns, self._starts = [], []
        for piece in pieces:
            self.add(piece.start, piece.end, piece.speaker)

    def forget_before(self, time: float) -> None:
        """Drop turns that start before ``time``, keeping the one in progress there."""
        keep = bisect.bisect_left(self._starts, time)
        if keep > 1:
            del self._turns[: keep - 1]
            del self._starts[: keep - 1]


def speaker_talking_most(turns: Iterable[SpeakerTurn], start: float, end: float) -> int | None:
    """Of ``turns`` (by start time), the speaker with the most time inside [start, end]; None if nobody."""
    overlap: dict[int, float] = {}
    for turn in turns:
        if turn.start > end:
            break
        shared = min(end, turn.end) - max(start, turn.start)
        if shared > 0:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + shared
    return max(overlap, key=overlap.__getitem__) if overlap else None


def _split(turn: SpeakerTurn, spans: list[Span], new: int) -> list[SpeakerTurn]:
    pieces: list[SpeakerTurn] = []
    cursor = turn.start
    for span_start, span_end in spans:
        start, end = max(span_start, cursor), min(span_end, turn.end)
        if end <= start:
            continue
        if start > cursor:
            pieces.append(SpeakerTurn(cursor, start, turn.speaker))
        pieces.append(SpeakerTurn(start, end, new))
        cursor = end
    if cursor < turn.end:
        pieces.append(SpeakerTurn(cursor, turn.end, turn.speaker))
    return pieces


def frame_spans(centers: list[float], step: float) -> list[Span]:
    """The stretches covered by frames of ``step`` seconds centred at ``centers``, joined where they touch."""
    spans: list[Span] = []
    for center in sorted(centers):
        start, end = center - step / 2, center + step / 2
        if spans and start - spans[-1][1] < 1e-3:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans
