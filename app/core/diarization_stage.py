"""The processor's diarization stage: feeds a StreamingDiarizer off the event loop.

Audio is handed over as it arrives; a pass runs on the engine's diarization thread
whenever a step's worth is waiting, and after each pass the words it covered leave the
speaker gate. Passes never wait for the recogniser and the recogniser never waits for
them; if passes fall behind, the diarizer looks only at the latest window, so it skips
rather than piles up. The stage owns the diarizer: nothing else touches it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import numpy as np

from app.core.decoding import SAMPLE_RATE
from app.core.diarization import DiarizationSettings, StreamingDiarizer, load_models
from app.core.diarization.clusters import HeardVoice
from app.core.diarization.profiles import MatchSettings, VoiceProfile, names_for
from app.core.engine import TranscriptionEngine
from app.core.lifecycle import StageState, stage_lifecycle
from app.core.speaker_gate import SpeakerGate


class DiarizationStage:
    def __init__(
        self,
        engine: TranscriptionEngine,
        gate: SpeakerGate,
        backend: str,
        settings: DiarizationSettings,
        on_progress: Callable[[], Awaitable[None]],
        has_speech: Callable[[float], bool],
        profiles: Sequence[VoiceProfile] = (),
    ) -> None:
        self._engine = engine
        self._gate = gate
        self._backend = backend
        self._settings = settings
        self._on_progress = on_progress
        self._has_speech = has_speech  # "was there speech since this stream time?" (the VAD's view)
        self._diarizer: StreamingDiarizer | None = None
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        self._fed_until = 0.0  # stream time of the end of the audio handed over so far
        self._life = stage_lifecycle()
        self._arrived = asyncio.Event()
        self.covered_until = 0.0
        self._busy = False
        self._profiles = profiles
        self.heard_voices: tuple[HeardVoice, ...] = ()  # as of the last pass, read on the event loop
        self.speaker_names: tuple[tuple[int, str], ...] = ()  # remembered names recognised so far

    def feed(self, samples: np.ndarray) -> None:
        self._pending.append(samples)
        self._pending_samples += samples.size
        self._fed_until += samples.size / SAMPLE_RATE
        self._arrived.set()

    def end(self) -> None:
        self._life.advance_if_allowed(StageState.FINISHING)
        self._arrived.set()

    @property
    def _ended(self) -> bool:
        return self._life.state is not StageState.RUNNING

    def release_if_idle(self) -> None:
        """Release covered words now, unless a pass is running (then the pass releases them)."""
        if not self._busy and self._diarizer is not None:
            self._gate.release()

    async def run(self) -> None:
        """Until the stream ends: load the models, then pass after pass; raises DiarizationError."""
        models = await self._engine.diarize(load_models, self._backend)
        self._diarizer = models.stream(self._settings)
        self._gate.attach(self._diarizer)
        step = round(self._settings.step_s * SAMPLE_RATE)
        while True:
            while not self._ended and self._pending_samples < step:
                self._arrived.clear()
                await self._arrived.wait()
            final = self._ended
            audio = self._take()
            speech = self._has_speech(self._fed_until - self._settings.window_s)
            self._busy = True
            try:
                await self._engine.diarize(self._pass, self._diarizer, audio, final, speech)
            finally:
                self._busy = False
            self._gate.release(final=final)
            self.covered_until = self._diarizer.covered_until
            self._note_voices(self._diarizer.voices())
            await self._on_progress()
            if final:
                return

    def _note_voices(self, voices: list[HeardVoice]) -> None:
        self.heard_voices = tuple(voices)
        if self._profiles:
            names = names_for(voices, self._profiles, MatchSettings())
            self.speaker_names = tuple(sorted(names.items()))

    def _take(self) -> np.ndarray:
        audio = np.concatenate(self._pending) if self._pending else np.zeros(0, dtype=np.float32)
        self._pending, self._pending_samples = [], 0
        return audio

    @staticmethod
    def _pass(diarizer: StreamingDiarizer, audio: np.ndarray, final: bool, speech: bool) -> None:
        diarizer.accept(audio)
        if not speech:
            diarizer.skip_silence(final)
        elif final or diarizer.due():
            diarizer.run_pass(final=final)
