"""Words through the speaker gate with no clock: who each word is shown as, first and at the end.

The processor's word speaker accuracy (bench/diarize_live.py) depends on when, under real
load, each diarization pass runs: the same clip moved from 88 % to 95 % between two runs.
This replays fixed words (one whole-file decode of the clip) into the real SpeakerGate,
committed ``commit_delay_s`` after each word ends (about what the live path takes), against
a StreamingDiarizer fed in chunks with a pass whenever one is due, so two runs of the same
code give the same figures and two versions of the code can be compared.

Two attributions per word: the speaker it was first shown with (what a reader sees live)
and the one its line has at the end (after any correction of a new speaker's first words).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.decoding import SAMPLE_RATE
from app.core.diarization import DiarizationModels, DiarizationSettings
from app.core.engine import TranscriptionEngine
from app.core.frontdata import Line
from app.core.lines import LineBuilder
from app.core.speaker_gate import SpeakerGate
from app.core.words import TimedWord
from bench.diarize_live import AttributedWord, recording_words

COMMIT_DELAY_S = 1.0  # word end -> committed, roughly the live path's median (bench/README.md)


@dataclass(frozen=True)
class GateReplay:
    first_shown: list[AttributedWord]
    final: list[AttributedWord]
    relabels: int


def file_words(engine: TranscriptionEngine, audio: np.ndarray) -> list[TimedWord]:
    """The clip's words from one whole-file decode (beam 5, word times), in the engine's language as live."""
    segments, _ = engine._model.transcribe_full_window(  # the engine's loaded model, same weights
        audio, language=engine.language, beam_size=5, word_timestamps=True
    )
    return [TimedWord(w.word, w.start, w.end) for s in segments for w in s.words or () if w.word.strip()]


def replay_gate(
    models: DiarizationModels,
    settings: DiarizationSettings,
    audio: np.ndarray,
    words: Sequence[TimedWord],
    chunk_s: float,
    commit_delay_s: float = COMMIT_DELAY_S,
) -> GateReplay:
    diarizer = models.stream(settings)
    gate = SpeakerGate(LineBuilder())
    gate.attach(diarizer)
    pending = deque(sorted(words, key=lambda w: w.end))
    first_shown: list[AttributedWord] = []
    step = round(chunk_s * SAMPLE_RATE)
    with recording_words(0.0, first_shown):
        for offset in range(0, len(audio), step):
            diarizer.accept(audio[offset : offset + step])
            while pending and pending[0].end + commit_delay_s <= diarizer.received_until:
                gate.add_words([pending.popleft()], "")
            if diarizer.due():
                diarizer.run_pass()
                gate.release()
        gate.add_words(list(pending), "")
        diarizer.run_pass(final=True)
        gate.release(final=True)
    return GateReplay(first_shown, final_attribution(gate.lines.lines, first_shown), diarizer.relabels)


def final_attribution(lines: Sequence[Line], words: Sequence[AttributedWord]) -> list[AttributedWord]:
    """Each word with the speaker of the line it ended up on (the line spanning its middle)."""
    spoken = [line for line in lines if not line.is_silence]
    final = []
    for word in words:
        middle = (word.start + word.end) / 2
        line = next((line for line in spoken if line.start <= middle <= line.end), None)
        speaker = line.speaker if line is not None else word.speaker
        final.append(AttributedWord(word.text, word.start, word.end, speaker, word.at_s))
    return final
