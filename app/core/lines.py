"""Committed words and pauses become caption lines, appended only, the last one growing.

A line ends at a sentence end, a speaker change, a pause or when it gets too long to
read at a glance; those are the places a caption reader expects a break.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.core.frontdata import SILENCE_SPEAKER, Line
from app.core.words import TimedWord, join_words

DEFAULT_SPEAKER = 1


def _continues_sentence(word: TimedWord) -> bool:
    """A lower-case word after a full stop means Whisper guessed the stop at a buffer's end."""
    first = word.text.strip()[:1]
    return first.islower()


class LineBuilder:
    def __init__(self, silence_gap_s: float = 2.0, max_line_chars: int = 160) -> None:
        self.silence_gap_s = silence_gap_s
        self.max_line_chars = max_line_chars
        self._lines: list[Line] = []
        self._open_words: list[TimedWord] = []  # words of the last line while it can still grow

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(self._lines)

    def add_words(
        self, words: Sequence[TimedWord], speaker: int = DEFAULT_SPEAKER, language: str = ""
    ) -> None:
        for word in words:
            if not word.text.strip():
                continue
            if self._starts_new_line(speaker, word):
                self._open_words = []
                self._lines.append(Line(speaker, "", word.start, word.end, "", language))
            self._open_words.append(word)
            last = self._lines[-1]
            self._lines[-1] = Line(
                speaker, join_words(self._open_words).strip(), last.start, word.end, "",
                last.detected_language or language,
            )

    def _starts_new_line(self, speaker: int, word: TimedWord) -> bool:
        if not self._lines or not self._open_words:
            return True
        last = self._lines[-1]
        return (
            last.is_silence
            or last.speaker != speaker
            or (self._open_words[-1].ends_sentence and not _continues_sentence(word))
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
            self._open_words = []
            self._lines.append(Line(SILENCE_SPEAKER, "", start, end))
