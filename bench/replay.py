"""Replaying audio through the engine as a live source would, and measuring what it costs.

A microphone can deliver a chunk only after it has been spoken, so the clock starts at
the first sample's capture and chunk k is sent at (k + 1) * chunk_s: the latencies seen
here are those a live listener sees, not ones flattered by audio arriving early. Every
update is stamped with seconds since that start on the monotonic clock.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psutil

from app.core.decoding import SAMPLE_RATE
from app.core.engine import TranscriptionEngine
from app.core.feed import feed_samples
from app.core.frontdata import Line
from app.core.processor import AudioProcessor, ProcessorConfig


class AsrTimer:
    """Wraps ``engine.transcribe`` on the instance to add up the time spent inside it.

    The real-time factor divides this by the audio streamed; patching the instance, not
    the class, keeps the engine code untouched and the measurement local to the bench.
    """

    def __init__(self, engine: TranscriptionEngine) -> None:
        self.calls = 0
        self.seconds = 0.0
        original: Callable[..., Awaitable[Any]] = engine.transcribe

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.calls += 1
                self.seconds += time.perf_counter() - started

        engine.transcribe = timed  # type: ignore[method-assign]


@dataclass
class Replay:
    """What one real-time replay produced; times are seconds since the stream started."""

    duration_s: float
    updates: list[dict[str, Any]] = field(default_factory=list)
    committed: list[tuple[str, float]] = field(default_factory=list)  # word, first committed at
    first_text_s: float | None = None
    final_update_s: float = 0.0
    final_text: str = ""
    final_lines: tuple[Line, ...] = ()
    wall_s: float = 0.0
    cpu_s: float = 0.0
    asr_calls: int = 0
    asr_s: float = 0.0

    @property
    def rtf(self) -> float | None:
        return self.asr_s / self.duration_s if self.duration_s else None

    @property
    def cpu_percent(self) -> float | None:
        """Process CPU time over wall time, as % of one core."""
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s else None


def cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def peak_rss_mb() -> float:
    """Peak resident set of this process: getrusage on Unix, the peak working set on Windows."""
    try:
        import resource
    except ImportError:  # Windows
        return psutil.Process().memory_info().peak_wset / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # macOS: bytes, Linux: KiB


async def replay(
    engine: TranscriptionEngine,
    timer: AsrTimer,
    samples: np.ndarray,
    config: ProcessorConfig,
    chunk_s: float = 0.1,
) -> Replay:
    """Stream ``samples`` in real time through a fresh processor and record every update."""
    result = Replay(duration_s=len(samples) / SAMPLE_RATE)
    processor = AudioProcessor(engine, config)
    commit_times: list[float] = []
    calls0, asr0, cpu0 = timer.calls, timer.seconds, cpu_seconds()
    start = time.monotonic()

    async def consume() -> None:
        async for update in processor.results():
            t = time.monotonic() - start
            words = update.text.split()
            # Committed text only grows: a word index seen for the first time was just committed.
            commit_times.extend([t] * (len(words) - len(commit_times)))
            if result.first_text_s is None and (update.text or update.buffer_transcription.strip()):
                result.first_text_s = t
            result.updates.append(
                {
                    "t": round(t, 3),
                    "committed_words": len(words),
                    "buffer": update.buffer_transcription,
                    "remaining_s": update.remaining_time_transcription,
                    "status": update.status,
                }
            )
            result.final_update_s = t
            result.final_text = update.text
            result.final_lines = update.lines

    consumer = asyncio.create_task(consume())
    try:
        await asyncio.sleep(chunk_s)  # the first chunk exists only once it has been spoken
        await feed_samples(processor, samples, chunk_s=chunk_s, realtime=True, end=False)
        await processor.process_audio(b"")
        await consumer
    finally:
        if not consumer.done():
            consumer.cancel()
        await processor.cleanup()
    result.wall_s = time.monotonic() - start
    result.cpu_s = cpu_seconds() - cpu0
    result.asr_calls = timer.calls - calls0
    result.asr_s = timer.seconds - asr0
    # Pair the final words with the time each index first appeared; a word whose text was
    # extended later (Whisper glues some tokens on) keeps its first commit time.
    result.committed = list(zip(result.final_text.split(), commit_times, strict=False))
    return result
