"""Guards against Whisper's inventions on silence, noise and music.

Whisper was trained on subtitles, so on non-speech it likes to write "Thank you." or
"Subtitles by…", and once in a loop it repeats a phrase until the window ends. These
checks are pure functions over decoded segments, used after every decode.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.core.vad import SpeechRegion
from app.core.words import TimedWord, normalize_word

# Phrases Whisper emits on non-speech; dropped unless the decoder was sure and VAD heard speech.
KNOWN_HALLUCINATIONS = frozenset(
    " ".join(normalize_word(w) for w in phrase.split())
    for phrase in (
        "thank you",
        "thank you.",
        "thanks for watching",
        "thank you for watching",
        "thank you so much for watching",
        "please subscribe",
        "subtitles by the amara.org community",
        "subtitles by",
        "transcription by castingwords",
        "you",
        "bye",
    )
)

NO_SPEECH_PROB_LIMIT = 0.6
AVG_LOGPROB_LIMIT = -1.0
COMPRESSION_RATIO_LIMIT = 2.4
_SPEECH_PAD_S = 0.3
UNHEARD_WORD_S = 0.02  # a word aligned to no longer than this was not found in the audio
UNHEARD_RUN = 2  # this many such words in a row: text Whisper wrote without hearing it
ECHO_MIN_WORDS = 6  # a run this long, already committed, heard again after the commit: an echo
ECHO_MEMORY_WORDS = 80  # how far back committed text is searched for echoes


@dataclass(frozen=True)
class DecodedSegment:
    """What the recogniser returns for one segment, with stream-absolute word times."""

    words: tuple[TimedWord, ...]
    no_speech_prob: float
    avg_logprob: float
    compression_ratio: float

    @property
    def normalized_text(self) -> str:
        return " ".join(w.key for w in self.words if w.key)


def compression_ratio(text: str) -> float:
    """Whisper's repetition measure: how well the text compresses (a loop compresses well)."""
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


def plausible_words(segment: DecodedSegment, speech_seconds: float) -> tuple[TimedWord, ...]:
    """The segment's words, none if it looks invented; a loop is cut, not the words before it.

    Whisper at the end of a live buffer often starts a loop ("theories. theories. …") after
    words that were fine. Dropping the whole segment for its compression ratio lost those
    words, and the policy lost its previous hypothesis with them (bench.stream showed
    commits held back for seconds), so the loop is cut and the rest judged on its own.
    """
    if segment.compression_ratio > COMPRESSION_RATIO_LIMIT:
        words = tuple(cut_repetition_loop(spoken(segment.words)))
        text = "".join(word.text for word in words)
        segment = replace(segment, words=words, compression_ratio=compression_ratio(text))
    return segment.words if is_plausible(segment, speech_seconds) else ()


def is_plausible(segment: DecodedSegment, speech_seconds: float) -> bool:
    """Whisper's own skip rules plus a blocklist for its favourite inventions."""
    if segment.compression_ratio > COMPRESSION_RATIO_LIMIT:
        return False
    if segment.no_speech_prob > NO_SPEECH_PROB_LIMIT and segment.avg_logprob < AVG_LOGPROB_LIMIT:
        return False
    if segment.normalized_text in KNOWN_HALLUCINATIONS:
        confident = segment.avg_logprob > -0.4 and segment.no_speech_prob < 0.2
        return confident and speech_seconds >= 0.5
    return True


def spoken(words: Sequence[TimedWord]) -> list[TimedWord]:
    """Words with a letter or digit in them (``normalize_word`` keeps underscores).

    At the end of a buffer whose speech was already committed, Whisper pads its guess with
    bare " ." words; they carry no speech, and two decodes agree on them, so they would
    become lines of their own.
    """
    return [word for word in words if any(char.isalnum() for char in word.text)]


def cut_unheard(words: Sequence[TimedWord]) -> list[TimedWord]:
    """Cut the hypothesis at a run of words that the alignment found no audio for.

    When Whisper writes text the audio does not hold (an earlier phrase again at the end
    of a buffer, seen on a looped clip: "Americans. and so my fellow Americans."), the
    word alignment squeezes those words into one instant. Real speech, even fast, gives
    each word some time: on the 80 eval clips, no two zero-length words ever followed
    each other (tiny.en and base).
    """
    run = 0
    for index, word in enumerate(words):
        run = run + 1 if word.end - word.start <= UNHEARD_WORD_S else 0
        if run == UNHEARD_RUN:
            return list(words[:index + 1 - run])
    return list(words)


def within_speech(words: Sequence[TimedWord], regions: Sequence[SpeechRegion]) -> list[TimedWord]:
    """Keep words that overlap something the VAD called speech (with a little padding)."""
    kept = []
    for word in words:
        for region in regions:
            if word.end > region.start - _SPEECH_PAD_S and word.start < region.end + _SPEECH_PAD_S:
                kept.append(word)
                break
    return kept


def cut_repetition_loop(words: Sequence[TimedWord], min_repeats: int = 3) -> list[TimedWord]:
    """Cut a phrase of 1–8 words repeated back to back: keep its first occurrence only.

    Single words need one more repeat ("no, no, no" is speech; "no no no no" is a loop).
    """
    keys = [w.key for w in words]
    for start in range(len(keys)):
        for size in range(1, 9):
            needed = min_repeats + (1 if size == 1 else 0)
            if start + size * needed > len(keys):
                break
            phrase = keys[start:start + size]
            repeats = 1
            while keys[start + repeats * size:start + (repeats + 1) * size] == phrase:
                repeats += 1
            if repeats >= needed:
                return list(words[:start + size])
    return list(words)


def cut_echo(
    words: Sequence[TimedWord], committed: Sequence[TimedWord], after: float, min_words: int = ECHO_MIN_WORDS
) -> list[TimedWord]:
    """Cut the hypothesis where it repeats committed text as if it were new speech.

    Whisper, re-decoding a buffer whose speech was already committed, sometimes writes
    an earlier sentence again and times it after the commit point (seen on bench.stream
    clips: a whole sentence committed twice). ``committed`` is what the decoded buffer holds
    of the committed text. Words before ``after`` are the buffer's
    committed speech heard again, which the policy drops by time; among the rest, a run of
    ``min_words`` words equal to a run of the recent committed text is such an echo.
    """
    memory = [w.key for w in committed][-ECHO_MEMORY_WORDS:]
    runs = {tuple(memory[i:i + min_words]) for i in range(len(memory) - min_words + 1)}
    keys = [w.key for w in words]
    for i, word in enumerate(words):
        if (word.start + word.end) / 2 > after and tuple(keys[i:i + min_words]) in runs:
            return list(words[:i])
    return list(words)
