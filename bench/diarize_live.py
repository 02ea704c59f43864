"""Diarization next to ASR: one clip streamed in real time through the whole engine.

What a caption reader gets with speakers switched on: how long a committed word waits
in ``buffer_diarization`` before it shows in ``lines`` with its speaker, whether the
engine kept real time with both models on two cores, and which speaker each word got.

Two measuring points are hooked into the bench process only (the engine is untouched):
``engine.diarize`` is wrapped on the instance to add up the diarization thread's CPU
time (and to keep the stream's diarizer, whose turns give a DER under ASR load), and
``LineBuilder.add_words`` is wrapped while a clip runs to record every word with the
speaker it was given and its word times.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.core.choices import StreamChoices
from app.core.decoding import SAMPLE_RATE
from app.core.diarization import DiarizationOptions, SpeakerTurn, StreamingDiarizer
from app.core.engine import TranscriptionEngine
from app.core.feed import stream_samples
from app.core.frontdata import FrontData
from app.core.lines import LineBuilder
from app.core.words import TimedWord
from bench.replay import AsrTimer, cpu_seconds


class DiarizationTimer:
    """Wraps ``engine.diarize`` on the instance: CPU and wall seconds of every pass, on its thread."""

    def __init__(self, engine: TranscriptionEngine) -> None:
        self.cpu_s = 0.0
        self.wall_s = 0.0
        self.calls = 0
        self.diarizer: StreamingDiarizer | None = None
        original: Callable[..., Awaitable[Any]] = engine.diarize

        async def timed(work: Callable[..., Any], *args: Any) -> Any:
            self.diarizer = next((a for a in args if isinstance(a, StreamingDiarizer)), self.diarizer)

            def measured() -> Any:
                cpu, wall = time.thread_time(), time.perf_counter()
                try:
                    return work(*args)
                finally:
                    self.cpu_s += time.thread_time() - cpu
                    self.wall_s += time.perf_counter() - wall
                    self.calls += 1

            return await original(measured)

        engine.diarize = timed  # type: ignore[method-assign]


@dataclass(frozen=True)
class AttributedWord:
    text: str
    start: float
    end: float
    speaker: int
    at_s: float  # seconds since the stream started when it was put in a line


@contextlib.contextmanager
def recording_words(start: float, into: list[AttributedWord]) -> Iterator[None]:
    """Record every word given to a LineBuilder (with its speaker) while the block runs."""
    original = LineBuilder.add_words

    def add_words(self: LineBuilder, words: Any, speaker: int = 1, language: str = "") -> None:
        now = time.monotonic() - start
        into.extend(
            AttributedWord(w.text.strip(), w.start, w.end, speaker, now)
            for w in words
            if isinstance(w, TimedWord) and w.text.strip()
        )
        original(self, words, speaker, language)

    LineBuilder.add_words = add_words  # type: ignore[method-assign]
    try:
        yield
    finally:
        LineBuilder.add_words = original  # type: ignore[method-assign]


@dataclass
class LiveRun:
    """One clip through the engine with ASR and diarization; times since the stream started."""

    duration_s: float
    wall_s: float = 0.0
    final_lag_s: float = 0.0  # final update minus the end of the audio
    cpu_s: float = 0.0  # the whole process
    asr_s: float = 0.0  # wall time inside engine.transcribe
    diarization_cpu_s: float = 0.0
    diarization_passes: int = 0
    max_diarization_lag_s: float = 0.0  # largest remaining_time_diarization
    max_transcription_lag_s: float = 0.0
    attribution_delays_s: list[float] = field(default_factory=list)
    words: list[AttributedWord] = field(default_factory=list)
    turns: list[SpeakerTurn] = field(default_factory=list)  # the diarizer's own
    final_text: str = ""
    error: str = ""


def _attributed_words(update: FrontData) -> int:
    return sum(len(line.text.split()) for line in update.lines if not line.is_silence)


class _AttributionClock:
    """Word index -> first update committing it, and first update showing it in a line.

    Committed text only grows (lines, then the words waiting in ``buffer_diarization``),
    so word *i* is new in the first update whose committed count passes *i*.
    """

    def __init__(self) -> None:
        self.committed_at: list[float] = []
        self.attributed_at: list[float] = []

    def see(self, t: float, update: FrontData) -> None:
        attributed = _attributed_words(update)
        committed = attributed + len(update.buffer_diarization.split())
        self.committed_at.extend([t] * (committed - len(self.committed_at)))
        self.attributed_at.extend([t] * (attributed - len(self.attributed_at)))

    def delays(self) -> list[float]:
        return [a - c for c, a in zip(self.committed_at, self.attributed_at, strict=False)]


async def run_live(
    engine: TranscriptionEngine,
    asr: AsrTimer,
    diarization: DiarizationTimer,
    audio: np.ndarray,
    options: DiarizationOptions | None,
) -> LiveRun:
    """Stream ``audio`` in real time and measure it (see the module docstring).

    ``options=None`` is the baseline: the same stream with diarization off, so the cost
    diarization adds is a difference measured under the same CPU load.
    """
    run = LiveRun(duration_s=len(audio) / SAMPLE_RATE)
    clock = _AttributionClock()
    diarization.diarizer = None
    asr0, cpu0, diar0, passes0 = asr.seconds, cpu_seconds(), diarization.cpu_s, diarization.calls
    start = time.monotonic()

    def on_update(update: FrontData) -> None:
        t = time.monotonic() - start
        clock.see(t, update)
        run.max_diarization_lag_s = max(run.max_diarization_lag_s, update.remaining_time_diarization)
        run.max_transcription_lag_s = max(run.max_transcription_lag_s, update.remaining_time_transcription)
        run.wall_s = t

    with recording_words(start, run.words):
        final = await stream_samples(
            engine, audio, StreamChoices(diarization=options), realtime=True, on_update=on_update
        )
    run.final_lag_s = run.wall_s - run.duration_s
    run.cpu_s = cpu_seconds() - cpu0
    run.asr_s = asr.seconds - asr0
    run.diarization_cpu_s = diarization.cpu_s - diar0
    run.diarization_passes = diarization.calls - passes0
    run.attribution_delays_s = clock.delays()
    run.final_text = final.text
    run.error = final.error
    if diarization.diarizer is not None:
        run.turns = list(diarization.diarizer.turns)
    return run
