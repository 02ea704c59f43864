"""Streaming decoded audio into a processor, paced like a live source or as fast as it takes."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from app.core.decoding import SAMPLE_RATE, float_to_pcm16
from app.core.processor import AudioProcessor


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
