"""AlignAtt's commit rule on synthetic hypotheses: words, their attended end frames, probabilities."""

import itertools

import pytest

from app.core.choices import StreamChoices
from app.core.decoding import float_to_pcm16
from app.core.policy import AlignAtt, create_policy
from app.core.processor import ProcessorConfig
from app.core.words import TimedWord
from tests.conftest import clip, corpus_wer, manifest, run, stream_bytes


def words(*spec: tuple) -> list[TimedWord]:
    """(text, start, end) or (text, start, end, probability)."""
    return [TimedWord(*item) for item in spec]


def texts(items) -> list[str]:
    return [w.text for w in items]


def test_one_decode_commits_every_word_attended_well_before_the_end():
    policy = AlignAtt(threshold_s=0.5, min_probability=0.0)
    hypothesis = words((" And", 0.0, 0.3), (" so,", 0.3, 0.9), (" my", 1.2, 1.6), (" fel", 1.6, 1.9))
    committed = policy.update(hypothesis, buffer_end=2.0)
    assert texts(committed) == [" And", " so,"]
    assert texts(policy.pending) == [" my", " fel"]
    assert policy.committed_until == 0.9


def test_the_threshold_is_inclusive_and_configurable():
    hypothesis = words((" one", 0.0, 0.5), (" two", 0.5, 1.0))
    assert texts(AlignAtt(threshold_s=0.5, min_probability=0.0).update(hypothesis, 1.5)) == [" one", " two"]
    assert texts(AlignAtt(threshold_s=0.8, min_probability=0.0).update(hypothesis, 1.5)) == [" one"]
    assert texts(AlignAtt(threshold_s=0.0, min_probability=0.0).update(hypothesis, 1.0)) == [" one", " two"]


def test_commit_stops_at_the_first_word_too_close_to_the_end_keeping_order():
    """A later word with an early frame (a DTW glitch) must not jump over a pending one."""
    policy = AlignAtt(threshold_s=0.5, min_probability=0.0)
    hypothesis = words((" a", 0.0, 0.2), (" b", 0.2, 1.8), (" c", 1.0, 1.1))
    assert texts(policy.update(hypothesis, 2.0)) == [" a"]
    assert texts(policy.pending) == [" b", " c"]


def test_an_unsure_word_waits_for_the_next_hypothesis_to_agree():
    policy = AlignAtt(threshold_s=0.5, min_probability=0.5)
    first = words((" the", 0.0, 0.2, 0.9), (" hair", 0.2, 0.5, 0.3), (" is", 0.6, 0.8, 0.9))
    assert texts(policy.update(first, 2.0)) == [" the"]
    revised = words((" the", 0.0, 0.2, 0.9), (" heir", 0.2, 0.5, 0.35), (" is", 0.6, 0.8, 0.9))
    assert policy.update(revised, 2.5) == [], "the unsure word changed, so it waits again"
    again = words((" heir", 0.2, 0.5, 0.4), (" is", 0.6, 0.8, 0.9), (" here", 0.9, 1.2, 0.9))
    assert texts(policy.update(again, 3.0)) == [" heir", " is", " here"]


def test_words_already_committed_are_not_committed_again():
    policy = AlignAtt(threshold_s=0.5, min_probability=0.0)
    policy.update(words((" one", 0.0, 0.3), (" two", 0.3, 0.6)), 1.2)
    # The buffer still holds "one two": Whisper hears them again with shifted frames.
    again = words((" one", 0.02, 0.31), (" two", 0.31, 0.62), (" three", 0.7, 1.0), (" four", 1.3, 1.6))
    assert texts(policy.update(again, 1.6)) == [" three"]
    assert texts(policy.pending) == [" four"]


def test_flush_commits_the_pending_tail():
    policy = AlignAtt()
    assert policy.update(words((" Good", 0.0, 0.3), (" night.", 0.3, 0.7)), 0.7) == []
    assert texts(policy.flush()) == [" Good", " night."]
    assert policy.pending == ()
    assert policy.committed_until == 0.7


def test_it_is_selectable_by_name_and_rejects_a_negative_threshold():
    assert isinstance(create_policy("alignatt"), AlignAtt)
    with pytest.raises(ValueError, match="threshold"):
        AlignAtt(threshold_s=-0.1)


def test_real_speech_streams_to_the_right_words_with_alignatt(tiny_engine):
    """tiny.en, real clips, committed as AlignAtt decides: words become final during speech."""
    refs = manifest("en")
    names = ["jfk.wav", "ast_en_vm-options.wav"]
    hypotheses = []
    grew_mid_stream = 0
    for name in names:
        config = ProcessorConfig(choices=StreamChoices(policy="alignatt"), live=False)
        updates = run(stream_bytes(tiny_engine, float_to_pcm16(clip("en", name)), config=config))
        assert updates[-1].buffer_transcription == ""
        hypotheses.append(updates[-1].text)
        committed = [len(u.text.split()) for u in updates if u.buffer_transcription.strip()]
        grew_mid_stream += sum(b > a for a, b in itertools.pairwise(committed))
    assert corpus_wer([refs[n]["text"] for n in names], hypotheses) <= 0.12, hypotheses
    assert grew_mid_stream >= 3, "AlignAtt commits while the speaker is still talking, not only at pauses"
