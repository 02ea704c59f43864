"""After a live session stops: its audio decoded again as a file run would, to replace the live transcript.

Live captions are decoded greedily a few hundred milliseconds at a time, without knowing what
is said next, and speakers are named from one look at each window. A file run decodes whole
30-s windows with a beam and tells speakers apart over the whole recording, so its transcript
is better; this pass gives a live session exactly that transcript (the same call with the same
arguments as ``offline_pass`` in bench/stream.py, on sessions up to ``piece_s``).

It never holds up a live session sharing the engine: each 30-s window is decoded on the ASR
worker only once no live transcription waits there (:meth:`TranscriptionEngine.when_idle`),
and each diarization window likewise waits for the recogniser to be idle. Between windows the
caller may stop it (:class:`RefineCancelled`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from app.core.choices import StreamChoices
from app.core.decoding import SAMPLE_RATE
from app.core.diarization import DiarizationOptions, load_models
from app.core.diarization.offline import OfflineDiarization, OfflineSettings, TurnIndex
from app.core.diarization.turns import SpeakerTurn
from app.core.engine import TranscriptionEngine, decoded_segment
from app.core.frontdata import STATUS_ACTIVE, STATUS_NO_AUDIO, FrontData, Line
from app.core.hallucination import plausible_words
from app.core.lines import DEFAULT_SPEAKER, LineBuilder
from app.core.translation.base import TranslationError
from app.core.translation.factory import open_translator
from app.core.translation.stage import LINE_AUDIO_LEAD_S, LINE_AUDIO_TAIL_S
from app.core.words import TimedWord

log = logging.getLogger(__name__)

CUT_SEARCH_S = 60.0  # a piece is cut at the quietest half second of its last minute
CUT_FRAME_S = 0.1
CUT_SPAN_FRAMES = 5
MIN_PIECE_S = 2.0  # a cut needs a second of search room, half of the piece at most


class RefineCancelled(Exception):
    """The caller asked the pass to stop; the live transcript stands."""


@dataclass(frozen=True)
class RefineSettings:
    beam_size: int = 5
    # Longer sessions are decoded in pieces cut at pauses, so the mel features (32 KB per second)
    # never hold hours of audio; a session up to this long is decoded exactly as a file run.
    piece_s: float = 600.0
    # Offline diarization clusters every window's voices at once, a pass over all pairs per merge:
    # up to this many windows (20 min at its 1-s step) keep that to seconds; longer sessions step further.
    max_diarization_windows: int = 1200

    def __post_init__(self) -> None:
        if self.beam_size < 1 or self.piece_s < MIN_PIECE_S or self.max_diarization_windows < 1:
            raise ValueError(f"beam_size and max_diarization_windows start at 1, piece_s at {MIN_PIECE_S} s")


async def refine_session(
    engine: TranscriptionEngine,
    samples: np.ndarray,
    choices: StreamChoices,
    *,
    on_progress: Callable[[float, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    settings: RefineSettings = RefineSettings(),
) -> FrontData:
    """The session's transcript as a file run gives it, marked ``refined``.

    ``on_progress(seconds done, seconds total)`` is called on the loop thread as windows finish
    (done is how far both the decode and, when on, the diarization have got) and once at the
    end with done equal to the total. ``should_stop()`` is asked before every window; when it
    says True, :class:`RefineCancelled` is raised. Raises ``DiarizationError`` when speakers
    were asked for and diarization cannot run.
    """
    progress = _Progress(len(samples) / SAMPLE_RATE, on_progress, diarizing=choices.diarization is not None)
    run = _Pass(engine, samples, settings, progress, should_stop)
    diarizing = None
    if choices.diarization is not None:
        diarizing = asyncio.ensure_future(run.diarize(choices.diarization))
    try:
        words, language = await run.transcribe(choices.language or engine.language)
        turns = await diarizing if diarizing is not None else []
    finally:
        if diarizing is not None and not diarizing.done():
            diarizing.cancel()
            await asyncio.gather(diarizing, return_exceptions=True)
    lines = _lines(words, _speakers(words, turns), language)
    if choices.target_language and words:
        lines = await run.translate(lines, choices, language)
    progress.finish()
    return FrontData(status=STATUS_ACTIVE if words else STATUS_NO_AUDIO, lines=lines, refined=True)


class _Progress:
    """How far the pass has got: the decode's front and the diarization's, whichever is behind."""

    def __init__(self, total: float, report: Callable[[float, float], None] | None, diarizing: bool) -> None:
        self.total = total
        self._report = report
        self.decoded_to = 0.0
        self.diarized_to = 0.0 if diarizing else total

    def decoded(self, seconds: float) -> None:
        self.decoded_to = max(self.decoded_to, min(seconds, self.total))
        self._tell()

    def diarized(self, seconds: float) -> None:
        self.diarized_to = max(self.diarized_to, min(seconds, self.total))
        self._tell()

    def finish(self) -> None:
        self.decoded_to = self.diarized_to = self.total
        self._tell()

    def _tell(self) -> None:
        if self._report is not None:
            self._report(min(self.decoded_to, self.diarized_to), self.total)


class _Pass:
    """One session's refine: the engine's work window by window, each window a chance to stop."""

    def __init__(
        self,
        engine: TranscriptionEngine,
        samples: np.ndarray,
        settings: RefineSettings,
        progress: _Progress,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.engine = engine
        self.samples = samples
        self.settings = settings
        self.progress = progress
        self._should_stop = should_stop

    def check(self) -> None:
        if self._should_stop is not None and self._should_stop():
            raise RefineCancelled

    async def transcribe(self, language: str | None) -> tuple[list[TimedWord], str]:
        """Every piece's words in stream time; the language is detected once, on the first piece."""
        words: list[TimedWord] = []
        for start, end in piece_bounds(self.samples, self.settings.piece_s):
            piece, language = await self._transcribe_piece(start, end, language)
            words.extend(piece)
        return words, language or ""

    async def _transcribe_piece(
        self, start: int, end: int, language: str | None
    ) -> tuple[list[TimedWord], str]:
        """faster-whisper's whole-file decode, its lazy segments pulled one by one when the worker is idle.

        Each ``next()`` decodes at most one 30-s window (the window's later segments come free),
        so a live decode waits behind at most one window. Segments go through the live path's
        plausibility check, which leaves a normal speech segment as it is.
        """
        self.check()
        engine, offset = self.engine, start / SAMPLE_RATE
        transcribe = partial(
            engine._model.transcribe_full_window,
            self.samples[start:end],
            language=language if engine.is_multilingual else "en",
            beam_size=self.settings.beam_size,
            word_timestamps=True,
        )
        segments, info = await engine.when_idle(transcribe)
        words: list[TimedWord] = []
        while True:
            self.check()
            segment = await engine.when_idle(next, segments, None)
            if segment is None:
                return words, info.language
            words.extend(plausible_words(decoded_segment(segment, offset), segment.end - segment.start))
            self.progress.decoded(offset + float(segment.end))

    async def diarize(self, options: DiarizationOptions) -> list[SpeakerTurn]:
        """The whole session's speaker turns, window by window on the diarization thread."""
        models = await self.engine.diarize(load_models, options.backend)
        seconds = len(self.samples) / SAMPLE_RATE
        step_s = max(OfflineSettings.step_s, seconds / self.settings.max_diarization_windows)
        settings = OfflineSettings(step_s=step_s, max_speakers=options.max_speakers)
        run = OfflineDiarization(models, self.samples, settings)
        for start in run.starts:
            self.check()
            await self.engine.until_idle()  # one core less for a live decode otherwise
            await self.engine.diarize(run.add_window, start)
            self.progress.diarized(start / SAMPLE_RATE + settings.window_s)
        # Clustering is numpy, seconds for an hour: on its own thread, so live streams' speaker
        # passes do not wait behind it on the diarization thread.
        return await asyncio.to_thread(run.turns)

    async def translate(
        self, lines: tuple[Line, ...], choices: StreamChoices, language: str
    ) -> tuple[Line, ...]:
        """Every line translated as the live stage translates a committed one; one that fails stays as is."""
        target = choices.target_language
        try:
            translator = open_translator(choices.translator, self.engine, language or None, target)
        except TranslationError as exc:
            log.warning("refined lines left untranslated: %s", exc)
            return lines
        failures: set[str] = set()
        translated = []
        for line in lines:
            self.check()
            translated.append(line)
            if line.is_silence or not line.text:
                continue
            audio = self._span(line.start - LINE_AUDIO_LEAD_S, line.end + LINE_AUDIO_TAIL_S)
            source = line.detected_language or language
            try:
                text = await translator.atranslate(
                    line.text, source, target, audio if translator.needs_audio else None
                )
            except Exception as exc:  # a backend's failure leaves the line untranslated, not the transcript
                if str(exc) not in failures:
                    failures.add(str(exc))
                    log.warning("a refined line was left untranslated: %s", exc)
                continue
            translated[-1] = replace(line, translation=text)
        return tuple(translated)

    def _span(self, start_s: float, end_s: float) -> np.ndarray:
        return self.samples[max(0, round(start_s * SAMPLE_RATE)):max(0, round(end_s * SAMPLE_RATE))]


def piece_bounds(samples: np.ndarray, piece_s: float) -> list[tuple[int, int]]:
    """(start, end) samples of the pieces to decode: all of it, or pieces of at most ``piece_s``.

    Each cut falls in the quietest half second of the piece's last minute, so no word is cut
    in two where there is a pause to cut at.
    """
    piece = round(piece_s * SAMPLE_RATE)
    search = min(piece // 2, round(CUT_SEARCH_S * SAMPLE_RATE))
    bounds = []
    start = 0
    while len(samples) - start > piece:
        cut = _quietest(samples, start + piece - search, start + piece)
        bounds.append((start, cut))
        start = cut
    if start < len(samples):
        bounds.append((start, len(samples)))
    return bounds


def _quietest(samples: np.ndarray, low: int, high: int) -> int:
    """The sample in the middle of the least energetic half second between ``low`` and ``high``."""
    frame = round(CUT_FRAME_S * SAMPLE_RATE)
    count = (high - low) // frame
    energy = np.square(samples[low:low + count * frame].reshape(count, frame), dtype=np.float64).sum(axis=1)
    spans = np.convolve(energy, np.ones(CUT_SPAN_FRAMES), mode="valid")
    return low + int(np.argmin(spans)) * frame + CUT_SPAN_FRAMES * frame // 2


def _speakers(words: Sequence[TimedWord], turns: Sequence[SpeakerTurn]) -> list[int]:
    """Each word's speaker, numbered 1, 2, … in the order they first speak (1 for all without turns)."""
    index = TurnIndex(turns)
    numbers: dict[int, int] = {}
    speakers = []
    for word in words:
        found = index.speaker_at(word.start, word.end)
        if found is None:
            speakers.append(DEFAULT_SPEAKER)
            continue
        speakers.append(numbers.setdefault(found, len(numbers) + 1))
    return speakers


def _lines(words: Sequence[TimedWord], speakers: Sequence[int], language: str) -> tuple[Line, ...]:
    """Caption lines as the live path makes them, with a silence line for each pause of 2 s or more."""
    builder = LineBuilder()
    for index, (word, speaker) in enumerate(zip(words, speakers, strict=True)):
        if index:
            builder.note_silence(words[index - 1].end, word.start)
        builder.add_words([word], speaker, language)
    return builder.lines
