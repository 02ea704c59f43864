"""Driving a processor: float32 blocks in (a capture device, a file paced or not), updates out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine
from typing import Any

import numpy as np

from app.core.choices import StreamChoices
from app.core.decoding import SAMPLE_RATE
from app.core.engine import TranscriptionEngine
from app.core.frontdata import FrontData
from app.core.processor import AudioProcessor, ProcessorConfig

log = logging.getLogger(__name__)

FILE_STEP_S = 1.0  # audio between decodes of a file fed faster than real time: nobody waits per word


END_OF_STREAM = np.zeros(0, dtype=np.float32)


async def paced_blocks(
    samples: np.ndarray, chunk_s: float = 0.1, realtime: bool = False
) -> AsyncIterator[np.ndarray]:
    """``samples`` in ``chunk_s`` blocks; with ``realtime`` each waits for its wall-clock slot,
    as a microphone would deliver it."""
    step = max(1, round(chunk_s * SAMPLE_RATE))
    started = time.monotonic()
    for index, offset in enumerate(range(0, len(samples), step)):
        if realtime:
            await asyncio.sleep(max(0.0, started + index * chunk_s - time.monotonic()))
        yield samples[offset:offset + step]


async def feed_samples(
    processor: AudioProcessor,
    samples: np.ndarray,
    chunk_s: float = 0.1,
    realtime: bool = False,
    end: bool = True,
) -> None:
    """Send ``samples`` in blocks (paced with ``realtime``), then the end unless ``end`` is False."""
    async for block in paced_blocks(samples, chunk_s, realtime):
        await processor.process_samples(block)
    if end:
        await processor.process_samples(END_OF_STREAM)


async def stream_samples(
    engine: TranscriptionEngine,
    samples: np.ndarray,
    choices: StreamChoices | None = None,
    *,
    realtime: bool = False,
    on_update: Callable[[FrontData], None] | None = None,
    step_s: float | None = None,
) -> FrontData:
    """Stream whole audio through one AudioProcessor; return the final update.

    Real-time streams keep the live cadence; faster-than-real-time ones decode every 1 s
    of audio, since nobody is waiting for each word (``step_s`` overrides either: a bench
    replaying files at the live cadence).
    """
    if step_s is None:
        step_s = ProcessorConfig.step_s if realtime else FILE_STEP_S
    config = ProcessorConfig(choices=choices or StreamChoices(), live=realtime, step_s=step_s)
    processor = AudioProcessor(engine, config)
    return await pump(processor, paced_blocks(samples, realtime=realtime), on_update)


async def pump(
    processor: AudioProcessor,
    blocks: AsyncIterable[np.ndarray],
    on_update: Callable[[FrontData], None] | None = None,
) -> FrontData:
    """The one loop that drives a processor from float32 blocks (a capture device, a file).

    However the blocks end (a device unplugged, a stopped capture), the stream ends normally,
    so the processor commits every word it still holds.
    """

    async def feed() -> None:
        try:
            async for block in blocks:
                await processor.process_samples(block)
        except Exception:
            log.exception("the audio source failed; ending the stream with what it heard")
        await processor.process_samples(END_OF_STREAM)

    return await drive(processor, feed(), on_update)


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
