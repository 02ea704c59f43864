"""Utterance-final revision: a finished utterance is decoded once more, whole, with a beam.

Live decoding hears partial audio and decodes greedily, so a word is committed before the
speaker has finished the sentence it belongs to (issue #8's sweeps: hearing partial audio,
not greedy search, is what costs the words). Once an utterance has ended, nothing stops one
more decode of all of it, with the committed text before it as the prompt and beam search,
from replacing what was committed. It runs on the recogniser when it is free, right after
the utterance's last live decode, so it lands a fraction of a second after the pause; under
load it is skipped (counted), since a caption that keeps up matters more than one that is
right a little later.

This module holds the pure parts: what one revision is, which answers are trusted, and
the counts a stream reports. ``StreamTranscriber`` decides when an utterance has ended and
swaps the words; ``AudioProcessor`` runs the decode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from app.core.vad import SpeechRegion
from app.core.words import TimedWord

EDGE_S = 0.15  # how far a word must reach into a stretch to belong to it when its middle is outside


@dataclass(frozen=True)
class RevisionSettings:
    beam_size: int = 5  # faster-whisper's default for files: what a file run uses
    max_lag_s: float = 1.0  # a live stream this far behind skips revisions until it caught up
    max_wait_s: float = 1.2
    """A live revision not started this long after its utterance ended is skipped: it would land
    more than ~2 s late (a decode takes 0.3–0.8 s with base on 2 cores), when the reader has
    moved on. Stretches cut from a long utterance's buffer are the usual case (bench.revision)."""
    lead_s: float = 0.2  # where the stretch starts: this much before its first word's speech
    context_s: float = 8.0
    """Audio before the stretch that the decode hears too (what the buffer still holds).

    Whisper decodes a 1–3 s fragment badly: JFK's "what your country can do for", decoded on
    its own with a beam, came back "Like your country can do for you. Thank you." (tiny.en).
    Heard after the sentence before it, as the live decodes heard it, it comes back right; the
    words of the context are then dropped by time, as the live policy drops committed ones.
    """
    tail_s: float = 0.3
    """Audio given after the utterance's end where it was received: the end is where the VAD
    heard speech stop plus a little, and a last word cut there lost its end ("keypad" heard
    as "key", tiny.en). Words that start after the end are still dropped (``within_job``)."""
    min_tail_probability: float = 0.5
    """Words after the last committed one must be this likely, or the answer is cut there.

    A beam decode of a finished utterance sometimes goes on past the speech into the pause
    ("… the main menu. You know what?", word probabilities 0.01–0.6, tiny.en on a phone
    prompt) where none of the live decodes wrote anything.
    """
    min_kept_share: float = 0.5
    """An answer with fewer than this share of the committed words is not trusted.

    A beam decode of a whole utterance rarely loses words; when it writes half as many, it
    is more likely to have skipped a stretch (Whisper's "end of text" too early) than the
    live decodes to have invented them, and losing words is the error a reader cannot undo.
    """


@dataclass(frozen=True)
class RevisionJob:
    """One finished stretch of speech to decode again, and the committed words it may replace."""

    audio: np.ndarray  # the context before the stretch, then the stretch
    offset: float  # stream time of audio[0]
    start: float  # stream time where the stretch starts
    end: float  # stream time where the utterance ended
    prompt: str
    language: str | None
    words: tuple[TimedWord, ...]  # what was committed for this stretch, in order
    regions: tuple[SpeechRegion, ...]  # what the VAD called speech, for the same filters as live
    before: tuple[TimedWord, ...] = ()  # committed words before the audio (the prompt's), to catch an echo


@dataclass
class RevisionStats:
    """What revision did on one stream: reported in the log at its end and by the benches."""

    revised: int = 0  # the answer differed and replaced the committed words
    unchanged: int = 0  # the answer said the same words
    rejected: int = 0  # the answer was not trusted (see RevisionSettings.min_kept_share)
    skipped: int = 0  # the stream was behind, another stream waited for the recogniser, or it was too late
    late_s: list[float] = field(default_factory=list)  # audio received after the utterance end, when done

    @property
    def attempted(self) -> int:
        return self.revised + self.unchanged + self.rejected

    def summary(self) -> str:
        return (
            f"{self.revised} revised, {self.unchanged} unchanged, {self.rejected} rejected, "
            f"{self.skipped} skipped under load"
        )


def same_words(old: Sequence[TimedWord], new: Sequence[TimedWord]) -> bool:
    """Whether a reader would see the same text (times may differ; spelling and punctuation count)."""
    return [w.text.strip() for w in old] == [w.text.strip() for w in new]


def trusted(old: Sequence[TimedWord], new: Sequence[TimedWord], settings: RevisionSettings) -> bool:
    return len(new) >= settings.min_kept_share * len(old)


def within_job(words: Sequence[TimedWord], job: RevisionJob) -> list[TimedWord]:
    """Words of the stretch: the context holds the words before it, so a word must have its
    middle inside, or reach well into it (Whisper times the first word after a pause from the
    pause's start: " Press" 5.10–6.36 s for a stretch from 5.82 s); a neighbour's word that
    still slips in is one ``trim_overlap`` drops. At the end the audio stops soon after, so a
    word starting before the end is one Whisper timed late, not a neighbour."""
    return [
        w for w in words
        if ((w.start + w.end) / 2 >= job.start or w.end > job.start + EDGE_S) and w.start < job.end
    ]


def cut_unlikely_tail(
    words: Sequence[TimedWord], old: Sequence[TimedWord], settings: RevisionSettings
) -> list[TimedWord]:
    """Cut the answer at its first unlikely word after the last committed word's end."""
    if not old:
        return list(words)
    heard_until = max(w.end for w in old)
    for index, word in enumerate(words):
        if word.start >= heard_until - 0.05 and word.probability < settings.min_tail_probability:
            return list(words[:index])
    return list(words)


def trim_overlap(
    words: Sequence[TimedWord], previous: Sequence[TimedWord], following: Sequence[TimedWord], most: int = 3
) -> list[TimedWord]:
    """Drop words at either end that repeat the committed neighbours across the boundary.

    Word times move between decodes, so a word the live path committed just before (or
    after) the stretch can land inside it in the revision ("… can do for you. you.").
    """
    keys = [w.key for w in words]
    head = next(
        (k for k in range(min(most, len(keys), len(previous)), 0, -1)
         if keys[:k] == [w.key for w in previous[-k:]]),
        0,
    )
    tail = next(
        (k for k in range(min(most, len(keys) - head, len(following)), 0, -1)
         if keys[len(keys) - k:] == [w.key for w in following[:k]]),
        0,
    )
    return list(words[head:len(words) - tail])
