"""Online speaker clustering: local speakers of each window become stable session speakers.

Each session speaker is a running mean of unit voice vectors. A window's local speakers
are matched to session speakers jointly (two people in one window are never given the
same label), with a bonus for the label the same local speaker already carried in the
part of the window that was labelled before. A new session speaker is opened only for a
voice unlike every known one *and* heard clearly for long enough: short or noisy stretches
join the closest known speaker instead, which is what keeps the count from exploding.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClusterSettings:
    max_speakers: int = 4
    # A voice less similar than this to all known ones may be new. CAM++ vectors of 2 s of one
    # person score 0.53-0.67 (median) against each other on the eval voices, of two people 0.06-0.24.
    new_speaker_similarity: float = 0.4
    # Clear speech needed before a new speaker is opened: below the 1.5-2 s of a short turn, since
    # a voice is now heard one turn at a time.
    new_speaker_min_s: float = 1.5
    update_similarity: float = 0.5  # only confident matches refine a speaker's voice
    continuity_bonus: float = 0.3  # weight of "this local speaker already had that label"
    max_update_weight_s: float = 60.0  # older evidence is discounted past this much speech


@dataclass(frozen=True)
class LocalVoice:
    """One local speaker of a window as the clusterer sees it."""

    index: int
    embedding: np.ndarray
    clear_seconds: float
    previous_labels: dict[int, float]  # session speaker -> share of this voice's already-labelled frames


@dataclass(frozen=True)
class HeardVoice:
    """A session speaker as the clusterer knows it now: its running voice and how long it spoke."""

    speaker: int  # 1-based
    vector: np.ndarray
    seconds: float


class SpeakerClusters:
    def __init__(self, settings: ClusterSettings | None = None) -> None:
        self.settings = settings or ClusterSettings()
        self._centroids: list[np.ndarray] = []
        self._weights: list[float] = []

    @property
    def count(self) -> int:
        return len(self._centroids)

    def centroids(self) -> list[np.ndarray]:
        return [centroid.copy() for centroid in self._centroids]

    def similarities(self, embedding: np.ndarray) -> np.ndarray:
        if not self._centroids:
            return np.zeros(0)
        matrix = np.stack(self._centroids)
        norms = np.linalg.norm(matrix, axis=1) * max(float(np.linalg.norm(embedding)), 1e-9)
        return matrix @ embedding / np.maximum(norms, 1e-9)

    def assign(self, voices: list[LocalVoice], decide: bool = False) -> dict[int, int]:
        """Local index -> session speaker (1-based) for the voices that can be labelled now.

        A voice unlike every known speaker but heard too briefly to open a new one is left
        out, so the caller can wait for more of it; with ``decide`` it joins the closest
        known speaker instead.
        """
        if not voices:
            return {}
        scores = [self._scores(voice) for voice in voices]
        labels: dict[int, int] = {}
        for voice, cluster in zip(voices, self._best_matching(scores), strict=True):
            similarity = float(self.similarities(voice.embedding)[cluster]) if cluster is not None else -1.0
            if similarity < self.settings.new_speaker_similarity:
                if self._may_open(voice):
                    cluster = self._open(voice)
                elif not (decide or self.count >= self.settings.max_speakers):
                    continue
            if cluster is None:
                continue
            if similarity >= self.settings.update_similarity:
                self._update(cluster, voice)
            labels[voice.index] = cluster + 1
        return labels

    def _scores(self, voice: LocalVoice) -> np.ndarray:
        bonus = np.zeros(self.count)
        for label, share in voice.previous_labels.items():
            if 0 < label <= self.count:
                bonus[label - 1] = self.settings.continuity_bonus * share
        return self.similarities(voice.embedding) + bonus

    def _best_matching(self, scores: list[np.ndarray]) -> list[int | None]:
        """The assignment of voices to distinct known speakers with the highest total score."""
        voices, known = len(scores), self.count
        best: tuple[float, list[int | None]] = (-np.inf, [None] * voices)
        slots: list[int | None] = [*range(known), *([None] * voices)]
        for choice in itertools.permutations(slots, voices):
            total = sum(scores[v][c] for v, c in enumerate(choice) if c is not None)
            if total > best[0]:
                best = (total, list(choice))
        return best[1]

    def _may_open(self, voice: LocalVoice) -> bool:
        return (
            self.count < self.settings.max_speakers and voice.clear_seconds >= self.settings.new_speaker_min_s
        )

    def _open(self, voice: LocalVoice) -> int:
        self._centroids.append(voice.embedding.copy())
        self._weights.append(voice.clear_seconds)
        return self.count - 1

    def _update(self, cluster: int, voice: LocalVoice) -> None:
        weight = min(self._weights[cluster], self.settings.max_update_weight_s)
        total = weight + voice.clear_seconds
        self._centroids[cluster] = (
            self._centroids[cluster] * weight + voice.embedding * voice.clear_seconds
        ) / total
        self._weights[cluster] = total
