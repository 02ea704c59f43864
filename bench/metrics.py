"""Scoring for the streaming bench: text normalisation, word alignment, WER, statistics.

Pure functions with no engine inside, so the scoring can be checked on its own.

Normalisation, applied to references and hypotheses alike so that written and spoken
forms score the same (the eval references mix "press 1" with "press zero"):

1. lower-case; hyphens and dashes become spaces ("Call-Forward" -> "call forward");
2. a thousands separator between digits is dropped ("1,000" -> "1000"), a decimal point
   between digits is read "point" ("2.5" -> "two point five"), "%" is read "percent";
3. ordinals become words ("21st" -> "twenty first");
4. apostrophes are removed ("party's" -> "partys"), every other punctuation mark
   becomes a space;
5. digits and letters glued together are split ("mp3" -> "mp three");
6. the titles Whisper abbreviates and read-speech references spell out are expanded:
   "mr" -> "mister", "mrs" -> "missus", "dr" -> "doctor";
7. a run of digits is read as a cardinal number: 0..9999 in words, without "and"
   ("105" -> "one hundred five", "1961" -> "one thousand nine hundred sixty one");
   longer runs and runs with a leading zero are read digit by digit ("007" ->
   "zero zero seven"), as phone and PIN numbers are spoken. A year spoken as
   "nineteen sixty one" therefore still counts as errors: a known limit. Number words are
   English, so for other languages a digit and its spoken form still differ.

Every step works inside one whitespace-separated token, so normalising a text equals
normalising its words one by one; that lets timed words keep their times through it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINAL_IRREGULAR = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_TITLES = {"mr": "mister", "mrs": "missus", "dr": "doctor"}

_DASHES = re.compile(r"[-‐‑‒–—―]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_ORDINAL = re.compile(r"\b(\d{1,4})(st|nd|rd|th)\b")
_APOSTROPHES = re.compile(r"['‘’`´]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")


def number_to_words(n: int) -> list[str]:
    """Cardinal words for 0..9999 ("1961" -> one thousand nine hundred sixty one)."""
    if not 0 <= n <= 9999:
        raise ValueError(f"{n} is outside 0..9999")
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        tens, rest = divmod(n, 10)
        return [_TENS[tens]] + ([_ONES[rest]] if rest else [])
    size, unit = (1000, "thousand") if n >= 1000 else (100, "hundred")
    big, rest = divmod(n, size)
    return [_ONES[big], unit] + (number_to_words(rest) if rest else [])


def ordinal_to_words(n: int) -> list[str]:
    """Ordinal words for 0..9999: the cardinal with its last word turned ("21" -> twenty first)."""
    words = number_to_words(n)
    last = words[-1]
    if last in _ORDINAL_IRREGULAR:
        words[-1] = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return words


def digits_to_words(digits: str) -> list[str]:
    """A run of ASCII digits as spoken: a number up to 9999, else one word per digit."""
    if len(digits) <= 4 and not (len(digits) > 1 and digits.startswith("0")):
        return number_to_words(int(digits))
    return [_ONES[int(d)] for d in digits]


def normalize_text(text: str) -> list[str]:
    """The words of ``text`` as scored (see the module docstring for the rules)."""
    s = _DASHES.sub(" ", text.lower())
    s = _THOUSANDS.sub("", s)
    s = _DECIMAL.sub(" point ", s)
    s = s.replace("%", " percent ")
    s = _ORDINAL.sub(lambda m: " " + " ".join(ordinal_to_words(int(m[1]))) + " ", s)
    s = _APOSTROPHES.sub("", s)
    s = _PUNCTUATION.sub(" ", s)
    s = _DIGIT_LETTER.sub(" ", s)
    words: list[str] = []
    for token in s.split():
        if token.isascii() and token.isdigit():
            words.extend(digits_to_words(token))
        else:
            words.append(_TITLES.get(token, token))
    return words


def normalize_timed(words: Sequence[tuple[str, float]]) -> tuple[list[str], list[float]]:
    """Normalise (raw word, time) pairs; a word that becomes several keeps its time for each."""
    tokens: list[str] = []
    times: list[float] = []
    for raw, t in words:
        for token in normalize_text(raw):
            tokens.append(token)
            times.append(t)
    return tokens, times


@dataclass(frozen=True)
class Alignment:
    """A minimum-edit alignment of hypothesis words to reference words."""

    ref_words: int
    substitutions: int
    deletions: int
    insertions: int
    matches: list[tuple[int, int]] = field(default_factory=list)  # (ref index, hyp index), equal

    @property
    def edits(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float | None:
        """None when the reference is empty: a rate of nothing is not a number."""
        return self.edits / self.ref_words if self.ref_words else None


def align(ref: Sequence[str], hyp: Sequence[str]) -> Alignment:
    """Levenshtein over words, with a backtrace that prefers matches, so equal pairs are kept."""
    n, m = len(ref), len(hyp)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = i
    for j in range(m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        row, prev, r = cost[i], cost[i - 1], ref[i - 1]
        for j in range(1, m + 1):
            diagonal = prev[j - 1] + (r != hyp[j - 1])
            row[j] = min(diagonal, prev[j] + 1, row[j - 1] + 1)
    subs = dels = ins = 0
    matches: list[tuple[int, int]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            if ref[i - 1] == hyp[j - 1]:
                matches.append((i - 1, j - 1))
            else:
                subs += 1
            i, j = i - 1, j - 1
        elif i > 0 and cost[i][j] == cost[i - 1][j] + 1:
            dels += 1
            i -= 1
        else:
            ins += 1
            j -= 1
    matches.reverse()
    return Alignment(n, subs, dels, ins, matches)


def matched_delays(
    reference: Sequence[tuple[str, float]], hypothesis: Sequence[tuple[str, float]]
) -> list[float]:
    """Hypothesis time minus reference time for every word the alignment pairs as equal.

    Used for commit latency: reference = offline words with their end times, hypothesis =
    streamed committed words with the wall time each was first committed.
    """
    ref_tokens, ref_times = normalize_timed(reference)
    hyp_tokens, hyp_times = normalize_timed(hypothesis)
    alignment = align(ref_tokens, hyp_tokens)
    return [hyp_times[j] - ref_times[i] for i, j in alignment.matches]


def summarize(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, median, p90, mean and max of a sample; the statistics are None for an empty one."""
    if not values:
        return {"n": 0, "median": None, "p90": None, "mean": None, "max": None}
    arr = np.asarray(values, dtype=float)
    return {
        "n": int(arr.size),
        "median": round(float(np.median(arr)), 3),
        "p90": round(float(np.percentile(arr, 90)), 3),
        "mean": round(float(arr.mean()), 3),
        "max": round(float(arr.max()), 3),
    }
