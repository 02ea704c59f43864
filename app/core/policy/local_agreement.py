"""LocalAgreement-2: a word is final once two consecutive hypotheses agree on it.

Whisper revises the tail of what it hears as more audio arrives; the prefix two decodes
share is very unlikely to change again. Because the audio buffer still holds speech that
was already committed, each hypothesis starts by repeating committed words; those are
recognised by time and by an n-gram match against the committed tail and dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.words import TimedWord

# Whisper often stretches a word's end into the following pause, so a word counts as already
# heard when its middle (not its start) lies before the end of the last commit.
_OVERLAP_TOLERANCE_S = 0.1
_MAX_REPEATED_NGRAM = 5
# A word this close to the end of the decoded audio may be cut off mid-way ("Digi-" for
# "Digium") or carry a guessed full stop; it waits for the next decode even if agreed.
TAIL_GUARD_S = 0.25
# A fresh word lying mostly inside the last committed word is that word heard again,
# often spelt differently ("will" then "we'll").
_SAME_WORD_OVERLAP = 0.5


class LocalAgreement:
    """Longest-common-prefix commit over consecutive hypotheses (whisper_streaming's rule)."""

    def __init__(self) -> None:
        self._previous: list[TimedWord] = []
        self._committed_tail: list[TimedWord] = []
        self._committed_until = 0.0

    @property
    def pending(self) -> tuple[TimedWord, ...]:
        return tuple(self._previous)

    @property
    def committed_until(self) -> float:
        return self._committed_until

    def update(self, hypothesis: Sequence[TimedWord], buffer_end: float) -> list[TimedWord]:
        fresh = self._drop_already_committed(hypothesis)
        agreed: list[TimedWord] = []
        for old, new in zip(self._previous, fresh, strict=False):
            if old.key != new.key or new.end > buffer_end - TAIL_GUARD_S:
                break
            agreed.append(new)
        self._previous = fresh[len(agreed):]
        self._remember(agreed)
        return agreed

    def flush(self) -> list[TimedWord]:
        words, self._previous = self._previous, []
        self._remember(words)
        return words

    def _remember(self, words: list[TimedWord]) -> None:
        if not words:
            return
        self._committed_until = max(self._committed_until, words[-1].end)
        self._committed_tail = (self._committed_tail + words)[-_MAX_REPEATED_NGRAM:]

    def _drop_already_committed(self, hypothesis: Sequence[TimedWord]) -> list[TimedWord]:
        horizon = self._committed_until - _OVERLAP_TOLERANCE_S
        fresh = [word for word in hypothesis if (word.start + word.end) / 2 > horizon]
        if not fresh or not self._committed_tail:
            return fresh
        # Near the boundary Whisper may re-emit the last committed words with shifted times.
        if fresh[0].start - self._committed_until > 1.0:
            return fresh
        for n in range(min(len(self._committed_tail), len(fresh), _MAX_REPEATED_NGRAM), 0, -1):
            tail = [w.key for w in self._committed_tail[-n:]]
            head = [w.key for w in fresh[:n]]
            if tail == head:
                return fresh[n:]
        while fresh and _hears_again(fresh[0], self._committed_tail[-1]):
            fresh = fresh[1:]
        return fresh


def _hears_again(word: TimedWord, committed: TimedWord) -> bool:
    overlap = min(word.end, committed.end) - max(word.start, committed.start)
    return overlap >= _SAME_WORD_OVERLAP * max(word.end - word.start, 1e-3)
