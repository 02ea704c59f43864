"""Timed words: the unit that flows from the recogniser through the policy into lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NON_WORD = re.compile(r"[^\w']+", re.UNICODE)
SENTENCE_END = (".", "?", "!", "。", "？", "！")


@dataclass(frozen=True)
class TimedWord:
    """One recognised word with stream-absolute times in seconds.

    ``text`` keeps Whisper's leading space, so joining words restores the spacing.
    """

    text: str
    start: float
    end: float
    probability: float = 1.0

    @property
    def key(self) -> str:
        """The word as compared between hypotheses: case and punctuation do not count."""
        return normalize_word(self.text)

    @property
    def ends_sentence(self) -> bool:
        return self.text.rstrip().endswith(SENTENCE_END)

    def shifted(self, offset: float) -> TimedWord:
        return TimedWord(self.text, self.start + offset, self.end + offset, self.probability)


def normalize_word(text: str) -> str:
    return _NON_WORD.sub("", text.lower())


def join_words(words: list[TimedWord] | tuple[TimedWord, ...]) -> str:
    """Whisper words carry their own leading spaces; the result keeps them."""
    return "".join(word.text for word in words)
