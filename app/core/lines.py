"""Committed words and pauses become caption lines, appended only, the last one growing.

A line ends at a sentence end, a speaker change, a pause or when it gets too long to
read at a glance; those are the places a caption reader expects a break.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from app.core.frontdata import SILENCE_SPEAKER, Line
from app.core.words import TimedWord, join_words

DEFAULT_SPEAKER = 1


def _continues_sentence(word: TimedWord) -> bool:
    """A lower-case word after a full stop means Whisper guessed the stop at a buffer's end."""
    first = word.text.strip()[:1]
    return first.islower()


@dataclass(frozen=True)
class _Placed:
    """A word on a line, with what it was placed with, so a revision can place lines again."""

    word: TimedWord
    speaker: int
    language: str
    revised: bool = False


class LineBuilder:
    KEPT_LINES = 64
    """Lines whose words are kept for a revision: a revision only reaches the last utterance."""

    def __init__(self, silence_gap_s: float = 2.0, max_line_chars: int = 160) -> None:
        self.silence_gap_s = silence_gap_s
        self.max_line_chars = max_line_chars
        self._lines: list[Line] = []
        self._words: list[list[_Placed]] = []  # the words of lines[_words_from:], [] for a silence line
        self._words_from = 0
        self._open = False  # whether the last line can still grow

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(self._lines)

    def add_words(
        self, words: Sequence[TimedWord], speaker: int = DEFAULT_SPEAKER, language: str = ""
    ) -> None:
        for word in words:
            self._place(_Placed(word, speaker, language))

    def _place(self, placed: _Placed) -> None:
        word = placed.word
        if not word.text.strip():
            return
        if self._starts_new_line(placed.speaker, word):
            self._append(Line(placed.speaker, "", word.start, word.end, "", placed.language), open_line=True)
        self._words[-1].append(placed)
        self._lines[-1] = self._render(self._words[-1])

    @staticmethod
    def _render(words: list[_Placed]) -> Line:
        language = next((p.language for p in words if p.language), "")
        return Line(
            words[0].speaker,
            join_words([p.word for p in words]).strip(),
            words[0].word.start,
            words[-1].word.end,
            "",
            language,
            revised=any(p.revised for p in words),
        )

    def _append(self, line: Line, open_line: bool) -> None:
        self._lines.append(line)
        self._words.append([])
        self._open = open_line
        if len(self._words) > 2 * self.KEPT_LINES:
            del self._words[: self.KEPT_LINES]
            self._words_from += self.KEPT_LINES

    def _starts_new_line(self, speaker: int, word: TimedWord) -> bool:
        if not self._lines or not self._open:
            return True
        last, open_words = self._lines[-1], self._words[-1]
        return (
            last.speaker != speaker
            or (open_words[-1].word.ends_sentence and not _continues_sentence(word))
            or len(last.text) >= self.max_line_chars
        )

    def note_silence(self, start: float, end: float) -> None:
        """Record an ongoing pause; it becomes a silence line once it lasts ``silence_gap_s``."""
        if not self._lines:
            return
        last = self._lines[-1]
        start = max(start, last.start if last.is_silence else last.end)
        if end - start < self.silence_gap_s:
            return
        if last.is_silence:
            self._lines[-1] = Line(SILENCE_SPEAKER, "", last.start, max(end, last.end))
        else:
            self._append(Line(SILENCE_SPEAKER, "", start, end), open_line=False)

    def revise(self, old: Sequence[TimedWord], new: Sequence[TimedWord]) -> None:
        """Put ``new`` in place of ``old`` (words on lines), placing lines again from the first touched one.

        Lines before it stay exactly as they were, so a reader sees only the revised
        utterance's lines change. A new word takes the speaker of the old word it overlaps
        most (the nearest one if none), and is marked revised unless it is an old word kept.
        """
        gone = {id(w) for w in old}
        first = self._first_line_with(gone)
        if first is None:
            return
        removed = [p for words in self._words[first:] for p in words if id(p.word) in gone]
        self._place_again(
            first,
            lambda p: None if id(p.word) in gone else p,
            [_placed_like(w, removed, gone) for w in new],
        )

    def respeak(self, speakers: Mapping[int, int]) -> None:
        """Give words on lines (keyed by ``id(word)``) these speakers.

        Lines are placed again from the first one whose speaker changes, as for a revision;
        a map that changes nothing changes nothing.
        """
        first = next(
            (
                i for i, words in enumerate(self._words)
                if any(speakers.get(id(p.word), p.speaker) != p.speaker for p in words)
            ),
            None,
        )
        if first is None:
            return
        self._place_again(first, lambda p: replace(p, speaker=speakers.get(id(p.word), p.speaker)), [])

    def _first_line_with(self, word_ids: Collection[int]) -> int | None:
        return next(
            (i for i, words in enumerate(self._words) if any(id(p.word) in word_ids for p in words)), None
        )

    def _place_again(
        self, first: int, keep: Callable[[_Placed], _Placed | None], added: Sequence[_Placed]
    ) -> None:
        """Place the words of lines from ``first`` on again, each through ``keep``, plus ``added``.

        Silence lines stay where they were in time; lines before ``first`` are not touched.
        """
        tail_lines = self._lines[self._words_from + first:]
        events: list[tuple[float, Line | _Placed]] = []
        for line, words in zip(tail_lines, self._words[first:], strict=True):
            if line.is_silence:
                events.append((line.start, line))
            events.extend((p.word.start, kept) for p in words if (kept := keep(p)) is not None)
        events.extend((p.word.start, p) for p in added)
        events.sort(key=lambda event: event[0])
        del self._lines[self._words_from + first:]
        del self._words[first:]
        self._open = False
        for _, event in events:
            if isinstance(event, Line):
                self._append(event, open_line=False)
            else:
                self._place(event)


def _placed_like(word: TimedWord, removed: list[_Placed], gone: set[int]) -> _Placed:
    """``word`` with the speaker and language of the removed word it overlaps most."""
    def overlap(p: _Placed) -> float:
        return min(word.end, p.word.end) - max(word.start, p.word.start)

    source = max(removed, key=overlap) if removed else None
    if source is None:
        return _Placed(word, DEFAULT_SPEAKER, "", revised=True)
    return _Placed(word, source.speaker, source.language, revised=id(word) not in gone)
