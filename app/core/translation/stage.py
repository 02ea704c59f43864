"""Translation as a stage after transcription: snapshots in, the same snapshots with translations out.

The processor hands every snapshot to :meth:`TranslationStage.apply`, which fills in what is
already translated and returns at once; a worker task translates in the background and
asks for a new snapshot when something is ready. Committed lines are translated once their
sentence is complete (never word by word, so the translation does not flicker); the live
text is translated at most every ``buffer_interval_s``, and only while no committed line
waits: when translation falls behind, it is the live text that is skipped, never a line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from app.core.decoding import SAMPLE_RATE
from app.core.frontdata import FrontData, Line
from app.core.lifecycle import StageState, stage_lifecycle
from app.core.translation.base import TranslationError, Translator
from app.core.translation.factory import open_translator

if TYPE_CHECKING:
    from app.core.choices import StreamChoices
    from app.core.engine import TranscriptionEngine

log = logging.getLogger(__name__)

_SENTENCE_FINAL = (".", "!", "?", "…", "。", "！", "？")
LINE_AUDIO_LEAD_S = 0.2  # audio kept before a line's first word: Whisper's word starts run a little late
LINE_AUDIO_TAIL_S = 0.3


class AudioHistory:
    """The stream's recent audio by stream time, for translators that listen instead of read."""

    def __init__(self, keep_s: float = 120.0) -> None:
        self.keep = round(keep_s * SAMPLE_RATE)
        self._audio = np.zeros(0, dtype=np.float32)
        self._start = 0  # stream sample index of self._audio[0]

    def accept(self, samples: np.ndarray) -> None:
        self._audio = np.concatenate([self._audio, samples])
        excess = len(self._audio) - self.keep
        if excess > 0:
            self._audio = self._audio[excess:]
            self._start += excess

    def span(self, start_s: float, end_s: float) -> np.ndarray:
        first = max(0, round(start_s * SAMPLE_RATE) - self._start)
        last = max(0, round(end_s * SAMPLE_RATE) - self._start)
        return self._audio[first:last]


def _sentence_complete(line: Line) -> bool:
    return line.text.rstrip().endswith(_SENTENCE_FINAL)


class TranslationStage:
    def __init__(
        self,
        translator: Translator,
        target: str,
        source: str | None,
        on_change: Callable[[], None],
        *,
        translate_buffer: bool = True,
        buffer_interval_s: float = 0.5,
    ) -> None:
        self.translator = translator
        self.target = target
        self.source = source  # None: each line's detected language
        self._on_change = on_change
        # Whisper would have to decode the live audio again every half second: not worth the CPU.
        self.translate_buffer = translate_buffer and not translator.needs_audio
        self.buffer_interval_s = buffer_interval_s
        self.audio = AudioHistory() if translator.needs_audio else None
        self._lines: tuple[Line, ...] = ()
        self._live = ""
        self._life = stage_lifecycle()
        self._done: dict[int, tuple[str, str]] = {}  # line index -> (its text, its translation)
        self._buffer_source = ""
        self._buffer_translation = ""
        self._buffer_at = 0.0
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._reported: set[str] = set()

    @property
    def _finishing(self) -> bool:
        """Every line is owed its translation now, complete sentence or not; the live text is not."""
        return self._life.state is not StageState.RUNNING

    # -- the processor's side ---------------------------------------------------------

    def accept_audio(self, samples: np.ndarray) -> None:
        if self.audio is not None:
            self.audio.accept(samples)

    def apply(self, snapshot: FrontData) -> FrontData:
        """``snapshot`` with every translation known so far; never waits for one."""
        self._lines = snapshot.lines
        self._live = self._live_text(snapshot)
        lines = tuple(self._with_translation(i, line) for i, line in enumerate(snapshot.lines))
        buffer = self._buffer_translation if self._live and self._live.startswith(self._buffer_source) else ""
        self._kick()
        return replace(snapshot, lines=lines, buffer_translation=buffer)

    async def finish(self, snapshot: FrontData) -> None:
        """The stream ended: translate every committed line (the live text is dropped)."""
        self._life.advance_if_allowed(StageState.FINISHING)
        self.apply(snapshot)
        self._drained.clear()
        self._wake.set()
        await self._drained.wait()
        await self.close()

    async def close(self) -> None:
        self._life.advance_if_allowed(StageState.CLOSED)  # a late apply() starts nothing new
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    # -- what to translate --------------------------------------------------------------

    def _with_translation(self, index: int, line: Line) -> Line:
        done = self._done.get(index)
        if done is None or done[0] != line.text:
            return line
        return replace(line, translation=done[1])

    def _is_final(self, index: int, line: Line) -> bool:
        return self._finishing or index < len(self._lines) - 1 or _sentence_complete(line)

    def _live_text(self, snapshot: FrontData) -> str:
        """The words not yet in a finished sentence: an open last line plus the buffer."""
        parts = []
        if snapshot.lines:
            last = snapshot.lines[-1]
            if not last.is_silence and not self._is_final(len(snapshot.lines) - 1, last):
                parts.append(last.text)
        parts.append(snapshot.buffer_transcription)
        return " ".join(part.strip() for part in parts if part.strip())

    def _next_line(self) -> int | None:
        for index, line in enumerate(self._lines):
            if line.is_silence or not line.text.strip():
                continue
            done = self._done.get(index)
            if (done is None or done[0] != line.text) and self._is_final(index, line):
                return index
        return None

    def _buffer_due_in(self) -> float | None:
        """Seconds until the live text may be translated again; None when there is nothing to do."""
        if not self.translate_buffer or self._finishing or self._live in ("", self._buffer_source):
            return None
        return max(0.0, self._buffer_at + self.buffer_interval_s - time.monotonic())

    # -- the worker -----------------------------------------------------------------------

    def _kick(self) -> None:
        if self._life.state is StageState.CLOSED:
            return
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work(), name="sayline-translate")
        self._wake.set()

    async def _work(self) -> None:
        while True:
            index = self._next_line()
            if index is not None:
                await self._translate_line(index)
                self._on_change()
                continue
            due = self._buffer_due_in()
            if due == 0.0:
                await self._translate_buffer()
                self._on_change()
                continue
            self._drained.set()
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=due)

    async def _translate_line(self, index: int) -> None:
        line = self._lines[index]
        source = self.source or line.detected_language
        audio = None
        if self.audio is not None:
            audio = self.audio.span(line.start - LINE_AUDIO_LEAD_S, line.end + LINE_AUDIO_TAIL_S)
        translation = await self._translate(line.text, source, audio)
        self._done[index] = (line.text, translation)

    async def _translate_buffer(self) -> None:
        live = self._live
        self._buffer_at = time.monotonic()
        source = self.source or next(
            (line.detected_language for line in reversed(self._lines) if line.detected_language), ""
        )
        translation = await self._translate(live, source, None)
        self._buffer_source, self._buffer_translation = live, translation

    async def _translate(self, text: str, source: str, audio: np.ndarray | None) -> str:
        """The translation, or "" with the reason logged once: a line never blocks the ones after it."""
        if not source:
            self._report("the spoken language is not known yet, so a line was left untranslated")
            return ""
        try:
            return await self.translator.atranslate(text, source, self.target, audio)
        except TranslationError as exc:
            self._report(str(exc))
        except Exception as exc:  # a backend's own failure must not end the stream's captions
            log.exception("translation failed")
            self._report(f"Translation failed: {exc}")
        return ""

    def _report(self, message: str) -> None:
        if message not in self._reported:
            self._reported.add(message)
            log.warning("translation: %s", message)


def create_stage(
    engine: TranscriptionEngine, choices: StreamChoices, source: str | None, on_change: Callable[[], None]
) -> TranslationStage | None:
    """The stage a stream's choices ask for, or None when translation is off."""
    if not choices.target_language:
        return None
    translator = open_translator(choices.translator, engine, source, choices.target_language)
    return TranslationStage(
        translator, choices.target_language, source, on_change, translate_buffer=choices.translate_buffer
    )
