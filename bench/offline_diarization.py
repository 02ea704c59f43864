"""Offline diarization with the streaming models: the reference streaming is compared against.

The streaming diarizer must decide who speaks a fraction of a second after the words,
with one look at each window and clusters that can never be redrawn. This module runs
the *same* segmentation and CAM++ models with none of those limits, so the DER gap
between the two is what streaming costs, not what the models cost:

1. 10 s windows slide over the whole clip (every ``step_s``; the last one ends at the
   clip's end) and each is segmented into up to three local speakers.
2. Every local speaker with at least ``min_voice_s`` of clear (non-overlapped) speech in
   its window gets one CAM++ vector from all that speech.
3. All vectors of the clip are clustered at once: agglomerative, average linkage on
   cosine distance, stopping at ``threshold`` (the default equals the streaming
   clusterer's new-speaker bar, 1 - 0.45).
4. Each frame of the clip takes the number of speakers the overlapping windows say on
   average, and those with the most window votes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.decoding import SAMPLE_RATE
from app.core.diarization import DiarizationModels
from app.core.diarization.streaming import FrameTiming
from bench.der import Turn


@dataclass(frozen=True)
class OfflineSettings:
    window_s: float = 10.0
    step_s: float = 1.0
    min_voice_s: float = 0.4
    threshold: float = 0.55  # cosine distance at which clusters stop merging


def average_linkage(vectors: np.ndarray, threshold: float) -> np.ndarray:
    """Cluster label (0..k-1, in order of first appearance) per row, UPGMA on cosine distance.

    Merges the closest pair of clusters until the closest is farther than ``threshold``;
    the distance of a merged cluster to another is the size-weighted mean of its parts'.
    """
    count = len(vectors)
    if count == 0:
        return np.zeros(0, dtype=int)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    distance = 1.0 - unit @ unit.T
    np.fill_diagonal(distance, np.inf)
    sizes = np.ones(count)
    members: list[list[int]] = [[i] for i in range(count)]
    alive = np.ones(count, dtype=bool)
    while alive.sum() > 1:
        masked = np.where(alive[:, None] & alive[None, :], distance, np.inf)
        a, b = np.unravel_index(int(np.argmin(masked)), masked.shape)
        if masked[a, b] > threshold:
            break
        merged = (sizes[a] * distance[a] + sizes[b] * distance[b]) / (sizes[a] + sizes[b])
        distance[a], distance[:, a] = merged, merged
        distance[a, a] = np.inf
        sizes[a] += sizes[b]
        members[a].extend(members[b])
        alive[b] = False
    labels = np.zeros(count, dtype=int)
    for cluster, root in enumerate(sorted(np.flatnonzero(alive), key=lambda r: min(members[r]))):
        labels[members[root]] = cluster
    return labels


def window_starts(samples: int, settings: OfflineSettings) -> list[int]:
    """Start samples of the sliding windows; the last one ends exactly at the clip's end."""
    window, step = round(settings.window_s * SAMPLE_RATE), round(settings.step_s * SAMPLE_RATE)
    if samples <= window:
        return [0]
    starts = list(range(0, samples - window + 1, step))
    if starts[-1] != samples - window:
        starts.append(samples - window)
    return starts


def diarize_offline(
    models: DiarizationModels, audio: np.ndarray, settings: OfflineSettings | None = None
) -> list[Turn]:
    """Speaker turns for the whole clip, labels "1", "2", … in order of first appearance."""
    settings = settings or OfflineSettings()
    frames = models.frames
    window_len = round(settings.window_s * SAMPLE_RATE)
    segmented: list[tuple[int, np.ndarray]] = []  # (first global frame, activity) per window
    vectors: list[np.ndarray] = []
    owners: list[tuple[int, int]] = []  # (window index, local speaker) per vector
    for start in window_starts(len(audio), settings):
        window = audio[start : start + window_len]
        activity = models.segmenter(window)
        if not activity.size:
            continue
        first = round(start / SAMPLE_RATE / frames.step)
        clear = (activity > 0) & (activity.sum(axis=1, keepdims=True) == 1)
        for local in range(activity.shape[1]):
            clear_frames = np.flatnonzero(clear[:, local])
            if len(clear_frames) * frames.step >= settings.min_voice_s:
                vectors.append(models.embedder(_frames_audio(window, clear_frames, frames)))
                owners.append((len(segmented), local))
        segmented.append((first, activity))
    if not segmented:
        return []
    labels = average_linkage(np.stack(vectors) if vectors else np.zeros((0, 1)), settings.threshold)
    cluster_of = {owner: int(label) for owner, label in zip(owners, labels, strict=True)}
    return _vote(segmented, cluster_of, int(labels.max(initial=-1)) + 1, frames)


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
) -> list[Turn]:
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
    turns: list[Turn] = []
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
                turns.append(Turn(open_turns.pop(cluster), time, str(cluster + 1)))
        for cluster in active - open_turns.keys():
            open_turns[cluster] = time
    return sorted(turns, key=lambda t: t.start)
