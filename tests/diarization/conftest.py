"""Real diarization weights and conversations built from real recordings of known speakers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from app.core.decoding import SAMPLE_RATE
from app.core.diarization import DiarizationModels, DiarizationSettings, StreamingDiarizer, load_models
from tests.conftest import clip

ALLISON = [  # telephone prompts, one female voice
    "ast_en_agent-incorrect.wav", "ast_en_conf-getchannel.wav", "ast_en_dir-instr.wav",
    "ast_en_privacy-prompt.wav", "ast_en_queue-holdtime.wav", "ast_en_followme__options.wav",
]
READER = [  # one male LibriVox reader
    "librivox_sense_sensibility_0870.wav", "librivox_sense_sensibility_0890.wav",
    "librivox_sense_sensibility_0930.wav",
]


@dataclass(frozen=True)
class Span:
    start: float
    end: float
    who: str


@pytest.fixture(scope="session")
def diarization_models() -> DiarizationModels:
    return load_models("default")


def conversation(parts: list[tuple[str, str]], pause_s: float = 0.7) -> tuple[np.ndarray, list[Span]]:
    """Join (who, en/ clip) parts with pauses; return the audio and where each part lies."""
    pieces, spans, now = [], [], 0.5
    pieces.append(np.zeros(round(0.5 * SAMPLE_RATE), dtype=np.float32))
    for who, name in parts:
        audio = clip("en", name)
        pieces.append(audio)
        spans.append(Span(now, now + len(audio) / SAMPLE_RATE, who))
        now += len(audio) / SAMPLE_RATE + pause_s
        pieces.append(np.zeros(round(pause_s * SAMPLE_RATE), dtype=np.float32))
    return np.concatenate(pieces), spans


def diarize(
    models: DiarizationModels,
    audio: np.ndarray,
    settings: DiarizationSettings | None = None,
    spans: list[Span] = (),
) -> tuple[StreamingDiarizer, dict[str, set[int | None]]]:
    """Stream ``audio`` in 0.5 s pieces as the processor does, with a final pass.

    Each span's speaker is read as soon as the diarizer has covered it, as the speaker
    gate does with words; returns the labels each speaker's spans got.
    """
    diarizer = models.stream(settings)
    labels: dict[str, set[int | None]] = {}
    waiting = list(spans)

    def read_covered(final: bool = False) -> None:
        while waiting and (final or waiting[0].end <= diarizer.covered_until):
            span = waiting.pop(0)
            labels.setdefault(span.who, set()).add(diarizer.speaker_for(span.start, span.end))

    step = SAMPLE_RATE // 2
    for offset in range(0, len(audio), step):
        diarizer.accept(audio[offset : offset + step])
        if diarizer.due():
            diarizer.run_pass()
            read_covered()
    diarizer.run_pass(final=True)
    read_covered(final=True)
    return diarizer, labels
