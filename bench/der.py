"""Diarization error rate, our own implementation (no pyannote.metrics needed).

DER = (missed speech + false alarm + speaker confusion) / reference speech, evaluated on
a 10 ms grid. Overlapped speech is counted (a frame with two reference speakers counts
twice). A collar of ``collar`` seconds around every reference turn boundary is not
scored (0.25 s each side, the usual convention). Hypothesis labels are mapped to
reference labels by the one-to-one mapping that maximises matched speech.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RESOLUTION = 0.01
SPLIT_SHARE = 0.1  # a label counts for a speaker once it holds this share of their speech


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class DerResult:
    der: float
    missed: float
    false_alarm: float
    confusion: float
    scored_speech: float
    reference_speakers: int
    hypothesis_speakers: int
    mapping: dict[str, str] = field(default_factory=dict)  # hypothesis label -> reference label
    split_speakers: int = 0  # reference speakers spread over two or more labels (each >= SPLIT_SHARE)
    merged_speakers: int = 0  # labels holding two or more reference speakers (each >= SPLIT_SHARE)


def read_rttm(path: Path) -> list[Turn]:
    turns = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.append(Turn(start, start + duration, fields[7]))
    return turns


def _grid(turns: list[Turn], frames: int) -> tuple[list[str], np.ndarray]:
    labels = sorted({t.speaker for t in turns})
    grid = np.zeros((frames, len(labels)), dtype=bool)
    for t in turns:
        grid[round(t.start / RESOLUTION) : round(t.end / RESOLUTION), labels.index(t.speaker)] = True
    return labels, grid


def diarization_error(reference: list[Turn], hypothesis: list[Turn], collar: float = 0.25) -> DerResult:
    end = max([t.end for t in reference + hypothesis], default=0.0)
    frames = round(end / RESOLUTION) + 1
    ref_labels, ref = _grid(reference, frames)
    hyp_labels, hyp = _grid(hypothesis, frames)
    scored = np.ones(frames, dtype=bool)
    for t in reference:
        for edge in (t.start, t.end):
            scored[max(0, round((edge - collar) / RESOLUTION)) : round((edge + collar) / RESOLUTION)] = False
    ref, hyp = ref[scored], hyp[scored]
    mapping = _best_mapping(ref, hyp)
    ref_count, hyp_count = ref.sum(axis=1), hyp.sum(axis=1)
    correct = np.zeros(len(ref), dtype=int)
    for h, r in mapping.items():
        correct += ref[:, r] & hyp[:, h]
    missed = np.maximum(ref_count - hyp_count, 0).sum()
    false_alarm = np.maximum(hyp_count - ref_count, 0).sum()
    confusion = (np.minimum(ref_count, hyp_count) - correct).sum()
    total = max(int(ref_count.sum()), 1)
    return DerResult(
        der=(missed + false_alarm + confusion) / total,
        missed=missed / total,
        false_alarm=false_alarm / total,
        confusion=confusion / total,
        scored_speech=total * RESOLUTION,
        reference_speakers=len(ref_labels),
        hypothesis_speakers=len(hyp_labels),
        mapping={hyp_labels[h]: ref_labels[r] for h, r in mapping.items()},
        **_splits_and_merges(ref, hyp),
    )


def _splits_and_merges(ref: np.ndarray, hyp: np.ndarray) -> dict[str, int]:
    """One person under two labels (split), or one label over two people (merged)."""
    overlap = hyp.T.astype(float) @ ref.astype(float)  # (hypothesis, reference) frames
    share_of_speaker = overlap / np.maximum(ref.sum(axis=0), 1)[None, :]
    share_of_label = overlap / np.maximum(hyp.sum(axis=0), 1)[:, None]
    return {
        "split_speakers": int(((share_of_speaker >= SPLIT_SHARE).sum(axis=0) >= 2).sum()),
        "merged_speakers": int(((share_of_label >= SPLIT_SHARE).sum(axis=1) >= 2).sum()),
    }


def _best_mapping(ref: np.ndarray, hyp: np.ndarray) -> dict[int, int]:
    """Hypothesis column -> reference column, one to one, maximising co-occurring frames."""
    overlap = hyp.T.astype(int) @ ref.astype(int)
    hyps, refs = overlap.shape
    best: tuple[int, dict[int, int]] = (-1, {})
    for chosen in itertools.permutations(range(refs), min(hyps, refs)):
        for hyp_order in itertools.permutations(range(hyps), len(chosen)):
            total = sum(overlap[h, r] for h, r in zip(hyp_order, chosen, strict=True))
            if total > best[0]:
                best = (total, dict(zip(hyp_order, chosen, strict=True)))
    return best[1]
