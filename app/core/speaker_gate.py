"""Committed words wait here until diarization knows who said them, then become lines.

Without a diarizer every word passes straight through as speaker 1. With one, a word
is released once the diarizer has labelled its time, with the speaker talking most
during it; the words still waiting are the ``buffer_diarization`` text. The gate never
reads the diarizer while a pass is running: the processor calls :meth:`release` only
between passes, so no lock is needed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Protocol

from app.core.lines import DEFAULT_SPEAKER, LineBuilder
from app.core.words import TimedWord, join_words


class SpeakerSource(Protocol):
    covered_until: float
    relabels: int  # grows each time labelled history was corrected

    def speaker_for(self, start: float, end: float) -> int | None: ...


class SpeakerGate:
    RELABEL_HORIZON_S = 12.0
    """How far back a correction may reach: the diarizer corrects only within its 10 s window."""

    def __init__(self, lines: LineBuilder) -> None:
        self.lines = lines
        self._source: SpeakerSource | None = None
        self._waiting: deque[tuple[TimedWord, str]] = deque()
        self._released: deque[TimedWord] = deque()  # on lines, within the horizon
        self._relabels_seen = 0
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
        if source.relabels != self._relabels_seen:
            self._relabels_seen = source.relabels
            self._ask_again(source)
        while self._waiting and (final or self._waiting[0][0].end <= source.covered_until):
            word, language = self._waiting.popleft()
            speaker = source.speaker_for(word.start, word.end) or self._last_speaker
            self._last_speaker = speaker
            self.lines.add_words([word], speaker, language)
            self._released.append(word)
        while self._released and self._released[0].end < source.covered_until - self.RELABEL_HORIZON_S:
            self._released.popleft()

    def _ask_again(self, source: SpeakerSource) -> None:
        """The diarizer corrected its history: lines whose words now have another speaker change."""
        answers = {id(word): source.speaker_for(word.start, word.end) for word in self._released}
        self.lines.respeak({key: speaker for key, speaker in answers.items() if speaker is not None})

    def revise(self, old: Sequence[TimedWord], new: Sequence[TimedWord]) -> None:
        """Put ``new`` in place of ``old``, wherever those are: on lines, still waiting, or split.

        New words up to the end of the last old word already on a line go on lines (with
        the speakers those lines have); the rest wait in the old words' place.
        """
        gone = {id(w) for w in old}
        waiting_ids = {id(w) for w, _ in self._waiting}
        on_lines = [w for w in old if id(w) not in waiting_ids]
        if not on_lines:
            placed: Sequence[TimedWord] = ()
        elif len(on_lines) == len(old):
            placed = new
        else:
            placed = [w for w in new if (w.start + w.end) / 2 <= on_lines[-1].end]
        if on_lines:
            self.lines.revise(on_lines, placed)
            kept = [w for w in self._released if id(w) not in gone]
            self._released = deque(sorted([*kept, *placed], key=lambda w: w.start))
        still_waiting = list(new[len(placed):])
        if len(on_lines) < len(old):
            language = next(lang for w, lang in self._waiting if id(w) in gone)
            rebuilt: deque[tuple[TimedWord, str]] = deque()
            for word, lang in self._waiting:
                if id(word) not in gone:
                    rebuilt.append((word, lang))
                elif still_waiting:
                    rebuilt.extend((w, language) for w in still_waiting)
                    still_waiting = []
            self._waiting = rebuilt

    @property
    def waiting_text(self) -> str:
        return join_words([word for word, _ in self._waiting])
