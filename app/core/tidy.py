"""Tidying committed caption words at the end of an utterance, so the transcript reads well.

Live decoding hears partial audio, and Whisper writes each partial buffer as if it were a
whole sentence: it ends the buffer with "." (or "!") although the speaker goes on, and the
next buffer then starts lower-case ("And so my fellow Americans. ask not", JFK clip, tiny.en
streamed). Whisper also writes small numbers as digits in one buffer and as words in the
next ("press 1 now" from base, "press one now" from tiny.en on the same phone prompt).
These rules repair that, on words only: times and probabilities stay, and a word the rules
leave alone is returned as the same object.

The documented rule, applied in this order:

1. **No mid-sentence full stop.** A word ending in "." or "!" that is followed by a word
   starting with a lower-case letter loses that mark: "Americans. ask not" → "Americans
   ask not", "Ask not! what" → "Ask not what". A lower-case next word is Whisper's own
   evidence that the sentence went on; a capital, a digit or a quote is no evidence either
   way, so those stops stay. Kept whatever follows: "?" (a question is rarely a false end;
   the next word is capitalised instead), an ellipsis ("..." or "…": a trailing-off, not an
   end), abbreviations (initialisms, letters each followed by a period such as "e.g.",
   "U.S." and "p.m.", and the titles and short forms in :data:`ABBREVIATIONS`) and
   decimals ("2.5" does not end in a mark at all).
2. **Sentence case.** The first letter of the transcript's first word (no word before it)
   and of every word after a sentence end (".", "!", "?", "。", "？", "！", but not an
   abbreviation or an ellipsis) is upper-cased; a word that does not start with a letter is
   left alone. In English the pronoun "i" and its contractions ("i'm", "i'll", "i've",
   "i'd") become "I", "I'm", ….
3. **Consistent numbers (English only).** A standalone numeral 0–9 in running text is
   written as a word (AP style: "press 2," → "press two,"), so a number reads the same
   whichever decode wrote it; digits become words and not the other way round, because a
   word such as "one" is often no number ("no one", "one of them"). It stays a digit when
   a neighbouring word holds a digit too (a phone number, "1 2 3": digit sequences read as
   digits), when a symbol or unit is glued to it ("5%", "$5", "3:30", "2.5", "5pm", "5th":
   no standalone numeral), or when a unit word follows (:data:`UNIT_WORDS`: measures,
   money, percentages and clock times read better as digits; counts of everyday things
   such as "five minutes" read fine as words, so the list stays short). Numbers of 10 and
   above are left as Whisper wrote them.

Rules 1 and 2 work in any language (they do nothing to scripts without case); the "I" rule
and rule 3 only for English ("en", or "" when the language is unknown). Stops are judged on
the words as Whisper wrote them, so a numeral turned into a word never removes the stop
before it. Tidying is idempotent: a stop that survives is followed by a capital or by a
word that does not start with a letter, so a second pass changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise

from app.core.words import SENTENCE_END, TimedWord

ENGLISH = frozenset({"en", ""})
ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "jr.", "sr.", "vs.", "etc."})
ELLIPSES = ("...", "…")
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_INITIALISM = re.compile(r"(?:[^\W\d_]\.){2,}")  # e.g. i.e. U.S. a.m.
_FALSE_STOP = re.compile(r"(?<=\w)[.!]+$")
_OPENING = "\"'“‘«([¿¡"
_TRAILING = ",;:!?."
_NUMERAL = re.compile(r"(\s*)([0-9])([,;.!?]*)")
_PRONOUN_I = re.compile(r"^(\s*)i(?=(?:['’](?:m|ll|ve|d))?[,;:.!?]*$)")
_DIGIT = re.compile(r"[0-9]")


def _bare(text: str) -> str:
    """The word as looked up in a list: lower-case, without spaces or trailing punctuation."""
    return text.strip().lower().rstrip(_TRAILING)


UNIT_WORDS = frozenset(
    _bare(unit)
    for unit in (
        "percent", "per cent", "%",
        "am", "pm", "a.m.", "p.m.", "o'clock", "o’clock",
        "kg", "km", "cm", "mm", "mb", "gb", "hz",
        "dollars", "euros", "pounds", "degrees",
    )
)


def tidy_words(
    words: Sequence[TimedWord], before: TimedWord | None, language: str = "en"
) -> tuple[TimedWord | None, list[TimedWord]]:
    """Return (before', words'): the utterance's words tidied by the module's rules.

    ``before`` is the committed word just before the utterance (None at the transcript's
    start or after a long pause); only its final stop may change, and it comes back as the
    same object when it does not. Each word keeps its times and probability, and a word
    whose text stays is returned as the same object, so callers can test ``is``.
    """
    if not words:
        return before, []
    old = ([before] if before is not None else []) + list(words)
    first = len(old) - len(words)  # where the utterance starts in ``old``
    texts = _drop_false_stops([word.text for word in old])
    if language in ENGLISH:
        texts = texts[:first] + [_english_forms(texts, i) for i in range(first, len(texts))]
    texts = texts[:first] + [_sentence_case(texts, i) for i in range(first, len(texts))]
    new = [
        word if text == word.text else replace(word, text=text)
        for word, text in zip(old, texts, strict=True)
    ]
    return (new[0] if first else None), new[first:]


def _core(text: str) -> str:
    """The word lower-cased, without spaces or opening quotes and brackets."""
    return text.strip().lstrip(_OPENING).lower()


def _is_abbreviation(text: str) -> bool:
    """"Mr.", "etc.", "e.g.", "U.S.": a period that belongs to the word, not to a sentence."""
    core = _core(text)
    return core in ABBREVIATIONS or _INITIALISM.fullmatch(core) is not None


def _is_ellipsis(text: str) -> bool:
    return text.rstrip().endswith(ELLIPSES)


def _ends_sentence(text: str) -> bool:
    """Whether the next word starts a sentence: a final mark that is no abbreviation or ellipsis."""
    return text.rstrip().endswith(SENTENCE_END) and not _is_abbreviation(text) and not _is_ellipsis(text)


def _starts_lower(text: str) -> bool:
    return text.lstrip()[:1].islower()


def _drop_false_stops(texts: list[str]) -> list[str]:
    """Rule 1: each "." or "!" followed by a lower-case word goes (Whisper ended a partial buffer)."""
    kept = [
        text if _is_ellipsis(text) or _is_abbreviation(text) or not _starts_lower(following)
        else _FALSE_STOP.sub("", text)
        for text, following in pairwise(texts)
    ]
    return [*kept, texts[-1]]


def _sentence_case(texts: list[str], i: int) -> str:
    """Rule 2: the transcript's first word and each word after a sentence end start upper-case."""
    text = texts[i]
    if i > 0 and not _ends_sentence(texts[i - 1]):
        return text
    at = len(text) - len(text.lstrip())
    return text[:at] + text[at:at + 1].upper() + text[at + 1:]


def _english_forms(texts: list[str], i: int) -> str:
    """Rules 2 (the pronoun "I") and 3 (small numbers as words) for the word at ``i``."""
    text = _PRONOUN_I.sub(r"\1I", texts[i], count=1)
    numeral = _NUMERAL.fullmatch(text)
    if numeral is None or _in_digit_sequence(texts, i) or _unit_follows(texts, i):
        return text
    space, digit, punctuation = numeral.groups()
    return space + NUMBER_WORDS[int(digit)] + punctuation


def _in_digit_sequence(texts: list[str], i: int) -> bool:
    """A neighbour holds a digit too: "1 2 3", a phone number, "2 10"."""
    neighbours = texts[max(0, i - 1):i] + texts[i + 1:i + 2]
    return any(_DIGIT.search(text) for text in neighbours)


def _unit_follows(texts: list[str], i: int) -> bool:
    """The numeral measures something: "5 percent", "5 per cent", "3 pm", "2 kg"."""
    after = [_bare(text) for text in texts[i + 1:i + 3]]
    return bool(after) and (after[0] in UNIT_WORDS or " ".join(after) in UNIT_WORDS)
