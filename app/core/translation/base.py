"""What every translator offers the streaming stage, and the rules they share.

Two very different backends sit behind one small interface: Argos (text → text with a
CTranslate2 model per language pair) and Whisper (speech → English with the ASR model
already loaded). A speech translator needs the line's audio, so ``translate`` takes it
as an optional argument instead of the stage knowing which backend it drives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

PIVOT = "en"
BACKENDS = ("auto", "argos", "whisper")  # auto: an installed Argos pair if one fits, else Whisper for English
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+")


class TranslationError(Exception):
    """Translation is not possible as asked; ``str()`` is one sentence for the user."""


@dataclass(frozen=True)
class LanguagePair:
    """A way from ``source`` to ``target``; ``via`` names the pivot language when it takes two models."""

    source: str
    target: str
    via: str = ""

    def __str__(self) -> str:
        return f"{self.source}→{self.via}→{self.target}" if self.via else f"{self.source}→{self.target}"


class Translator(Protocol):
    name: str
    needs_audio: bool  # True: ``translate`` reads the audio of the text, not the text

    def pairs(self) -> list[LanguagePair]:
        """Every pair this translator can do now, pivots included."""
        ...

    def check(self, source: str | None, target: str) -> None:
        """Raise TranslationError unless ``source`` (None: any detected language) → ``target`` works."""
        ...

    def translate(self, text: str, source: str, target: str, audio: np.ndarray | None = None) -> str:
        """The translation of one committed line (blocking; call it off the event loop)."""
        ...

    async def atranslate(self, text: str, source: str, target: str, audio: np.ndarray | None = None) -> str:
        """``translate`` run where this backend runs its work, never on the event loop."""
        ...


def split_sentences(text: str) -> list[str]:
    """Sentences by their final punctuation; Sayline's lines are usually one sentence already.

    Argos would split with Stanza, spaCy or MiniSBD, each of which needs a model that
    it downloads on first use; a caption line does not need a parser to be cut at a full stop.
    """
    return [part for part in _SENTENCE_END.split(text.strip()) if part]
