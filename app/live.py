"""Live captioning from capture devices: one AudioProcessor per source, results to callbacks.

The desktop app's engine thread runs this; it knows nothing of Qt. "Meeting mode" is
simply two sources at once (the microphone labelled "You", system audio "Others"), each
with its own processor, so their captions never mix inside one stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import numpy as np

from app.audio import AudioCapture, CaptureSource
from app.core.choices import StreamChoices
from app.core.diarization import load_models
from app.core.engine import TranscriptionEngine
from app.core.feed import pump
from app.core.frontdata import FrontData
from app.core.processor import AudioProcessor, ProcessorConfig

log = logging.getLogger(__name__)

FINISH_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class LiveSource:
    label: str  # "You", "Others", or "" when there is one source
    source: CaptureSource


@dataclass(frozen=True)
class LiveCallbacks:
    """Called on the engine thread; the GUI bridge turns them into Qt signals."""

    on_update: Callable[[str, FrontData], None]
    on_capture_state: Callable[[str, str, str], None]  # label, state, message
    on_level: Callable[[str, float], None]  # label, dBFS


class LiveSession:
    def __init__(
        self,
        engine: TranscriptionEngine,
        sources: list[LiveSource],
        callbacks: LiveCallbacks,
        choices: StreamChoices | None = None,
    ) -> None:
        self.engine = engine
        self.sources = sources
        self.callbacks = callbacks
        self.choices = choices or StreamChoices()
        self._captures: list[AudioCapture] = []
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Load the speaker models if asked, open every source, then start streaming.

        Raises DiarizationError or AudioError with a sentence before any audio flows.
        """
        if self.choices.diarization is not None:
            await self.engine.diarize(load_models, self.choices.diarization.backend)
        for item in self.sources:
            capture = AudioCapture(item.source, on_state=self._state_reporter(item.label))
            capture.start()
            self._captures.append(capture)
        for item, capture in zip(self.sources, self._captures, strict=True):
            processor = AudioProcessor(self.engine, ProcessorConfig(choices=self.choices, live=True))
            self._tasks.append(asyncio.create_task(self._pump(item.label, capture, processor)))

    def _state_reporter(self, label: str) -> Callable[[str, str], None]:
        def report(state: str, message: str) -> None:
            self.callbacks.on_capture_state(label, state, message)

        return report

    async def _pump(self, label: str, capture: AudioCapture, processor: AudioProcessor) -> None:
        """Audio in and updates out for one source; ends after the final update."""

        async def blocks() -> AsyncIterator[np.ndarray]:
            async for block in capture.blocks():
                self.callbacks.on_level(label, capture.level)
                yield block

        await pump(processor, blocks(), lambda update: self.callbacks.on_update(label, update))

    async def stop(self) -> None:
        """Stop capturing and wait for each stream's final update, so no committed word is lost."""
        for capture in self._captures:
            capture.stop()
        if self._tasks:
            done, pending = await asyncio.wait(self._tasks, timeout=FINISH_TIMEOUT_S)
            for task in pending:
                log.warning("a stream did not finish within %.0f s; cancelling it", FINISH_TIMEOUT_S)
                task.cancel()
            for task in done:
                if not task.cancelled() and task.exception():
                    log.error("stream ended with an error", exc_info=task.exception())
        self._captures.clear()
        self._tasks.clear()
