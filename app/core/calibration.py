"""Which speech model this machine can caption live with: the choice, from recorded timings.

A live stream does not decode each second of audio once: it decodes its growing buffer
again and again, a few seconds long and trimmed past 10 s (``StreamSettings``). How far
captions trail speech therefore follows from how long *one decode of a live-sized buffer*
takes, not from a whole-file real-time factor. :func:`caption_delay_s` turns that decode
time into the delay a reader sees, with the processor's own cadence rules, and a model
keeps up when that delay stays within :data:`TARGET_DELAY_S`.

Everything here is pure: timings in (measured by :mod:`app.core.calibration_run`, or
recorded ones in tests), a choice and one sentence per model out, so the dialog can say why.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from app.core.policy.local_agreement import TAIL_GUARD_S
from app.core.processor import ProcessorConfig

TARGET_DELAY_S = 2.0
"""Captions may trail speech this much: the overlay shows "lag" past it (app/gui/overlay.py)."""

ESTIMATE_MARGIN = 1.5
"""An estimated model is recommended only if it would still keep up this much slower.

Estimates scale a measured model by the catalogue's compute ratio, which ignores how well
each size uses this machine's cores and caches; downloading a model that then lags costs
the user far more than passing over one that would have fitted.
"""

SKIP_FACTOR = 3.0
"""A model estimated this far over the decode limit is not worth loading to measure.

Generous, because the catalogue's costs come from the architecture alone: on live-sized
buffers on two cores a small-shaped model cost 2.4× base (``bench.calibration``)
where the catalogue says 4.5×. An installed model skipped wrongly is never offered.
"""


class Candidate(Protocol):
    """What the choice needs of a model; ``app.core.model_catalog.CatalogModel`` has it."""

    @property
    def name(self) -> str: ...
    @property
    def english_only(self) -> bool: ...
    @property
    def relative_cost(self) -> float: ...  # compute per audio second, relative to base
    @property
    def accuracy_rank(self) -> int: ...  # higher is more accurate


@dataclass(frozen=True)
class Timing:
    """One model's decode time on live-sized buffers, on one device."""

    model: str
    device: str  # "cpu" or "cuda", as the engine ran it
    compute_type: str
    audio_s: float  # mean length of the buffers decoded
    decode_s: float  # mean wall time of one decode of such a buffer
    estimated_from: str = ""  # the measured model this was scaled from; "" when measured

    @property
    def estimated(self) -> bool:
        return bool(self.estimated_from)

    @property
    def rtf(self) -> float:
        """Decode seconds per second of buffer: the real-time factor of one live decode."""
        return self.decode_s / self.audio_s


@dataclass(frozen=True)
class Verdict:
    model: str
    timing: Timing | None  # None: neither measured nor estimable
    delay_s: float | None  # how far captions would trail speech with it
    eligible: bool  # usable for the chosen language
    keeps_up: bool  # eligible and within the target (with ESTIMATE_MARGIN when estimated)
    installed: bool
    why: str  # one sentence for the dialog


@dataclass(frozen=True)
class Choice:
    pick: str | None  # None: nothing measured that could caption this language
    download: bool  # the pick is not installed yet
    summary: str  # one sentence for the dialog
    verdicts: tuple[Verdict, ...]  # most accurate first


def caption_delay_s(decode_s: float, device: str) -> float:
    """How far a word's caption trails its end in speech (about the 90th percentile).

    A word waits for the tail guard and the chunk it ends in, then for two decodes that
    agree on it: the one that first hears it (up to one cadence away) and the next (one
    more cadence), the last of which must finish. The cadence is the processor's: its
    floor, or the decode time over the share of time decodes may take. With base on two
    cores (0.25 s a decode) this gives 1.38 s at share 0.8 and 1.75 s at share 0.5;
    ``bench.stream`` measured a p90 commit of 1.37 and 1.80 s (bench/README.md).
    """
    config = ProcessorConfig()
    floor = config.gpu_step_s if device == "cuda" else config.step_s
    cadence = max(floor, decode_s / config.decode_share)
    return TAIL_GUARD_S + config.listen_s + 2 * cadence + decode_s


def decode_limit_s(device: str, target_s: float = TARGET_DELAY_S) -> float:
    """The longest live decode that keeps :func:`caption_delay_s` within ``target_s``."""
    config = ProcessorConfig()
    floor = config.gpu_step_s if device == "cuda" else config.step_s
    room = target_s - TAIL_GUARD_S - config.listen_s
    stretched = room / (1 + 2 / config.decode_share)  # decodes slow enough to set the cadence
    if stretched >= floor * config.decode_share:
        return stretched
    return max(0.0, room - 2 * floor)


def estimate(
    candidate: Candidate, candidates: Sequence[Candidate], timings: Sequence[Timing]
) -> Timing | None:
    """``candidate``'s timing scaled from the measured model nearest to it in compute cost.

    The nearest one, because fixed costs (feature extraction, alignment, the first
    decoder steps) weigh differently at each size, so a short scale is the safer one.
    """
    costs = {c.name: c.relative_cost for c in candidates}
    measured = [t for t in timings if not t.estimated and t.model in costs]
    if not measured:
        return None
    cost = candidate.relative_cost
    reference = min(measured, key=lambda t: (abs(math.log(cost / costs[t.model])), -costs[t.model]))
    scaled = reference.decode_s * cost / costs[reference.model]
    return replace(reference, model=candidate.name, decode_s=scaled, estimated_from=reference.model)


def clearly_too_slow(
    candidate: Candidate, candidates: Sequence[Candidate], timings: Sequence[Timing]
) -> bool:
    """True when the estimate from what is measured so far is hopeless: skip measuring it."""
    guess = estimate(candidate, candidates, timings)
    return guess is not None and guess.decode_s > SKIP_FACTOR * decode_limit_s(guess.device)


def choose(
    candidates: Sequence[Candidate],
    timings: Sequence[Timing],
    language: str | None,
    installed: Collection[str] | None = None,
    target_s: float = TARGET_DELAY_S,
) -> Choice:
    """The most accurate model that keeps live captions within ``target_s`` of speech.

    ``language`` is the captions' language (None or "auto": detected), since an English-only
    model cannot caption anything else. ``installed`` defaults to the measured models.
    Among equally accurate models an installed one wins, then the faster. When none keeps
    up, the fastest installed one is picked, with a sentence saying how far captions will lag.
    """
    measured = {t.model: t for t in timings if not t.estimated}
    installed = set(measured) if installed is None else set(installed)
    english = (language or "").strip().lower() == "en"
    rank = {c.name: c.accuracy_rank for c in candidates}
    verdicts = sorted(
        (
            _verdict(c, measured.get(c.name) or estimate(c, candidates, timings), english, language,
                     c.name in installed, target_s)
            for c in candidates
        ),
        key=lambda v: -rank[v.model],
    )
    fitting = [v for v in verdicts if v.keeps_up]
    if fitting:
        best = max(fitting, key=lambda v: (rank[v.model], v.installed, -_decode_s(v)))
        return Choice(best.model, not best.installed, _fits_summary(best, fitting, target_s), tuple(verdicts))
    usable = [v for v in verdicts if v.eligible and v.timing is not None]
    fastest = min(usable, key=lambda v: (not v.installed, _decode_s(v)), default=None)
    if fastest is None:
        return Choice(None, False, _nothing_summary(verdicts, english), tuple(verdicts))
    summary = (
        f"No model keeps captions within {target_s:g} s of speech on this {_device_words(fastest)}; "
        f"{fastest.model} is the fastest{'' if fastest.installed else ' (download it first)'}, "
        f"and captions will lag about {fastest.delay_s:.1f} s behind speech."
    )
    return Choice(fastest.model, not fastest.installed, summary, tuple(verdicts))


def _decode_s(verdict: Verdict) -> float:
    return verdict.timing.decode_s if verdict.timing else math.inf


def _device_words(verdict: Verdict) -> str:
    return "GPU" if verdict.timing and verdict.timing.device == "cuda" else "CPU"


def _verdict(
    candidate: Candidate, timing: Timing | None, english: bool, language: str | None,
    installed: bool, target_s: float,
) -> Verdict:
    name = candidate.name
    if candidate.english_only and not english:
        detected = not language or language.strip().lower() == "auto"
        why = f"{name}: English only, and the captions' language is {'detected' if detected else language}."
        return Verdict(name, timing, None, False, False, installed, why)
    if timing is None:
        why = f"{name}: not measured, and no measured model to estimate it from."
        return Verdict(name, None, None, True, False, installed, why)
    delay = caption_delay_s(timing.decode_s, timing.device)
    limit = decode_limit_s(timing.device, target_s)
    needs = f"needs ≤ {limit / timing.audio_s:.2g}×"
    if not timing.estimated:
        fits = delay <= target_s
        verdict = "fast enough for live captions" if fits else "too slow for live captions"
        why = (
            f"{name}: {timing.rtf:.2g}× real time on live-sized buffers here "
            f"({timing.decode_s:.2f} s a decode), so captions trail speech by about {delay:.1f} s: "
            f"{verdict} ({needs})."
        )
        return Verdict(name, timing, delay, True, fits, installed, why)
    fits = caption_delay_s(timing.decode_s * ESTIMATE_MARGIN, timing.device) <= target_s
    if fits:
        verdict = "fast enough with room to spare" + ("" if installed else "; download it to measure it")
    elif delay <= target_s:
        verdict = f"too close to the limit to recommend without measuring it ({needs})"
    else:
        verdict = f"too slow for live captions ({needs})"
    why = (
        f"{name}: about {timing.rtf:.2g}× real time here (estimated from {timing.estimated_from}, "
        f"not measured), so captions would trail speech by about {delay:.1f} s: {verdict}."
    )
    return Verdict(name, timing, delay, True, fits, installed, why)


def _fits_summary(best: Verdict, fitting: Sequence[Verdict], target_s: float) -> str:
    within = f"captions within {target_s:g} s of speech on this {_device_words(best)}"
    if best.installed:
        return f"{best.model} is the most accurate model that keeps {within}."
    ready = next((v.model for v in fitting if v.installed), None)  # fitting is most accurate first
    than = f"it is more accurate than {ready}, the best installed one that does" if ready else (
        "none of the installed models does"
    )
    return f"Download {best.model}: it should keep {within}, and {than}."


def _nothing_summary(verdicts: Sequence[Verdict], english: bool) -> str:
    if any(v.timing is not None for v in verdicts) and not english:
        return "Only English models were measured; install a multilingual model to caption this language."
    return "No model could be measured, so there is nothing to choose from."
