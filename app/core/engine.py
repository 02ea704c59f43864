"""One TranscriptionEngine per process: the loaded models, shared by every stream.

Model calls are CPU-bound and release the GIL, so they run on a dedicated executor; one
inference worker serves streams in the order they ask, which keeps a busy stream from
starving the others and keeps two decodes from fighting over the same cores.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from app.core.decoding import SAMPLE_RATE
from app.core.hallucination import DecodedSegment
from app.core.languages import validate_language
from app.core.model_errors import ModelError, Progress
from app.core.models import DEFAULT_MODEL, resolve_model
from app.core.vad import SileroVad, VadStream
from app.core.words import TimedWord

if TYPE_CHECKING:  # faster-whisper loads only with the model, not with this module
    from app.core.whisper_model import ShortWindowWhisper

log = logging.getLogger(__name__)
T = TypeVar("T")

# Fast English speech is about 4 tokens per second, French up to 8.4 (eval sets, timestamps
# not counted); a decode that writes far more is looping. Prompt and answer share the
# model's 448 positions, and faster-whisper keeps at most 223 prompt tokens.
TOKENS_PER_AUDIO_SECOND = 16
MIN_TOKEN_BUDGET = 24
MODEL_POSITIONS = 448
PROMPT_TOKENS_KEPT = 223
SPECIAL_TOKENS = 6  # start of prompt, start of transcript, language, task, and a spare


def token_budget(audio_seconds: float, prompt_tokens: int = 0) -> int:
    """The most tokens one decode of this much audio may write.

    On 2 cores a looping decode of a few seconds of audio ran to the model's limit and
    took 1.7–3.2 s instead of 0.2 s (bench.stream soak: lag spikes of 4 s). The loop's text
    is cut afterwards anyway (app/core/hallucination.py); the budget stops paying for it.
    """
    room = MODEL_POSITIONS - SPECIAL_TOKENS - min(prompt_tokens, PROMPT_TOKENS_KEPT)
    return min(room, MIN_TOKEN_BUDGET + int(TOKENS_PER_AUDIO_SECOND * audio_seconds))


@dataclass(frozen=True)
class EngineConfig:
    model: str = DEFAULT_MODEL
    language: str | None = None  # None or "auto": detect per stream
    device: str = "auto"  # "auto" picks CUDA when CTranslate2 sees a GPU
    compute_type: str | None = None  # None: int8 on CPU, float16 on CUDA
    beam_size: int = 1
    cpu_threads: int = 0  # 0: all cores


@dataclass(frozen=True)
class Decoded:
    """One decode of a buffer: plausible-looking segments plus the detected language."""

    segments: tuple[DecodedSegment, ...]
    language: str
    language_probability: float


def decoded_segment(segment: Any, offset: float) -> DecodedSegment:
    """A faster-whisper segment with word timestamps, its word times shifted by ``offset``."""
    return DecodedSegment(
        words=tuple(
            TimedWord(w.word, float(w.start) + offset, float(w.end) + offset, float(w.probability))
            for w in segment.words or ()
        ),
        no_speech_prob=segment.no_speech_prob,
        avg_logprob=segment.avg_logprob,
        compression_ratio=segment.compression_ratio,
    )


def pick_device(requested: str) -> tuple[str, str]:
    """(device, compute_type) to use: a CUDA GPU when present and asked for, else the CPU."""
    if requested != "auto":
        return requested, "int8" if requested == "cpu" else "float16"
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        return "cuda", "float16"
    return "cpu", "int8"


class GpuUnusable(Exception):
    """CTranslate2 sees a GPU but cannot run the model on it (a missing CUDA library, say)."""


def probe_gpu(model: ShortWindowWhisper) -> None:
    """Decode a second of silence, because CTranslate2 loads cuBLAS and cuDNN only then.

    A machine with an NVIDIA driver but without CUDA 12's cuBLAS and cuDNN 9 (PyTorch's
    CUDA 13 wheels bring neither) loads the model on the GPU fine and fails at the first
    decode; found out here, the engine can still fall back to the CPU before a stream starts.
    It also moves a one-time wait out of the first stream: CTranslate2 4.8.5 carries machine
    code up to sm_86, so on a newer GPU the driver compiles its kernels at the first decode
    (14.9 s on an H100, cached on disk: 0.3 s at the next start).
    """
    try:
        model.transcribe(
            np.zeros(SAMPLE_RATE, dtype=np.float32), language="en", beam_size=1, without_timestamps=True
        )
    except (RuntimeError, OSError) as exc:
        raise GpuUnusable(str(exc)) from exc


class TranscriptionEngine:
    """Loads ASR and VAD once; streams share it through :meth:`transcribe` and :attr:`vad`."""

    def __init__(self, config: EngineConfig | None = None, progress: Progress | None = None) -> None:
        self.config = config or EngineConfig()
        self.model_path: Path = resolve_model(self.config.model, progress)
        self.notice = ""  # a sentence for the user when the engine runs other than asked
        self._model = self._load_on_best_device()
        self.is_multilingual: bool = self._model.model.is_multilingual
        self.language = validate_language(self.config.language, self.is_multilingual)
        self.vad = SileroVad()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sayline-asr")
        self._vad_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sayline-vad")
        self._diarization_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sayline-diarize")
        self._transcriptions = 0  # in flight or queued on the ASR executor
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)

    def _load_on_best_device(self) -> ShortWindowWhisper:
        """The GPU when there is one that works, else the CPU, with a notice saying why."""
        device, default_compute = pick_device(self.config.device)
        self.device, self.compute_type = device, self.config.compute_type or default_compute
        try:
            return self._load(self.model_path, self.device, self.compute_type)
        except GpuUnusable as exc:
            if self.config.device != "auto":
                raise ModelError(
                    f"The model could not run on the GPU ({exc}); Sayline needs CUDA 12 with "
                    "cuBLAS and cuDNN 9 for that."
                ) from exc
            log.warning("the GPU could not be used, transcribing on the CPU: %s", exc)
            self.notice = f"The GPU could not be used ({exc}), so Sayline transcribes on the CPU."
            self.device, self.compute_type = "cpu", "int8"
            return self._load(self.model_path, self.device, self.compute_type)

    def _load(self, path: Path, device: str, compute_type: str) -> ShortWindowWhisper:
        from app.core.whisper_model import ShortWindowWhisper

        threads = self.config.cpu_threads or os.cpu_count() or 1
        try:
            model = ShortWindowWhisper(
                str(path), device=device, compute_type=compute_type, cpu_threads=threads
            )
        except (RuntimeError, ValueError, OSError) as exc:
            if device == "cuda":  # the CPU load that follows tells a damaged model apart
                raise GpuUnusable(str(exc)) from exc
            log.exception("loading the model in %s failed", path)
            raise ModelError(
                f"The speech model in {path} could not be loaded ({exc}); it may be damaged: "
                "delete that folder so Sayline prepares it again, or choose another model."
            ) from exc
        if device == "cuda":
            probe_gpu(model)
        return model

    @property
    def model_name(self) -> str:
        return self.config.model

    def decode(
        self, audio: np.ndarray, offset: float, language: str | None, prompt: str,
        beam_size: int | None = None,
    ) -> Decoded:
        """Decode one buffer synchronously; word times are shifted by ``offset`` to stream time.

        ``beam_size`` None is the engine's (greedy for live decodes); an utterance's final
        revision asks for a beam.
        """
        segments, info = self._model.transcribe(
            audio,
            language=language if self.is_multilingual else "en",
            beam_size=beam_size or self.config.beam_size,
            temperature=0.0,
            word_timestamps=True,
            condition_on_previous_text=False,
            initial_prompt=prompt or None,
            vad_filter=False,
            without_timestamps=False,
            no_speech_threshold=None,
            log_prob_threshold=None,
            compression_ratio_threshold=None,
            max_new_tokens=token_budget(len(audio) / SAMPLE_RATE, self._prompt_tokens(prompt)),
        )
        decoded = tuple(decoded_segment(segment, offset) for segment in segments)
        return Decoded(decoded, info.language, info.language_probability)

    def _prompt_tokens(self, prompt: str) -> int:
        if not prompt.strip():
            return 0
        return len(self._model.hf_tokenizer.encode(" " + prompt.strip(), add_special_tokens=False).ids)

    async def transcribe(
        self, audio: np.ndarray, offset: float, language: str | None, prompt: str,
        beam_size: int | None = None,
    ) -> Decoded:
        loop = asyncio.get_running_loop()
        self._transcriptions += 1
        try:
            return await loop.run_in_executor(
                self._executor, self.decode, audio, offset, language, prompt, beam_size
            )
        finally:
            self._transcriptions -= 1

    @property
    def transcriptions_waiting(self) -> int:
        """Decodes in flight or queued on the ASR worker, from every stream."""
        return self._transcriptions

    def decode_translation(self, audio: np.ndarray, language: str | None) -> str:
        """Whisper's own speech translation (into English) of one committed line's audio."""
        segments, _ = self._model.transcribe(
            audio,
            language=language,
            task="translate",
            beam_size=self.config.beam_size,
            temperature=0.0,
            condition_on_previous_text=False,
            vad_filter=False,
            without_timestamps=True,
        )
        return " ".join(segment.text.strip() for segment in segments).strip()

    async def until_idle(self) -> None:
        """Return once no transcription is waiting: work that can wait lets live captions go first."""
        while self._transcriptions:
            await asyncio.sleep(0.05)

    async def when_idle(self, work: Callable[..., T], *args: object) -> T:
        """``work`` on the ASR worker once no transcription is waiting.

        For work that can wait (speech translation, the refine pass after Stop): it still holds
        the worker's one thread while it runs, so it should be short (one 30-s window, one line).
        """
        await self.until_idle()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, *args)

    async def translate_speech(self, audio: np.ndarray, language: str | None) -> str:
        return await self.when_idle(self.decode_translation, audio, language)

    async def speech_probabilities(self, stream: VadStream, samples: np.ndarray) -> np.ndarray:
        """VAD on its own small executor, so silence detection never queues behind a decode."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._vad_executor, stream.feed, samples)

    async def diarize(self, work: Callable[..., T], *args: object) -> T:
        """Diarization work on its own thread: it runs beside a decode, never queued behind one."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._diarization_executor, work, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._vad_executor.shutdown(wait=True, cancel_futures=True)
        self._diarization_executor.shutdown(wait=True, cancel_futures=True)
