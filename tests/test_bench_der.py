"""bench/der.py: DER on hand-made turns, and the split/merged counts the 20-minute check reads."""

import pytest

from bench.der import Turn, diarization_error


def test_a_perfect_hypothesis_under_other_names_scores_zero():
    reference = [Turn(0.0, 5.0, "ann"), Turn(5.0, 9.0, "bob")]
    result = diarization_error(reference, [Turn(0.0, 5.0, "1"), Turn(5.0, 9.0, "2")])
    assert result.der == 0.0 and result.mapping == {"1": "ann", "2": "bob"}
    assert (result.split_speakers, result.merged_speakers) == (0, 0)


def test_one_person_under_two_labels_is_a_split_and_costs_confusion():
    reference = [Turn(0.0, 10.0, "ann"), Turn(10.0, 20.0, "bob")]
    hypothesis = [Turn(0.0, 6.0, "1"), Turn(6.0, 10.0, "3"), Turn(10.0, 20.0, "2")]
    result = diarization_error(reference, hypothesis, collar=0.0)
    assert result.split_speakers == 1 and result.merged_speakers == 0
    assert result.confusion == pytest.approx(4.0 / 20.0, abs=0.01)


def test_two_people_under_one_label_are_merged():
    reference = [Turn(0.0, 10.0, "ann"), Turn(10.0, 20.0, "bob"), Turn(20.0, 30.0, "cy")]
    hypothesis = [Turn(0.0, 20.0, "1"), Turn(20.0, 30.0, "2")]
    result = diarization_error(reference, hypothesis, collar=0.0)
    assert result.merged_speakers == 1 and result.split_speakers == 0
    assert result.hypothesis_speakers - result.reference_speakers == -1


def test_a_stray_frame_under_another_label_is_neither():
    """Below 10 % of a speaker's speech, another label is a boundary error, not a second person."""
    reference = [Turn(0.0, 10.0, "ann"), Turn(10.0, 20.0, "bob")]
    hypothesis = [Turn(0.0, 10.5, "1"), Turn(10.5, 20.0, "2")]
    result = diarization_error(reference, hypothesis, collar=0.0)
    assert (result.split_speakers, result.merged_speakers) == (0, 0)
