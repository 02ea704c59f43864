"""Streaming decoded audio into a processor, paced like a live source or as fast as it takes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np

from app.core.decoding import SAMPLE_RATE, float_to_pcm16
from app.core.diarization import DiarizationOptions
from app.core.engine import TranscriptionEngine
from app.core.frontdata import FrontData
from app.core.policy import DEFAULT_POLICY
from app.core.processor import AudioProcessor, ProcessorConfig
from app.core.transcriber import StreamSettings

FILE_STEP_S = 1.0  # audio between decodes of a file fed faster than real time: nobody waits per word


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
        step_s = ProcessorConfig.step_s if realtime else FILE_STEP_S
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
    return await drive(processor, feed_samples(processor, samples, realtime=realtime), on_update)


async def drive(
    processor: AudioProcessor,
    feed: Coroutine[Any, Any, None],
    on_update: Callable[[FrontData], None] | None = None,
) -> FrontData:
    """Run ``feed`` into ``processor`` while reading its updates; return the final one.

    A feed that fails ends the stream at once with its error (it never sends the end, so
    waiting for the last update would wait forever), and leaving early, by error or
    cancellation, always cleans the processor up.
    """
    final = FrontData()

    async def read() -> None:
        nonlocal final
        async for update in processor.results():
            final = update
            if on_update:
                on_update(update)

    feeder, reader = asyncio.ensure_future(feed), asyncio.ensure_future(read())
    try:
        await asyncio.wait({feeder, reader}, return_when=asyncio.FIRST_EXCEPTION)
        for task in (feeder, reader):  # a failure first: the other may wait for it forever
            if task.done() and task.exception() is not None:
                raise task.exception()
        await feeder
        await reader
    finally:
        feeder.cancel()
        reader.cancel()
        await processor.cleanup()
    return final
