"""Live captioning from capture devices: one AudioProcessor per source, results to callbacks.

The desktop app's engine thread runs this; it knows nothing of Qt. "Meeting mode" is
simply two sources at once (the microphone labelled "You", system audio "Others"), each
with its own processor, so their captions never mix inside one stream.

Each source's audio can be kept while it streams (an :class:`AudioPlan` says so at Start:
audio not kept then cannot be refined after Stop); app/refining.py takes it from there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.audio import AudioCapture, CaptureSource
from app.core.choices import StreamChoices
from app.core.diarization import load_models
from app.core.engine import TranscriptionEngine
from app.core.feed import pump
from app.core.frontdata import FrontData
from app.core.processor import AudioProcessor, ProcessorConfig
from app.core.session_audio import SessionAudio

log = logging.getLogger(__name__)

FINISH_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class LiveSource:
    label: str  # "You", "Others", or "" when there is one source
    source: CaptureSource


@dataclass(frozen=True)
class AudioPlan:
    """What becomes of a session's audio after Stop; decided at Start, when recording begins."""

    session: Path  # the session's autosave log: it names the session, and kept audio goes beside it
    refine: bool = True  # decode it again as a file run would (app/refining.py), then replace the transcript
    keep: bool = False  # keep the audio files beside the log; otherwise they are deleted once done with

    @property
    def records(self) -> bool:
        return self.refine or self.keep


@dataclass(frozen=True)
class RefineOutcome:
    """How refining (or just settling the audio of) a stopped session ended."""

    session: Path  # AudioPlan.session
    results: dict[str, FrontData] | None  # each source's refined transcript; None when not refined
    message: str = ""  # why not, as a sentence ("" when refining was not asked for or was cancelled)
    kept_audio: tuple[Path, ...] = ()


def _ignore(*_args: object) -> None:
    pass


@dataclass(frozen=True)
class LiveCallbacks:
    """Called on the engine thread; the GUI bridge turns them into Qt signals."""

    on_update: Callable[[str, FrontData], None]
    on_capture_state: Callable[[str, str, str], None]  # label, state, message
    on_level: Callable[[str, float], None]  # label, dBFS
    on_refine_progress: Callable[[Path, float, float], None] = _ignore  # session, seconds done, in all
    on_refined: Callable[[RefineOutcome], None] = _ignore  # after Stop, when AudioPlan.records


class LiveSession:
    def __init__(
        self,
        engine: TranscriptionEngine,
        sources: list[LiveSource],
        callbacks: LiveCallbacks,
        choices: StreamChoices | None = None,
        audio_plan: AudioPlan | None = None,
    ) -> None:
        self.engine = engine
        self.sources = sources
        self.callbacks = callbacks
        self.choices = choices or StreamChoices()
        self.audio_plan = audio_plan
        self.audio: dict[str, SessionAudio] = {}  # per source label, while the plan asks for it
        self.processors: dict[str, AudioProcessor] = {}  # per source label; kept after stop for their voices
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
        if self.audio_plan is not None and self.audio_plan.records:
            for item in self.sources:  # one by one: a failure leaves the ones made for discard_audio
                self.audio[item.label] = SessionAudio()
        for item, capture in zip(self.sources, self._captures, strict=True):
            processor = AudioProcessor(self.engine, ProcessorConfig(choices=self.choices, live=True))
            self.processors[item.label] = processor
            self._tasks.append(asyncio.create_task(self._pump(item.label, capture, processor)))

    def _state_reporter(self, label: str) -> Callable[[str, str], None]:
        def report(state: str, message: str) -> None:
            self.callbacks.on_capture_state(label, state, message)

        return report

    async def _pump(self, label: str, capture: AudioCapture, processor: AudioProcessor) -> None:
        """Audio in and updates out for one source (kept too, when planned); ends after the final update."""
        audio = self.audio.get(label)

        async def blocks() -> AsyncIterator[np.ndarray]:
            async for block in capture.blocks():
                self.callbacks.on_level(label, capture.level)
                if audio is not None:
                    audio.write(block)
                yield block

        await pump(processor, blocks(), lambda update: self.callbacks.on_update(label, update))

    async def stop(self) -> None:
        """Stop capturing and wait for each stream's final update, so no committed word is lost.

        The kept audio is closed (complete on disk) but stays in ``audio`` for what comes after.
        """
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
        for audio in self.audio.values():
            await asyncio.to_thread(audio.close)

    def discard_audio(self) -> None:
        """Delete the kept audio (a session that failed to start); blocking file work."""
        for audio in self.audio.values():
            audio.discard()
        self.audio.clear()
