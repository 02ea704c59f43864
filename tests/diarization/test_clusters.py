"""The clusterer's rules on synthetic voice vectors (pure: no model)."""

from __future__ import annotations

import numpy as np

from app.core.diarization.clusters import ClusterSettings, LocalVoice, SpeakerClusters


def _voice(
    index: int, direction: np.ndarray, seconds: float = 3.0, previous: dict | None = None
) -> LocalVoice:
    return LocalVoice(index, direction / np.linalg.norm(direction), seconds, previous or {})


AXES = np.eye(6)


def test_first_voice_opens_speaker_one_and_the_same_voice_keeps_it():
    clusters = SpeakerClusters()
    assert clusters.assign([_voice(0, AXES[0])]) == {0: 1}
    assert clusters.assign([_voice(2, AXES[0] + 0.1 * AXES[1])]) == {2: 1}
    assert clusters.count == 1


def test_a_new_voice_needs_enough_clear_speech():
    clusters = SpeakerClusters(ClusterSettings(new_speaker_min_s=2.0))
    clusters.assign([_voice(0, AXES[0])])
    assert clusters.assign([_voice(1, AXES[1], seconds=1.0)]) == {}  # waits: too brief to place
    assert clusters.assign([_voice(1, AXES[1], seconds=1.0)], decide=True) == {1: 1}  # forced: closest
    assert clusters.assign([_voice(1, AXES[1], seconds=2.5)]) == {1: 2}
    assert clusters.count == 2


def test_two_voices_in_one_window_never_share_a_label():
    clusters = SpeakerClusters()
    clusters.assign([_voice(0, AXES[0])])
    clusters.assign([_voice(0, AXES[1])])
    # Both resemble speaker 1 a little more than speaker 2; they still get different labels.
    labels = clusters.assign([_voice(0, AXES[0] + 0.2 * AXES[1]), _voice(1, AXES[0] + 0.6 * AXES[1])])
    assert sorted(labels.values()) == [1, 2]


def test_the_maximum_number_of_speakers_is_never_exceeded():
    clusters = SpeakerClusters(ClusterSettings(max_speakers=2))
    for axis in range(5):
        labels = clusters.assign([_voice(0, AXES[axis])])
        assert set(labels.values()) <= {1, 2}
    assert clusters.count == 2


def test_continuity_breaks_a_near_tie_in_favour_of_the_previous_label():
    clusters = SpeakerClusters(ClusterSettings(new_speaker_similarity=0.2))
    clusters.assign([_voice(0, AXES[0])])
    clusters.assign([_voice(0, AXES[1])])
    between = AXES[0] + 1.05 * AXES[1]
    assert clusters.assign([_voice(0, between)]) == {0: 2}
    assert clusters.assign([_voice(0, between, previous={1: 1.0})]) == {0: 1}
