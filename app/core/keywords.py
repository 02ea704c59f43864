"""Keyword alerts ("your name heard"): find the user's words in captions, once per time they are said.

Why this exists: a hard-of-hearing user who looks away from the captions misses being addressed.
The app watches every caption update for a short list of words (a name, "fire alarm") and alerts
once per occurrence. This module is the pure part (no Qt, no engine): matching and deciding which
hits are new. The desktop glue (app/gui/keyword_alerts.py) flashes, plays and notifies.

Matching must survive how Whisper spells what it hears. Each caption token is compared with each
keyword token after

- folding case and accents ("JOSÉ" = "jose") and dropping apostrophes inside words ("O'Brien");
- stripping a possessive or plural ending ("Dana's", "Danas", "James'");
- expanding the titles Whisper abbreviates ("Dr" = "doctor");
- for keywords of at least `PHONETIC_MIN_LEN` letters, a coarse English sound key
  (`sound_key`: "Catherine" and "Katherine" both become "katerin", "Stephen" "stefen");
- for keywords of at least `FUZZY_MIN_LEN` letters, a small edit distance between sound keys or
  spellings: at most ``max_edit_ratio`` of the longer one's length, and never more than
  `MAX_EDITS` ("Kathryn" is one edit from "Katherine"'s key). Both keys must start alike: the
  first sound survives mishearing best, and the rule removes many near-misses.

Short keywords ("Dan", "Ann") match only exactly (after case, possessive and plural): one edit
turns them into everyday words ("and", "an"). Multi-word keywords match consecutive tokens, or the
same letters split or joined differently ("Mac Kenzie" = "MacKenzie").

Once per occurrence: a stream's captions change as Whisper revises its guess. A word first
appears in the live buffer, may vanish and come back, then moves into a committed line, and the
line may later be revised. `AlertTracker` gives every hit an approximate stream time (from the
line's start and end, or, in the buffer, from the last committed line's end and the speaking
rate) and treats a hit within `SAME_OCCURRENCE_S` of an earlier one of the same keyword as that
same occurrence. The default edit ratio was chosen by ``python -m bench.keyword_alerts``
(bench/README.md): the highest at which fuzzy matching added no false alert over the eval sets
(0.2 added eleven for 68 absent names, e.g. Marco for "mark").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from app.core.frontdata import FrontData, Line

DEFAULT_EDIT_RATIO = 0.15  # chosen by bench.keyword_alerts: see the module docstring and bench/README.md
FUZZY_MIN_LEN = 5  # shorter keyword tokens never match with edits
PHONETIC_MIN_LEN = 4  # shorter ones never match by sound key either ("Ann" would be "an")
MAX_EDITS = 2
SAME_OCCURRENCE_S = 2.5  # hits of one keyword closer than this are one occurrence
SPEECH_CHARS_PER_S = 15.0  # English speech with spaces: where a buffer word lies when lines cannot say
RATE_BOUNDS = (8.0, 25.0)
RATE_LINES = 6  # recent committed lines the speaking rate is measured over
FIRED_MEMORY_S = 120.0  # fired occurrences older than this (stream time) are forgotten
TITLES = {"dr": "doctor", "mr": "mister", "mrs": "missus", "ms": "miss", "st": "saint", "prof": "professor"}

_TOKEN = re.compile(r"\w+(?:['’`]\w+)*['’`]?")
_APOSTROPHES = re.compile(r"['’`]")
_VOWELS = frozenset("aeiou")


# --- normalising one token ------------------------------------------------------------------


@lru_cache(maxsize=16384)
def fold(token: str) -> str:
    """Lower case, no accents, no apostrophes: how a token is compared ("José's" -> "joses")."""
    decomposed = unicodedata.normalize("NFKD", token.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _APOSTROPHES.sub("", plain)


@lru_cache(maxsize=16384)
def variants(token: str) -> tuple[str, ...]:
    """The folded token and the forms it may stand for without its possessive or plural ending.

    "Dana's" -> (danas, dana); "boxes" -> (boxes, boxe, box); "James'" -> (james,). Titles are
    expanded ("Dr." -> doctor). A spurious form ("boxe") costs nothing: it is only compared.
    """
    lowered = token.casefold()
    forms = [fold(token)]
    for ending in ("'s", "’s", "`s", "'", "’", "`"):
        if lowered.endswith(ending) and len(lowered) > len(ending):
            forms.append(fold(token[: -len(ending)]))
            break
    base = forms[-1]
    if len(base) > 3 and base.endswith("s") and not base.endswith("ss"):
        forms.append(base[:-1])
        if (base.endswith("es") and base[-3] in "sxz") or base.endswith(("ches", "shes")):
            forms.append(base[:-2])
    expanded = [TITLES.get(form, form) for form in forms]
    return tuple(dict.fromkeys(expanded))


@lru_cache(maxsize=16384)
def sound_key(word: str) -> str:
    """A coarse English sound key of a folded word, so spellings of one name compare equal or close.

    The rules are few on purpose (they apply to both sides, so they need only be consistent):
    ph/v -> f, th -> t, ck/q -> k, x -> ks, c before e/i/y -> s, other c -> k, z -> s, y -> i,
    an h that is not sounded (after a consonant, or not before a vowel) goes, doubled letters
    collapse, and a final silent e goes. "Catherine", "Katherine" -> katerin; "Kathryn" -> katrin.
    """
    w = "".join(char for char in word if char.isalpha())
    w = w.replace("ph", "f").replace("v", "f").replace("th", "t").replace("ck", "k").replace("q", "k")
    w = w.replace("x", "ks")
    out: list[str] = []
    for i, char in enumerate(w):
        following = w[i + 1] if i + 1 < len(w) else ""
        if char == "c":
            char = "s" if following in ("e", "i", "y") else "k"
        elif char == "z":
            char = "s"
        elif char == "y":
            char = "i"
        elif char == "h" and i > 0 and (out[-1] not in _VOWELS or following not in _VOWELS):
            continue
        if out and out[-1] == char:
            continue
        out.append(char)
    key = "".join(out)
    return key[:-1] if len(key) > 3 and key.endswith("e") else key


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one), or ``limit + 1`` once it is beyond.

    Names are short, so the plain dynamic programme is fast; the early exit makes most
    comparisons of unlike words stop after a row or two.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


@lru_cache(maxsize=65536)
def similarity(keyword: str, form: str, max_edit_ratio: float) -> float:
    """How well a caption form matches a folded keyword string: 1.0 equal, 0.0 no match.

    Exact matches count at any length; matches by sound key and by edits only for long enough
    keywords (see the module docstring). The score is 1 - edits / longer length.
    """
    if keyword == form:
        return 1.0
    if len(keyword) < PHONETIC_MIN_LEN:
        return 0.0
    key, other = sound_key(keyword), sound_key(form)
    if key == other and key:
        return 0.99
    if len(keyword) < FUZZY_MIN_LEN or max_edit_ratio <= 0 or not other or key[:1] != other[:1]:
        return 0.0
    best = 0.0
    for a, b in ((key, other), (keyword, form)):
        longer = max(len(a), len(b))
        limit = min(MAX_EDITS, int(max_edit_ratio * longer + 1e-9))
        if limit < 1:
            continue
        edits = edit_distance(a, b, limit)
        if edits <= limit:
            best = max(best, 1.0 - edits / longer)
    return best


# --- finding keywords in text ----------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A keyword found in a text: ``text[start:end]`` is what the caption says (e.g. "Dana's")."""

    keyword: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class _Keyword:
    text: str  # as the user wrote it
    tokens: tuple[str, ...]  # folded, titles expanded
    joined: str  # the tokens without spaces, for split or joined spellings


@lru_cache(maxsize=16384)
def _initials(forms: tuple[str, ...]) -> frozenset[str]:
    """The first letter of each form and of its sound key: every way a match could begin."""
    return frozenset(initial for form in forms for initial in (form[:1], sound_key(form)[:1]) if initial)


def _tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


class KeywordMatcher:
    """Finds the user's keywords in caption text; pure and cheap enough to run on every update."""

    def __init__(self, keywords: Iterable[str], max_edit_ratio: float = DEFAULT_EDIT_RATIO) -> None:
        self.max_edit_ratio = max_edit_ratio
        parsed: dict[str, _Keyword] = {}
        for text in keywords:
            tokens = tuple(TITLES.get(fold(token), fold(token)) for _, _, token in _tokens(text))
            tokens = tuple(token for token in tokens if token)
            if tokens and "".join(tokens) not in {k.joined for k in parsed.values()}:
                parsed[text.strip()] = _Keyword(text.strip(), tokens, "".join(tokens))
        self._keywords = tuple(parsed.values())
        # First letters (as spelt and as sounded) -> keywords: a caption word can only start a match of
        # a keyword that begins like it, so each word is tried against a few keywords, not all of them.
        self._by_initial: dict[str, list[int]] = {}
        for index, keyword in enumerate(self._keywords):
            for initial in _initials((keyword.tokens[0], keyword.joined)):
                self._by_initial.setdefault(initial, []).append(index)

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(keyword.text for keyword in self._keywords)

    def __bool__(self) -> bool:
        return bool(self._keywords)

    def find(self, text: str) -> list[Match]:
        """Every keyword occurrence in ``text``, in order; one keyword's matches never overlap."""
        if not self._keywords or not text:
            return []
        tokens = _tokens(text)
        found: list[Match] = []
        free_from = [0] * len(self._keywords)  # a keyword's match may not start inside its previous one
        for i, (token_start, _, token) in enumerate(tokens):
            candidates: set[int] = set()
            for initial in _initials(variants(token)):
                candidates.update(self._by_initial.get(initial, ()))
            for index in sorted(candidates):
                if token_start < free_from[index]:
                    continue
                keyword = self._keywords[index]
                hit = self._match_at(keyword, tokens, i)
                if hit is not None:
                    count, score = hit
                    end = tokens[i + count - 1][1]
                    found.append(Match(keyword.text, token_start, end, score))
                    free_from[index] = end
        found.sort(key=lambda m: (m.start, m.end))
        return found

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every match: what the overlay highlights."""
        return [(m.start, m.end) for m in self.find(text)]

    def _match_at(
        self, keyword: _Keyword, tokens: Sequence[tuple[int, int, str]], i: int
    ) -> tuple[int, float] | None:
        """(tokens used, score) for a match starting at token ``i``, best first; None when none."""
        n = len(keyword.tokens)
        best: tuple[int, float] | None = None
        for count in (n, n - 1, n + 1):  # the same words, or one split or joined differently
            if count < 1 or i + count > len(tokens):
                continue
            words = [token for _, _, token in tokens[i : i + count]]
            if count == n:
                score = self._score_tokens(keyword.tokens, words)
            else:
                head = "".join(TITLES.get(fold(w), fold(w)) for w in words[:-1])
                # Split or joined differently: the same letters or sound only. With edits too, "and re"
                # was "Andrew" (bench.keyword_alerts).
                forms = variants(words[-1])
                score = max(similarity(keyword.joined, head + form, 0.0) for form in forms)
            if score > 0 and (best is None or score > best[1]):
                best = (count, score)
            if best is not None and best[1] >= 1.0:
                break
        return best

    def _score_tokens(self, wanted: Sequence[str], words: Sequence[str]) -> float:
        """The weakest token pair's score; only the last caption word may carry a possessive or plural."""
        score = 1.0
        for index, (keyword, word) in enumerate(zip(wanted, words, strict=True)):
            forms = variants(word) if index == len(words) - 1 else (TITLES.get(fold(word), fold(word)),)
            score = min(score, max(similarity(keyword, form, self.max_edit_ratio) for form in forms))
            if score <= 0:
                return 0.0
        return score


# --- once per occurrence ---------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """A new occurrence of a keyword: alert about it.

    ``time_s`` and ``end_s`` are the approximate stream times of the words (a buffer hit's come
    from the speaking rate, so they are rougher). ``committed`` is False for a hit in the live,
    not yet final text.
    """

    keyword: str
    surface: str
    time_s: float
    end_s: float
    committed: bool
    score: float


@dataclass
class _Seen:
    lines: tuple[Line, ...] = ()
    pending: str | None = None
    fired: dict[str, list[float]] = field(default_factory=dict)  # keyword -> occurrence times


class AlertTracker:
    """Feeds on a stream's updates and returns each keyword occurrence once.

    Keep one per stream (its times are that stream's), `reset` it when a new stream starts. Only
    the lines that changed since the previous update and the live text are searched, so the
    cost of an update does not grow with the length of the session.
    """

    def __init__(self, matcher: KeywordMatcher, same_occurrence_s: float = SAME_OCCURRENCE_S) -> None:
        self.matcher = matcher
        self.same_occurrence_s = same_occurrence_s
        self._seen = _Seen()

    def reset(self) -> None:
        """Forget the stream: the next update is a new stream's first."""
        self._seen = _Seen()

    def set_matcher(self, matcher: KeywordMatcher) -> None:
        """New keywords from now on; what is already on screen does not alert for a word just added."""
        self.matcher = matcher
        lines, pending = self._seen.lines, self._seen.pending or ""
        self._seen.lines, self._seen.pending = (), None
        self._new_hits(FrontData(lines=lines, buffer_transcription=pending))

    def feed(self, update: FrontData) -> list[Hit]:
        """The occurrences in ``update`` not alerted before (usually none)."""
        if update.refined:  # a whole-session pass after the fact: nobody is being addressed now
            return []
        return self._new_hits(update)

    def _new_hits(self, update: FrontData) -> list[Hit]:
        seen = self._seen
        candidates: list[Hit] = []
        if self.matcher:
            first = _first_changed(seen.lines, update.lines)
            for line in update.lines[first:]:
                candidates.extend(self._line_hits(line))
        parts = (update.buffer_diarization, update.buffer_transcription)  # words not yet on a line
        pending = " ".join(part for part in parts if part.strip())
        if self.matcher and pending != seen.pending:
            candidates.extend(self._pending_hits(pending, update.lines))
        seen.lines, seen.pending = update.lines, pending
        fresh = [hit for hit in candidates if self._remember(hit)]
        self._forget_old(update.lines)
        return fresh

    def _line_hits(self, line: Line) -> list[Hit]:
        if line.is_silence or not line.text:
            return []
        length = max(1, len(line.text))
        span = max(0.0, line.end - line.start)
        return [
            Hit(m.keyword, line.text[m.start : m.end], line.start + span * m.start / length,
                line.start + span * m.end / length, True, m.score)
            for m in self.matcher.find(line.text)
        ]

    def _pending_hits(self, text: str, lines: Sequence[Line]) -> list[Hit]:
        matches = self.matcher.find(text)
        if not matches:
            return []
        anchor = lines[-1].end if lines else 0.0
        rate = _speaking_rate(lines)
        return [
            Hit(m.keyword, text[m.start : m.end], anchor + m.start / rate, anchor + m.end / rate, False,
                m.score)
            for m in matches
        ]

    def _remember(self, hit: Hit) -> bool:
        """True when ``hit`` is a new occurrence (and note it); False when it is one already alerted."""
        times = self._seen.fired.setdefault(hit.keyword, [])
        for index, time in enumerate(times):
            if abs(time - hit.time_s) <= self.same_occurrence_s:
                if hit.committed:
                    times[index] = hit.time_s  # the committed line's time is the better one
                return False
        times.append(hit.time_s)
        return True

    def _forget_old(self, lines: Sequence[Line]) -> None:
        if not lines:
            return
        horizon = lines[-1].end - FIRED_MEMORY_S
        for times in self._seen.fired.values():
            if times and times[0] < horizon:
                times[:] = [time for time in times if time >= horizon]


def _first_changed(before: Sequence[Line], after: Sequence[Line]) -> int:
    """Index of the first line of ``after`` that differs from ``before``.

    Lines only change at the end (the last one grows; a revision places the last utterance's
    lines again, earlier lines never move), so walking back from the end finds it in a step or two.
    """
    index = min(len(before), len(after)) - 1
    while index >= 0 and before[index] is not after[index] and before[index] != after[index]:
        index -= 1
    return index + 1


def _speaking_rate(lines: Sequence[Line]) -> float:
    """Characters per second over the last few committed lines, bounded; a default without any."""
    chars = seconds = 0.0
    for line in lines[-RATE_LINES:]:
        if not line.is_silence and line.text and line.end > line.start:
            chars += len(line.text) + 1
            seconds += line.end - line.start
    if seconds < 1.0:
        return SPEECH_CHARS_PER_S
    low, high = RATE_BOUNDS
    return min(high, max(low, chars / seconds))
