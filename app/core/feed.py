"""Streaming decoded audio into a processor, paced like a live source or as fast as it takes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import numpy as np

from app.core.decoding import SAMPLE_RATE, float_to_pcm16
from app.core.diarization import DiarizationOptions
from app.core.engine import TranscriptionEngine
from app.core.frontdata import FrontData
from app.core.policy import DEFAULT_POLICY
from app.core.processor import AudioProcessor, ProcessorConfig
from app.core.transcriber import StreamSettings


async def feed_samples(
    processor: AudioProcessor,
    samples: np.ndarray,
    chunk_s: float = 0.1,
    realtime: bool = False,
    end: bool = True,
) -> None:
    """Send ``samples`` as PCM chunks; with ``realtime`` each chunk waits for its wall-clock slot."""
    pcm = float_to_pcm16(samples)
    step = max(2, round(chunk_s * SAMPLE_RATE) * 2)
    started = time.monotonic()
    for index, offset in enumerate(range(0, len(pcm), step)):
        if realtime:
            due = started + index * chunk_s
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        await processor.process_audio(pcm[offset:offset + step])
    if end:
        await processor.process_audio(b"")


async def stream_samples(
    engine: TranscriptionEngine,
    samples: np.ndarray,
    *,
    realtime: bool = False,
    language: str | None = None,
    diarization: DiarizationOptions | None = None,
    policy: str = DEFAULT_POLICY,
    on_update: Callable[[FrontData], None] | None = None,
    target_language: str = "",
    translator: str = "auto",
    step_s: float | None = None,
) -> FrontData:
    """Stream whole audio through one AudioProcessor; return the final update.

    Real-time streams keep the live cadence; faster-than-real-time ones decode every 1 s
    of audio, since nobody is waiting for each word (``step_s`` overrides either: a bench
    replaying files at the live cadence).
    """
    if step_s is None:
        step_s = ProcessorConfig.step_s if realtime else 1.0
    config = ProcessorConfig(
        live=realtime,
        step_s=step_s,
        language=language,
        diarization=diarization,
        target_language=target_language,
        translator=translator,
        stream=StreamSettings(policy=policy),
    )
    processor = AudioProcessor(engine, config)
    feeder = asyncio.create_task(feed_samples(processor, samples, realtime=realtime))
    final = FrontData()
    try:
        async for update in processor.results():
            final = update
            if on_update:
                on_update(update)
        await feeder
    finally:
        feeder.cancel()
        await processor.cleanup()
    return final
