"""Labelled history: turns built a frame at a time, corrected in place, forgotten from the front (pure)."""

from __future__ import annotations

from app.core.diarization.turns import SpeakerTurn, TurnHistory, frame_spans


def _history(*frames: tuple[float, float, int]) -> TurnHistory:
    history = TurnHistory()
    for start, end, speaker in frames:
        history.add(start, end, speaker)
    return history


def test_touching_frames_of_one_speaker_make_one_turn():
    history = _history((0.0, 0.5, 1), (0.5, 1.0, 1), (1.0, 1.5, 2), (2.0, 2.5, 2))
    assert history.turns == (SpeakerTurn(0.0, 1.0, 1), SpeakerTurn(1.0, 1.5, 2), SpeakerTurn(2.0, 2.5, 2))
    assert history.last_speaker == 2
    assert (history.speaker_at(0.7), history.speaker_at(1.2), history.speaker_at(1.8)) == (1, 2, None)


def test_speaker_for_takes_the_most_overlap_then_the_nearest_within_the_slack():
    history = _history((0.0, 1.0, 1), (1.0, 3.0, 2))
    assert history.speaker_for(0.8, 1.5, slack_s=1.0) == 2
    assert history.speaker_for(3.5, 3.8, slack_s=1.0) == 2
    assert history.speaker_for(4.5, 4.8, slack_s=1.0) is None


def test_relabel_gives_only_the_old_speakers_parts_inside_the_spans_to_the_new_one():
    history = _history((0.0, 2.0, 1), (2.0, 4.0, 2), (4.0, 5.0, 1))
    history.relabel([(1.0, 2.5), (4.5, 6.0)], old=1, new=3)
    assert history.turns == (
        SpeakerTurn(0.0, 1.0, 1), SpeakerTurn(1.0, 2.0, 3), SpeakerTurn(2.0, 4.0, 2),
        SpeakerTurn(4.0, 4.5, 1), SpeakerTurn(4.5, 5.0, 3),
    )
    assert history.speaker_at(1.5) == 3 and history.speaker_at(3.0) == 2


def test_relabelled_pieces_join_their_neighbours_of_the_same_speaker():
    history = _history((0.0, 1.0, 3), (1.0, 2.0, 1))
    history.relabel([(1.0, 2.0)], old=1, new=3)
    assert history.turns == (SpeakerTurn(0.0, 2.0, 3),)


def test_forgetting_keeps_the_turn_in_progress():
    history = _history((0.0, 1.0, 1), (1.0, 2.0, 2), (2.0, 3.0, 1))
    history.forget_before(1.5)
    assert history.turns == (SpeakerTurn(1.0, 2.0, 2), SpeakerTurn(2.0, 3.0, 1))


def test_frame_spans_join_touching_frames():
    assert frame_spans([1.1, 1.0, 1.2, 2.0], step=0.1) == [(0.95, 1.25), (1.95, 2.05)]
