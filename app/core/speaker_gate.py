"""Committed words wait here until diarization knows who said them, then become lines.

Without a diarizer every word passes straight through as speaker 1. With one, a word
is released once the diarizer has labelled its time, with the speaker talking most
during it; the words still waiting are the ``buffer_diarization`` text. The gate never
reads the diarizer while a pass is running: the processor calls :meth:`release` only
between passes, so no lock is needed.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from app.core.lines import DEFAULT_SPEAKER, LineBuilder
from app.core.words import TimedWord, join_words


class SpeakerSource(Protocol):
    covered_until: float

    def speaker_for(self, start: float, end: float) -> int | None: ...


class SpeakerGate:
    def __init__(self, lines: LineBuilder) -> None:
        self.lines = lines
        self._source: SpeakerSource | None = None
        self._waiting: deque[tuple[TimedWord, str]] = deque()
        self._last_speaker = DEFAULT_SPEAKER

    def attach(self, source: SpeakerSource) -> None:
        self._source = source

    def add_words(self, words: list[TimedWord], language: str) -> None:
        if self._source is None:
            self.lines.add_words(words, DEFAULT_SPEAKER, language)
        else:
            self._waiting.extend((word, language) for word in words)

    def note_silence(self, start: float, end: float) -> None:
        """A pause only becomes a line once the words before it are on screen."""
        if not self._waiting:
            self.lines.note_silence(start, end)

    def release(self, final: bool = False) -> None:
        """Move every word whose time the diarizer has covered (all of them when final) into lines."""
        source = self._source
        if source is None:
            return
        while self._waiting and (final or self._waiting[0][0].end <= source.covered_until):
            word, language = self._waiting.popleft()
            speaker = source.speaker_for(word.start, word.end) or self._last_speaker
            self._last_speaker = speaker
            self.lines.add_words([word], speaker, language)

    @property
    def waiting_text(self) -> str:
        return join_words([word for word, _ in self._waiting])
