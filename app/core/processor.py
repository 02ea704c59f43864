"""AudioProcessor: one per stream, the engine's single way in and way out.

``await process_audio(bytes)`` in (an empty chunk ends the stream), ``async for update in
results()`` out, ``await cleanup()`` at the end. Everything CPU-heavy runs on the engine's
executors; this class only moves audio and decides when to call them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace

import numpy as np

from app.core.choices import StreamChoices
from app.core.decoding import SAMPLE_RATE, PcmDecoder, StreamDecoder, duration_words
from app.core.diarization import ClusterSettings, DiarizationError, DiarizationSettings
from app.core.diarization.clusters import HeardVoice
from app.core.diarization.profiles import ProfileError, ProfileStore, VoiceProfile
from app.core.diarization_stage import DiarizationStage
from app.core.engine import Decoded, TranscriptionEngine
from app.core.frontdata import STATUS_ERROR, FrontData
from app.core.languages import validate_language
from app.core.lifecycle import StreamLifecycle, StreamState
from app.core.revision import RevisionJob, RevisionStats
from app.core.transcriber import DecodeRequest, StreamSettings, StreamTranscriber
from app.core.translation.stage import TranslationStage, create_stage

log = logging.getLogger(__name__)


def _remembered_voices() -> list[VoiceProfile]:
    """The user's remembered voices; a damaged store costs the names, never the stream."""
    try:
        return ProfileStore().load()
    except ProfileError as exc:
        log.warning("%s Speakers keep their numbers.", exc)
        return []

MAX_UNREAD_BYTES = 1 << 20
"""Encoded input: ``process_audio`` waits while the decoder has this much still to read.

Decoded audio is bounded by ``max_backlog_s``; this bounds the bytes behind it, so a client
sending faster than the stream is transcribed is held back instead of filling memory.
"""


@dataclass(frozen=True)
class ProcessorConfig:
    """What the stream is asked to do (``choices``), what it is fed, and how the engine is paced."""

    choices: StreamChoices = field(default_factory=StreamChoices)
    pcm_input: bool = True
    language: str | None = None  # None: the engine's setting ("auto" detects)
    live: bool = True
    """Live sources skip ahead when decoding falls behind, so captions stay current.

    A file fed faster than real time (``live=False``) is decoded every ``step_s`` of
    audio without skipping: the same input gives the same text however it is chunked.
    """
    step_s: float = 0.3  # the least audio between decodes mid-utterance (a start and a pause go sooner)
    decode_share: float = 0.8
    """Live: mid-utterance decodes may keep the recogniser busy this share of the time.

    The cadence stretches to ``decode time / decode_share`` when that is longer than
    ``step_s``: a slow machine or a big model decodes less often instead of falling behind,
    and a fast one gets a word's update every ``step_s``. The fifth left idle keeps room
    for the VAD, speakers and a second stream; 0.5 left long buffers' words waiting a
    whole slow decode longer (bench.stream, base, 2 cores: median commit 1.12 s, 0.91 s at 0.8).
    """
    gpu_step_s: float = 0.1
    """Live, when the engine runs on a GPU: the least audio between decodes, instead of ``step_s``.

    A word is final once a second decode agrees with the first, so that decode's wait is
    most of the commit latency once decodes are fast. On an H100 a base decode took 0.06 s,
    and a 0.1 s floor took the median commit from 0.70 to 0.57 s (bench.stream, 11 clips).
    On 2 CPU cores the same floor gained nothing (0.92 against 0.96 s): decodes there take
    0.16–0.4 s, and the cadence follows them.
    """
    listen_s: float = 0.1  # audio between looks at the VAD: how soon a start or pause is noticed
    max_step_s: float = 5.0  # the most audio one catch-up step takes in at once
    max_backlog_s: float = 30.0
    """Decoded audio waiting for the worker: past it ``process_audio`` waits, and so does the
    decoder thread, so a few KB of FLAC holding hours of silence cannot fill memory."""
    max_audio_s: float | None = None
    """The most audio one stream may bring; past it the stream fails with a sentence.

    None (no cap) suits local use; a server sets it, since hours of audio compress to a
    few KB and the cost of a stream grows with its length.
    """
    stream: StreamSettings = field(default_factory=StreamSettings)


class AudioProcessor:
    """Raises LanguageError (or TranslationError) at construction for a language it cannot take.

    ``on_audio`` sees every block of decoded audio the stream takes in, on the loop (a server
    keeps a stream's audio for its refine pass that way); it must be quick.
    """

    def __init__(
        self,
        engine: TranscriptionEngine,
        config: ProcessorConfig | None = None,
        on_audio: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        self.engine = engine
        self.config = config or ProcessorConfig()
        self._on_audio = on_audio
        choices = self.config.choices
        multilingual = engine.is_multilingual
        language = validate_language(choices.language, multilingual) if choices.language else engine.language
        self._core = StreamTranscriber(self.config.stream, language, choices.policy, revise=choices.revise)
        self._vad = engine.vad.stream()
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        self._received_samples = 0
        self._pcm = PcmDecoder()
        self._decoder: StreamDecoder | None = None
        self._life = StreamLifecycle()
        self._error = ""  # the sentence for the client once the stream failed
        self._snapshot = FrontData()
        self._version = 0
        self._changed = asyncio.Condition()
        self._audio_arrived = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self._worker: asyncio.Task[None] | None = None
        self._decode_s = 0.0  # recent wall time of one decode (smoothed), for the live cadence
        self._loop: asyncio.AbstractEventLoop | None = None
        self._speakers: DiarizationStage | None = None
        if choices.diarization is not None:
            options = choices.diarization
            settings = DiarizationSettings(clusters=ClusterSettings(max_speakers=options.max_speakers))
            self._speakers = DiarizationStage(
                engine, self._core.speakers, options.backend, settings,
                on_progress=self._publish,
                has_speech=lambda since: self._core.tracker.speech_since(since) > 0,
                profiles=_remembered_voices() if choices.profiles else (),
            )
        self._republishing: set[asyncio.Task[None]] = set()
        self._translation: TranslationStage | None = create_stage(
            engine, choices, language, on_change=self._translation_ready
        )

    # -- way in ---------------------------------------------------------------------

    async def process_audio(self, chunk: bytes) -> None:
        """Accept the next piece of the stream as bytes (PCM16 or encoded, as configured);
        ``b""`` means the stream has ended."""
        self._ensure_started()
        if not self._life.takes_input:
            return
        if not chunk:
            self._end_input()
            return
        if self.config.pcm_input:
            self._enqueue(self._pcm.decode(chunk))
        else:
            self._stream_decoder().feed(chunk)
        await self._wait_for_room()

    async def process_samples(self, samples: np.ndarray) -> None:
        """Accept 16 kHz mono float32 audio, as capture devices and decoded files give it;
        an empty array means the stream has ended."""
        self._ensure_started()
        if not self._life.takes_input:
            return
        if not samples.size:
            self._end_input()
            return
        self._enqueue(np.asarray(samples, dtype=np.float32))
        await self._wait_for_room()

    async def _wait_for_room(self) -> None:
        while self._holding_back():
            self._space.clear()
            await self._space.wait()

    def _end_input(self) -> None:
        if self._pcm.has_leftover:
            log.warning("stream ended with half a sample (an odd byte); it was dropped")
        if self._decoder is not None:
            self._life.advance(StreamState.ENDING)
            self._decoder.finish()  # the decoder reports the end once it has drained
        else:
            self._mark_input_ended()

    def _stream_decoder(self) -> StreamDecoder:
        if self._decoder is None:
            self._decoder = StreamDecoder(
                on_audio=lambda samples: self._from_decoder(self._enqueue, samples),
                on_error=lambda message: self._from_decoder(self._fail, message),
                on_end=lambda: self._from_decoder(self._mark_input_ended),
                max_backlog=round(self.config.max_backlog_s * SAMPLE_RATE),
                on_read=lambda: self._from_decoder(self._space.set),
            )
        return self._decoder

    def _from_decoder(self, callback: Callable[..., None], *args: object) -> None:
        """Run ``callback`` on the loop; dropped once the loop has closed (a stream never cleaned up)."""
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(callback, *args)

    def _holding_back(self) -> bool:
        """Whether ``process_audio`` should wait: too much decoded audio, or too many unread bytes."""
        if self._life.finished:
            return False
        if self._pending_samples > self.config.max_backlog_s * SAMPLE_RATE:
            return True
        return self._decoder is not None and self._decoder.unread_bytes > MAX_UNREAD_BYTES

    def _enqueue(self, samples: np.ndarray) -> None:
        if samples.size == 0 or not self._life.takes_decoded_audio:
            return
        cap = self.config.max_audio_s
        if cap is not None and self._received_samples + samples.size > cap * SAMPLE_RATE:
            self._fail(f"This server takes at most {duration_words(cap)} of audio per stream.")
            return
        self._pending.append(samples)
        self._pending_samples += samples.size
        self._received_samples += samples.size
        self._audio_arrived.set()
        if self._on_audio is not None:
            self._on_audio(samples)

    def _mark_input_ended(self) -> None:
        if self._life.advance_if_allowed(StreamState.DRAINED):  # not after a failure
            self._audio_arrived.set()

    # -- way out --------------------------------------------------------------------

    async def results(self) -> AsyncIterator[FrontData]:
        """Every changed snapshot, in order; ends after the final one (or an error)."""
        self._ensure_started()
        seen = -1
        while True:
            async with self._changed:
                await self._changed.wait_for(self._news_since(seen))
                version, snapshot, finished = self._version, self._snapshot, self._life.finished
            if version != seen:
                seen = version
                yield snapshot
            if finished and version == seen:
                return

    create_tasks = results  # WhisperLiveKit's name for the same thing

    def _news_since(self, seen: int):
        return lambda: self._version != seen or self._life.finished

    async def cleanup(self) -> None:
        """Stop work for this stream and free it; safe to call at any point, more than once."""
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        if self._translation is not None:
            await self._translation.close()
        if self._decoder is not None:
            await asyncio.to_thread(self._decoder.close)
        self._pending.clear()
        self._pending_samples = 0
        if not self._life.finished:
            await self._publish(finished=True)

    @property
    def received_seconds(self) -> float:
        return self._received_samples / SAMPLE_RATE

    # -- the work -------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self._worker is None:
            self._loop = asyncio.get_running_loop()
            self._worker = self._loop.create_task(self._run(), name="sayline-stream")

    async def _run(self) -> None:
        speakers = asyncio.create_task(self._run_speakers(), name="sayline-speakers")
        try:
            while await self._wait_for_audio():
                samples = self._take_step()
                if self._translation is not None:
                    self._translation.accept_audio(samples)
                probs = await self.engine.speech_probabilities(self._vad, samples)
                self._core.accept(samples, probs)
                if self._speakers is not None:
                    self._speakers.feed(samples)
                await self._decode(stream_ended=False)
                await self._publish()
            if not self._life.failed:
                await self._decode(stream_ended=True)
                self._core.finish()
                await self._revise()
            if self._speakers is not None:
                self._speakers.end()
            await speakers
            if not self._life.failed and self._translation is not None:
                # After diarization, so the final lines are translated with their speakers.
                await self._translation.finish(self._core.snapshot(self.received_seconds))
        except asyncio.CancelledError:
            speakers.cancel()
            raise
        except Exception as exc:  # a failed decode must reach the client as a sentence
            log.exception("transcription failed")
            self._fail(f"Transcription failed: {exc}")
            speakers.cancel()
        finally:
            self._stop_decoder()
        if self._core.revise:
            log.info("revision: %s", self._core.revision_stats.summary())
        await self._publish(finished=True)

    async def _run_speakers(self) -> None:
        if self._speakers is None:
            return
        try:
            await self._speakers.run()
        except DiarizationError as exc:
            self._fail(str(exc))
        except Exception as exc:  # a crashed diarizer must not end the stream silently
            log.exception("diarization failed")
            self._fail(f"Speaker diarization failed: {exc}")

    async def _decode(self, stream_ended: bool) -> None:
        request = self._core.plan(stream_ended=stream_ended, min_new_audio_s=self._cadence_s())
        if request is not None:
            await self._decode_request(request)
        await self._revise()

    async def _decode_request(self, request: DecodeRequest) -> None:
        decoded = request.reuse
        if decoded is None:
            decoded = await self._recognise(request, request.prompt)
            if self._core.echoes_prompt(request, decoded):
                log.debug("the decode repeated its prompt; decoding again without it")
                decoded = await self._recognise(request, "")
        self._core.apply(request, decoded)
        if self._speakers is not None:
            self._speakers.release_if_idle()

    async def _revise(self) -> None:
        """Decode each finished utterance once more, unless that would keep captions waiting."""
        for job in self._core.take_revisions():
            if self._too_busy_to_revise(job):
                self._core.skip_revision(job)
                continue
            beam = self._core.revision.beam_size
            decoded = await self.engine.transcribe(job.audio, job.offset, job.language, job.prompt, beam)
            self._core.apply_revision(job, decoded, received_until=self.received_seconds)

    def _too_busy_to_revise(self, job: RevisionJob) -> bool:
        """Live: behind by more than ``max_lag_s``, another stream waits for the recogniser, or
        the utterance ended more than ``max_wait_s`` ago.

        A file fed faster than real time is always behind and waits for nobody, so it always
        revises: the same input gives the same text.
        """
        if not self.config.live:
            return False
        settings = self._core.revision
        lag = self.received_seconds - self._core.processed_until
        waited = self.received_seconds - job.end
        busy = self.engine.transcriptions_waiting > 0
        return lag > settings.max_lag_s or waited > settings.max_wait_s or busy

    @property
    def revision_stats(self) -> RevisionStats:
        return self._core.revision_stats

    @property
    def heard_voices(self) -> tuple[HeardVoice, ...]:
        """Each speaker's running voice vector and seconds heard, as of the last diarization pass.

        What "Remember this voice" stores; read on the event loop (or after the stream ended).
        """
        return self._speakers.heard_voices if self._speakers is not None else ()

    async def _recognise(self, request: DecodeRequest, prompt: str) -> Decoded:
        started = time.perf_counter()
        decoded = await self.engine.transcribe(request.audio, request.offset, request.language, prompt)
        took = time.perf_counter() - started
        self._decode_s = took if not self._decode_s else 0.5 * (self._decode_s + took)
        return decoded

    def _cadence_s(self) -> float:
        """Audio between mid-utterance decodes: ``step_s`` (``gpu_step_s`` on a GPU), or longer
        while decodes are slow."""
        if not self.config.live:
            return self.config.step_s  # a file: the same input gives the same decodes
        floor = self.config.gpu_step_s if self.engine.device == "cuda" else self.config.step_s
        return max(floor, self._decode_s / self.config.decode_share)

    async def _wait_for_audio(self) -> bool:
        """True when ``listen_s`` of audio is ready; False once input ended and all is taken."""
        step = round(self.config.listen_s * SAMPLE_RATE)
        while True:
            if self._life.failed:
                return False
            if self._pending_samples >= step or (self._life.drained and self._pending_samples):
                return True
            if self._life.drained:
                return False
            self._audio_arrived.clear()
            await self._audio_arrived.wait()

    def _take_step(self) -> np.ndarray:
        """Live: everything waiting (catch-up, bounded). File: exactly ``listen_s``."""
        limit = self.config.max_step_s if self.config.live else self.config.listen_s
        wanted = min(self._pending_samples, round(limit * SAMPLE_RATE))
        audio = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        taken, rest = audio[:wanted], audio[wanted:]
        self._pending = [rest] if rest.size else []
        self._pending_samples = rest.size
        self._space.set()
        if self._decoder is not None:
            self._decoder.consumed(taken.size)  # a decoder waiting for room may go on
        return taken

    def _translation_ready(self) -> None:
        """A translation came back: publish it now rather than with the next decode."""
        if not self._life.finished and self._loop is not None:
            task = self._loop.create_task(self._publish())
            self._republishing.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._republishing.discard)

    def _fail(self, message: str) -> None:
        if self._life.advance_if_allowed(StreamState.FAILED):  # the first failure is the one told
            log.warning("stream failed: %s", message)
            self._error = message
            self._audio_arrived.set()
            self._stop_decoder()

    def _stop_decoder(self) -> None:
        """Nothing more will be taken: release a decoder thread waiting for room, and stop it."""
        if self._decoder is not None:
            self._decoder.stop()

    async def _publish(self, finished: bool = False) -> None:
        snapshot = self._core.snapshot(self.received_seconds)
        if self._speakers is not None:
            lag = max(0.0, self.received_seconds - self._speakers.covered_until)
            snapshot = replace(
                snapshot, remaining_time_diarization=round(lag, 2), speaker_names=self._speakers.speaker_names
            )
        if self._translation is not None:
            snapshot = self._translation.apply(snapshot)
        if self._error:
            snapshot = replace(snapshot, status=STATUS_ERROR, error=self._error)
        async with self._changed:
            if snapshot != self._snapshot:
                self._snapshot = snapshot
                self._version += 1
            if finished and not self._life.finished:
                self._life.advance(StreamState.FINISHED)
                self._space.set()
            self._changed.notify_all()
