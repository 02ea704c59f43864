"""What every policy must know about the words it already committed.

The audio buffer still holds speech whose words were committed, so each hypothesis
starts by repeating them; they are recognised by time and by an n-gram match against
the committed tail and dropped, before a policy decides what of the rest is final.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.words import TimedWord, normalize_word

# Whisper often stretches a word's end into the following pause, so a word counts as already
# heard when its middle (not its start) lies before the end of the last commit.
_OVERLAP_TOLERANCE_S = 0.1
_MAX_REPEATED_NGRAM = 5
# A fresh word lying mostly inside the last committed word is that word heard again,
# often spelt differently ("will" then "we'll").
_SAME_WORD_OVERLAP = 0.5
# A word that starts with the last committed word, starts when it did and ends at least
# this much later is that word grown by audio the commit had not heard ("I" -> "I'm").
_GROWN_WORD_MIN_S = 0.05
# Whisper ends a buffer with a full stop whether or not the sentence ends there: a word that
# ends a sentence waits until this much audio after it was heard (or for the pause).
# bench.stream, silero_test: without it, "develops. theories. that take no account." and
# buffer cuts at those false sentence ends.
SENTENCE_END_GUARD_S = 1.0


class CommittedTail:
    """The last few committed words and where the commit ends, for de-duplication."""

    def __init__(self) -> None:
        self._tail: list[TimedWord] = []
        self.until = 0.0

    def remember(self, words: Sequence[TimedWord]) -> None:
        if not words:
            return
        self.until = max(self.until, words[-1].end)
        self._tail = (self._tail + list(words))[-_MAX_REPEATED_NGRAM:]

    def fresh(self, hypothesis: Sequence[TimedWord]) -> list[TimedWord]:
        """The hypothesis without the committed words it repeats.

        When the decode has grown the last committed word into a longer one ("I" into
        "I'm", "mail" into "mailbox"), the committed word's time covers the longer word and
        it would be dropped as heard already, with the audio it adds: the added letters
        come back as a word of their own, glued on without a space.
        """
        grown = self._grown_last_word(hypothesis)
        if grown is not None:
            index, rest = grown
            return [rest, *self._unheard(hypothesis[index + 1:])]
        return self._unheard(hypothesis)

    def _grown_last_word(self, hypothesis: Sequence[TimedWord]) -> tuple[int, TimedWord] | None:
        """The index of the word that extends the last committed one, and what it adds."""
        if not self._tail:
            return None
        last = self._tail[-1]
        said = last.text.strip()
        for index, word in enumerate(hypothesis):
            if abs(word.start - last.start) > _OVERLAP_TOLERANCE_S:
                continue
            text = word.text.strip()
            added = text[len(said):]
            grows = text.lower().startswith(said.lower()) and normalize_word(added) != ""
            if grows and word.end > last.end + _GROWN_WORD_MIN_S:
                return index, TimedWord(added, last.end, word.end, word.probability)
        return None

    def _unheard(self, hypothesis: Sequence[TimedWord]) -> list[TimedWord]:
        horizon = self.until - _OVERLAP_TOLERANCE_S
        fresh = [word for word in hypothesis if (word.start + word.end) / 2 > horizon]
        if not fresh or not self._tail:
            return fresh
        # Near the boundary Whisper may re-emit the last committed words with shifted times.
        if fresh[0].start - self.until > 1.0:
            return fresh
        for n in range(min(len(self._tail), len(fresh), _MAX_REPEATED_NGRAM), 0, -1):
            tail = [w.key for w in self._tail[-n:]]
            head = [w.key for w in fresh[:n]]
            if tail == head:
                return fresh[n:]
        while fresh and _hears_again(fresh[0], self._tail[-1]):
            fresh = fresh[1:]
        return fresh


class PrefixPolicy:
    """The bookkeeping every policy here shares: it commits a prefix of the fresh words.

    A subclass decides how many of the fresh words are final (:meth:`update`), then calls
    :meth:`_settle`; the rest is the pending tail, shown as the live buffer.
    """

    def __init__(self) -> None:
        self._previous: list[TimedWord] = []
        self._committed = CommittedTail()

    @property
    def pending(self) -> tuple[TimedWord, ...]:
        return tuple(self._previous)

    @property
    def committed_until(self) -> float:
        return self._committed.until

    def flush(self) -> list[TimedWord]:
        words, self._previous = self._previous, []
        self._committed.remember(words)
        return words

    @staticmethod
    def _heard_after(word: TimedWord, buffer_end: float, guard_s: float) -> bool:
        """Whisper heard ``guard_s`` after the word (more if it ends a sentence)."""
        if word.ends_sentence:
            guard_s = max(guard_s, SENTENCE_END_GUARD_S)
        return word.end <= buffer_end - guard_s

    def _settle(self, fresh: list[TimedWord], final: int) -> list[TimedWord]:
        """The first ``final`` fresh words are committed; the others wait."""
        committed, self._previous = fresh[:final], fresh[final:]
        self._committed.remember(committed)
        return committed


def _hears_again(word: TimedWord, committed: TimedWord) -> bool:
    overlap = min(word.end, committed.end) - max(word.start, committed.start)
    return overlap >= _SAME_WORD_OVERLAP * max(word.end - word.start, 1e-3)
