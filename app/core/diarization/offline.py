"""Offline diarization: the streaming models over a whole recording, clustered once at the end.

The streaming diarizer must decide who speaks a fraction of a second after the words,
with one look at each window and clusters that can never be redrawn. This runs the *same*
segmentation and CAM++ models with none of those limits, for the refine pass after Stop
(app/core/refine.py) and as the reference the diarization bench compares streaming against:

1. 10 s windows slide over the whole recording (every ``step_s``; the last one ends at its
   end) and each is segmented into up to three local speakers.
2. Every local speaker with at least ``min_voice_s`` of clear (non-overlapped) speech in
   its window gets one CAM++ vector from all that speech.
3. All vectors are clustered at once: agglomerative, average linkage on cosine distance,
   stopping at ``threshold`` (the default equals the streaming clusterer's new-speaker bar,
   1 - 0.45) or, past it, once at most ``max_speakers`` clusters are left.
4. Each frame takes the number of speakers the overlapping windows say on average, and
   those with the most window votes.

Windows are added one at a time (:meth:`OfflineDiarization.add_window`), so a caller can run
each on a worker thread and stop between them.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.core.decoding import SAMPLE_RATE
from app.core.diarization.backends import DiarizationModels
from app.core.diarization.errors import DiarizationError
from app.core.diarization.streaming import FrameTiming
from app.core.diarization.turns import SpeakerTurn, speaker_talking_most


@dataclass(frozen=True)
class OfflineSettings:
    window_s: float = 10.0
    step_s: float = 1.0
    min_voice_s: float = 0.4
    threshold: float = 0.55  # cosine distance at which clusters stop merging
    max_speakers: int | None = None  # merge on past the threshold until at most this many are left


def average_linkage(vectors: np.ndarray, threshold: float, max_clusters: int | None = None) -> np.ndarray:
    """Cluster label (0..k-1, in order of first appearance) per row, UPGMA on cosine distance.

    Merges the closest pair of clusters until the closest is farther than ``threshold`` and
    no more than ``max_clusters`` are left; the distance of a merged cluster to another is
    the size-weighted mean of its parts'. Each merge scans the whole matrix: a few seconds
    for the ~3,000 vectors of an hour at the refine pass's step.
    """
    count = len(vectors)
    if count == 0:
        return np.zeros(0, dtype=int)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    distance = 1.0 - unit @ unit.T
    np.fill_diagonal(distance, np.inf)
    sizes = np.ones(count)
    members: list[list[int]] = [[i] for i in range(count)]
    alive = count
    while alive > 1:
        a, b = np.unravel_index(int(np.argmin(distance)), distance.shape)
        if distance[a, b] > threshold and (max_clusters is None or alive <= max_clusters):
            break
        merged = (sizes[a] * distance[a] + sizes[b] * distance[b]) / (sizes[a] + sizes[b])
        distance[a], distance[:, a] = merged, merged
        distance[a, a] = np.inf
        distance[b], distance[:, b] = np.inf, np.inf  # b is gone
        sizes[a] += sizes[b]
        members[a].extend(members[b])
        members[b] = []
        alive -= 1
    roots = sorted((root for root in range(count) if members[root]), key=lambda r: min(members[r]))
    labels = np.zeros(count, dtype=int)
    for cluster, root in enumerate(roots):
        labels[members[root]] = cluster
    return labels


def window_starts(samples: int, settings: OfflineSettings) -> list[int]:
    """Start samples of the sliding windows; the last one ends exactly at the recording's end."""
    window, step = round(settings.window_s * SAMPLE_RATE), round(settings.step_s * SAMPLE_RATE)
    if samples <= window:
        return [0]
    starts = list(range(0, samples - window + 1, step))
    if starts[-1] != samples - window:
        starts.append(samples - window)
    return starts


class OfflineDiarization:
    """One recording's pass: segment and embed window by window, then cluster and vote once."""

    def __init__(self, models: DiarizationModels, audio: np.ndarray, settings: OfflineSettings | None = None):
        self.models = models
        self.audio = audio
        self.settings = settings or OfflineSettings()
        self.starts = window_starts(len(audio), self.settings)
        self._segmented: list[tuple[int, np.ndarray]] = []  # (first global frame, activity) per window
        self._vectors: list[np.ndarray] = []
        self._owners: list[tuple[int, int]] = []  # (window index, local speaker) per vector

    def add_window(self, start: int) -> None:
        """Segment and embed the window at sample ``start`` (one of :attr:`starts`): the heavy part."""
        frames = self.models.frames
        window = self.audio[start : start + round(self.settings.window_s * SAMPLE_RATE)]
        try:
            activity = self.models.segmenter(window)
            if not activity.size:
                return
            clear = (activity > 0) & (activity.sum(axis=1, keepdims=True) == 1)
            for local in range(activity.shape[1]):
                clear_frames = np.flatnonzero(clear[:, local])
                if len(clear_frames) * frames.step >= self.settings.min_voice_s:
                    self._vectors.append(self.models.embedder(_frames_audio(window, clear_frames, frames)))
                    self._owners.append((len(self._segmented), local))
        except (RuntimeError, ValueError, MemoryError) as exc:
            raise DiarizationError(f"Telling the speakers apart failed ({exc}).") from exc
        self._segmented.append((round(start / SAMPLE_RATE / frames.step), activity))

    def turns(self) -> list[SpeakerTurn]:
        """Speaker turns for the windows added, speakers 1, 2, … in order of first appearance."""
        if not self._segmented:
            return []
        vectors = np.stack(self._vectors) if self._vectors else np.zeros((0, 1))
        labels = average_linkage(vectors, self.settings.threshold, self.settings.max_speakers)
        cluster_of = {owner: int(label) for owner, label in zip(self._owners, labels, strict=True)}
        return _vote(self._segmented, cluster_of, int(labels.max(initial=-1)) + 1, self.models.frames)


def diarize_offline(
    models: DiarizationModels, audio: np.ndarray, settings: OfflineSettings | None = None
) -> list[SpeakerTurn]:
    """Speaker turns for the whole recording, in one blocking call."""
    run = OfflineDiarization(models, audio, settings)
    for start in run.starts:
        run.add_window(start)
    return run.turns()


class TurnIndex:
    """Who speaks when, asked word by word over a whole session's turns."""

    def __init__(self, turns: Sequence[SpeakerTurn]) -> None:
        self.turns = sorted(turns, key=lambda t: t.start)
        self._starts = [t.start for t in self.turns]
        self._longest = max((t.end - t.start for t in self.turns), default=0.0)

    def speaker_at(self, start: float, end: float) -> int | None:
        """The speaker talking most during [start, end], else the nearest turn's (None: no turns).

        Offline every word has a speaker: there is no later window that could still name it.
        """
        first = bisect.bisect_left(self._starts, start - self._longest)  # none before can reach start
        talking = speaker_talking_most(self.turns[first : bisect.bisect_right(self._starts, end)], start, end)
        if talking is not None:
            return talking
        nearest = min(self.turns, key=lambda t: max(t.start - end, start - t.end), default=None)
        return None if nearest is None else nearest.speaker


def _frames_audio(window: np.ndarray, frame_indices: np.ndarray, frames: FrameTiming) -> np.ndarray:
    """The window's samples under the given frames (each frame covers ``step`` around its centre)."""
    mask = np.zeros(len(window), dtype=bool)
    half = frames.step / 2
    for index in frame_indices:
        center = frames.first_center + index * frames.step
        mask[max(0, round((center - half) * SAMPLE_RATE)) : round((center + half) * SAMPLE_RATE)] = True
    return window[mask]


def _vote(
    segmented: list[tuple[int, np.ndarray]],
    cluster_of: dict[tuple[int, int], int],
    clusters: int,
    frames: FrameTiming,
) -> list[SpeakerTurn]:
    """Per frame: as many speakers as the covering windows hear on average, most-voted first."""
    total = max(first + len(activity) for first, activity in segmented)
    votes = np.zeros((total, max(clusters, 1)))
    speaking = np.zeros(total)  # sum over covering windows of their active local speakers
    covering = np.zeros(total)
    for index, (first, activity) in enumerate(segmented):
        span = slice(first, first + len(activity))
        covering[span] += 1
        speaking[span] += activity.sum(axis=1)
        window_votes = np.zeros((len(activity), votes.shape[1]))
        for local in range(activity.shape[1]):
            cluster = cluster_of.get((index, local))
            if cluster is not None:
                # max, not add: two local speakers of one window in one cluster are one voice.
                window_votes[:, cluster] = np.maximum(window_votes[:, cluster], activity[:, local])
        votes[span] += window_votes
    wanted = np.rint(speaking / np.maximum(covering, 1)).astype(int)
    turns: list[SpeakerTurn] = []
    open_turns: dict[int, float] = {}
    half = frames.step / 2
    for frame in range(total + 1):
        active: set[int] = set()
        if frame < total and wanted[frame]:
            ranked = np.argsort(-votes[frame])[: wanted[frame]]
            active = {int(c) for c in ranked if votes[frame, c] > 0}
        time = frames.first_center + frame * frames.step - half
        for cluster in list(open_turns):
            if cluster not in active:
                turns.append(SpeakerTurn(open_turns.pop(cluster), time, cluster + 1))
        for cluster in active - open_turns.keys():
            open_turns[cluster] = time
    return sorted(turns, key=lambda t: t.start)
