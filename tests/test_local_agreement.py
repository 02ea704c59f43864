import pytest

from app.core.policy import LocalAgreement, create_policy
from app.core.words import TimedWord


def words(*spec: tuple[str, float, float]) -> list[TimedWord]:
    return [TimedWord(text, start, end) for text, start, end in spec]


def test_commits_only_what_two_hypotheses_agree_on():
    policy = LocalAgreement()
    assert policy.update(words((" Hello", 0.0, 0.4), (" wor", 0.4, 0.6)), 0.6) == []
    assert [w.text for w in policy.pending] == [" Hello", " wor"]
    committed = policy.update(words((" Hello", 0.0, 0.4), (" world.", 0.4, 0.8), (" How", 0.9, 1.0)), 1.0)
    assert [w.text for w in committed] == [" Hello"]
    assert [w.text for w in policy.pending] == [" world.", " How"]
    assert policy.committed_until == 0.4


def test_agreement_ignores_case_and_punctuation_and_keeps_the_newer_form():
    policy = LocalAgreement()
    policy.update(words((" hello", 0.0, 0.4), (" there", 0.4, 0.8)), 0.8)
    committed = policy.update(words((" Hello,", 0.0, 0.4), (" there.", 0.4, 0.8)), 2.0)
    assert [w.text for w in committed] == [" Hello,", " there."]


def test_a_full_stop_is_final_only_once_a_second_after_it_was_heard():
    """Whisper ends every buffer with a full stop; the next words often prove it wrong."""
    policy = LocalAgreement()
    policy.update(words((" it", 0.0, 0.3), (" develops.", 0.3, 0.8)), 1.2)
    committed = policy.update(words((" it", 0.0, 0.3), (" develops.", 0.3, 0.8)), 1.5)
    assert [w.text for w in committed] == [" it"]
    committed = policy.update(words((" develops", 0.3, 0.8), (" theories", 0.9, 1.4)), 1.8)
    assert [w.text for w in committed] == [" develops"]


def test_words_already_committed_are_not_committed_again():
    policy = LocalAgreement()
    policy.update(words((" one", 0.0, 0.3), (" two", 0.3, 0.6)), 0.6)
    policy.update(words((" one", 0.0, 0.3), (" two", 0.3, 0.6), (" three", 0.6, 0.9)), 1.0)
    # The buffer still holds "one two": Whisper hears them again, slightly shifted.
    committed = policy.update(
        words((" one", 0.02, 0.31), (" two", 0.31, 0.62), (" three", 0.62, 0.9), (" four", 0.9, 1.2)),
        1.35,
    )
    assert [w.text for w in committed] == [" three"]


def test_repeated_boundary_ngram_is_dropped_even_with_shifted_times():
    policy = LocalAgreement()
    policy.update(words((" see", 0.0, 0.3), (" you", 0.3, 1.0)), 1.0)
    policy.flush()
    committed = policy.update(words((" you", 0.95, 1.3), (" soon", 1.3, 1.6)), 1.6)
    assert committed == []
    assert [w.text for w in policy.pending] == [" soon"]


def test_a_word_after_a_stretched_word_end_is_kept():
    """Whisper stretches ends into pauses; the next word may start before that end."""
    policy = LocalAgreement()
    policy.update(words((" you.", 7.26, 8.26)), 8.3)
    policy.flush()
    policy.update(words((" ask", 8.08, 8.66), (" what", 8.66, 8.9)), 9.0)
    assert [w.text for w in policy.flush()] == [" ask", " what"]


def test_flush_commits_everything_pending():
    policy = LocalAgreement()
    policy.update(words((" Good", 0.0, 0.3), (" night.", 0.3, 0.7)), 0.7)
    assert [w.text for w in policy.flush()] == [" Good", " night."]
    assert policy.pending == ()
    assert policy.committed_until == 0.7


def test_unknown_policy_name_is_a_clear_error():
    with pytest.raises(ValueError, match="localagreement"):
        create_policy("nope")


def test_agreed_words_at_the_very_end_of_the_audio_wait_for_more():
    policy = LocalAgreement()
    policy.update(words((" at", 0.0, 0.3), (" Digi", 0.3, 0.9)), 1.0)
    committed = policy.update(words((" at", 0.0, 0.3), (" Digi", 0.3, 0.9)), 1.0)
    assert [w.text for w in committed] == [" at"], "a word ending at the audio's edge may be cut off"
    committed = policy.update(words((" at", 0.0, 0.3), (" Digium.", 0.3, 1.0)), 2.0)
    assert committed == []
    assert [w.text for w in policy.update(words((" at", 0.0, 0.3), (" Digium.", 0.3, 1.0)), 2.5)] == [
        " Digium."
    ]


def test_a_committed_word_heard_again_with_another_spelling_is_dropped():
    policy = LocalAgreement()
    policy.update(words((" and", 4.6, 4.8), (" will", 4.8, 5.0)), 5.6)
    policy.update(words((" and", 4.6, 4.8), (" will", 4.8, 5.0)), 5.6)
    assert policy.committed_until == 5.0
    policy.update(words((" we'll", 4.82, 5.05), (" be", 5.1, 5.3)), 6.0)
    committed = policy.update(words((" we'll", 4.82, 5.05), (" be", 5.1, 5.3)), 6.0)
    assert [w.text for w in committed] == [" be"]


def test_a_word_heard_long_ago_is_final_even_without_agreement():
    """Decodes disagreeing on one early word must not hold back the sentence behind it."""
    policy = LocalAgreement()
    policy.update(words((" Dial", 0.0, 0.4), (" one", 0.4, 0.7), (" if", 0.7, 0.9)), 1.0)
    committed = policy.update(words((" DA", 0.0, 0.4), (" one", 0.4, 0.7), (" if", 0.7, 0.9)), 1.5)
    assert committed == []  # disagreement, and not yet heard long enough
    committed = policy.update(
        words((" Dial", 0.0, 0.4), (" one,", 0.4, 0.7), (" if", 0.7, 0.9), (" you", 0.9, 1.1)), 2.0
    )
    # "Dial" ends 1.6 s before the end: final unagreed; "one" and "if" were agreed on.
    assert [w.text for w in committed] == [" Dial", " one,", " if"]
    assert [w.text for w in policy.pending] == [" you"]


def test_an_agreed_word_the_decoder_doubts_waits_until_heard_long_enough():
    """Two decodes of an utterance's first second can agree on the same wrong word."""
    policy = LocalAgreement()

    def hypothesis(second: str, p: float) -> list[TimedWord]:
        return [TimedWord(" Please", 0.0, 0.26, 0.8), TimedWord(second, 0.26, 0.5, p)]

    policy.update(hypothesis(" that", 0.2), 0.8)
    committed = policy.update(hypothesis(" that", 0.35), 1.1)
    assert [w.text for w in committed] == [" Please"], "agreed, but p 0.35: not final 0.6 s later"
    assert policy.update(hypothesis(" enter", 0.5), 1.5) == []
    committed = policy.update(hypothesis(" enter", 0.9), 2.0)
    assert [w.text for w in committed] == [" enter"], "agreed on, and sure this time"


def test_an_agreed_word_the_decoder_is_sure_of_is_final_after_the_tail_guard():
    policy = LocalAgreement()
    sure = [TimedWord(" Please", 0.0, 0.26, 0.9), TimedWord(" enter", 0.26, 0.5, 0.9)]
    policy.update(sure, 0.8)
    committed = policy.update(sure, 0.9)
    assert [w.text for w in committed] == [" Please", " enter"]


def test_a_committed_word_that_a_later_decode_grows_keeps_what_the_growth_adds():
    """ "I" was final while the doubted "am" waited; the next decode heard "I'm" there."""
    policy = LocalAgreement()
    policy.update([TimedWord(" I", 0.0, 0.42, 0.7), TimedWord(" am", 0.42, 0.52, 0.72)], 1.0)
    committed = policy.update([TimedWord(" I", 0.0, 0.40, 0.8), TimedWord(" am", 0.40, 0.52, 0.45)], 1.3)
    assert [w.text for w in committed] == [" I"]
    grown = [TimedWord(" I'm", 0.0, 0.52, 0.71), TimedWord(" about", 0.52, 0.72, 1.0)]
    policy.update(grown, 1.6)
    committed = policy.update(grown, 2.2)
    assert [w.text for w in committed] == ["'m", " about"]
    assert "".join(w.text for w in [TimedWord(" I", 0.0, 0.4), *committed]) == " I'm about"


def test_a_committed_word_heard_again_with_punctuation_only_is_not_grown():
    policy = LocalAgreement()
    policy.update([TimedWord(" mail", 4.26, 4.5), TimedWord(" box", 4.5, 4.74)], 5.0)
    committed = policy.update([TimedWord(" mail", 4.26, 4.5), TimedWord(" box", 4.5, 4.74)], 5.0)
    assert [w.text for w in committed] == [" mail"]
    committed = policy.update([TimedWord(" mail,", 4.26, 4.6), TimedWord(" box", 4.6, 4.8)], 6.0)
    assert [w.text for w in committed] == [" box"]
