"""A stream's lifecycle: every allowed move, every refused one, and what each state takes."""

import itertools

import pytest

from app.core.lifecycle import (
    STAGE_TRANSITIONS,
    TRANSITIONS,
    LifecycleError,
    StageState,
    StreamLifecycle,
    StreamState,
    stage_lifecycle,
)

S = StreamState


def at(state: StreamState) -> StreamLifecycle:
    life = StreamLifecycle()
    path = {S.RECEIVING: [], S.ENDING: [S.ENDING], S.DRAINED: [S.DRAINED], S.FAILED: [S.FAILED],
            S.FINISHED: [S.FINISHED]}[state]
    for step in path:
        life.advance(step)
    return life


@pytest.mark.parametrize(("start", "to"), list(itertools.product(StreamState, StreamState)))
def test_every_move_is_either_in_the_table_or_refused(start, to):
    life = at(start)
    if to in TRANSITIONS[start]:
        life.advance(to)
        assert life.state is to
    else:
        with pytest.raises(LifecycleError, match=f"from {start.value} to {to.value}"):
            life.advance(to)
        assert life.state is start
        assert life.advance_if_allowed(to) is False and life.state is start


def test_the_normal_lives_of_a_stream():
    pcm = StreamLifecycle()
    for step in (S.DRAINED, S.FINISHED):
        pcm.advance(step)
    encoded = StreamLifecycle()
    for step in (S.ENDING, S.DRAINED, S.FINISHED):
        encoded.advance(step)
    failed = StreamLifecycle()
    for step in (S.ENDING, S.FAILED, S.FINISHED):
        failed.advance(step)
    assert pcm.finished and encoded.finished and failed.finished
    assert not TRANSITIONS[S.FINISHED], "finished is final"


@pytest.mark.parametrize(
    ("state", "takes_input", "takes_decoded"),
    [
        (S.RECEIVING, True, True),
        (S.ENDING, False, True),  # the decoder still hands over what it holds
        (S.DRAINED, False, False),
        (S.FAILED, False, False),
        (S.FINISHED, False, False),
    ],
)
def test_what_each_state_takes(state, takes_input, takes_decoded):
    life = at(state)
    assert (life.takes_input, life.takes_decoded_audio) == (takes_input, takes_decoded)


@pytest.mark.parametrize(("start", "to"), list(itertools.product(StageState, StageState)))
def test_a_stage_moves_only_forward_and_closing_is_final(start, to):
    life = stage_lifecycle()
    if start is not StageState.RUNNING:
        life.advance(start)
    assert life.advance_if_allowed(to) is (to in STAGE_TRANSITIONS[start])
    assert life.state is (to if to in STAGE_TRANSITIONS[start] else start)
    assert not STAGE_TRANSITIONS[StageState.CLOSED]
