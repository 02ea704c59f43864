from app.core.hallucination import (
    DecodedSegment,
    compression_ratio,
    cut_echo,
    cut_repetition_loop,
    cut_unheard,
    is_plausible,
    plausible_words,
    spoken,
    within_speech,
)
from app.core.vad import SpeechRegion
from app.core.words import TimedWord


def seq(text: str, start: float = 0.0) -> list[TimedWord]:
    return [TimedWord(" " + t, start + i * 0.3, start + i * 0.3 + 0.25) for i, t in enumerate(text.split())]


def segment(text: str, no_speech: float = 0.1, logprob: float = -0.3, ratio: float = 1.2) -> DecodedSegment:
    return DecodedSegment(tuple(seq(text)), no_speech, logprob, ratio)


def test_repetition_loop_is_cut_to_its_first_occurrence():
    looped = seq("I went to the the store and then and then and then and then and then")
    assert " ".join(w.key for w in cut_repetition_loop(looped)) == "i went to the the store and then"


def test_natural_repeats_are_kept():
    speech = seq("no no no that is not it")
    assert len(cut_repetition_loop(speech)) == len(speech)
    assert len(cut_repetition_loop(seq("no no no no no"))) == 1


def test_whispers_skip_rules_and_blocklist():
    assert is_plausible(segment("ask not what your country can do"), speech_seconds=3)
    assert not is_plausible(segment("la la la la la la", ratio=3.1), speech_seconds=3)
    assert not is_plausible(segment("hmm", no_speech=0.9, logprob=-1.5), speech_seconds=1)
    assert not is_plausible(segment("Thank you.", no_speech=0.4, logprob=-0.7), speech_seconds=2)
    assert not is_plausible(segment("Thank you.", no_speech=0.05, logprob=-0.2), speech_seconds=0.2)
    assert is_plausible(segment("Thank you.", no_speech=0.05, logprob=-0.2), speech_seconds=1.0)


def test_words_outside_speech_regions_are_dropped():
    words = seq("one two three", start=0.0) + seq("ghost", start=5.0)
    kept = within_speech(words, [SpeechRegion(0.0, 1.0)])
    assert [w.key for w in kept] == ["one", "two", "three"]
    assert within_speech(words, []) == []


def test_bare_punctuation_is_not_a_word():
    words = seq("degree. . … 42 -- it's ____")
    assert [w.text for w in spoken(words)] == [" degree.", " 42", " it's"]


def test_a_loop_is_cut_and_the_words_before_it_kept():
    text = "and this spills over " + "theories. " * 30
    looped = segment(text, ratio=compression_ratio(text))
    assert looped.compression_ratio > 2.4
    assert [w.key for w in plausible_words(looped, 3.0)] == ["and", "this", "spills", "over", "theories"]
    noise = "Thank you. " * 20  # a loop of a known invention stays out once cut
    assert plausible_words(segment(noise, logprob=-0.8, ratio=compression_ratio(noise)), 3.0) == ()
    fine = segment("please enter your number")
    assert plausible_words(fine, 3.0) == fine.words


def test_committed_text_written_again_after_the_commit_is_cut():
    committed = seq("I am afraid I was unable to connect to the server. You may find help on the console.")
    end = committed[-1].end
    echo = seq("I am afraid I was unable to connect to the server.", start=end + 0.2)
    heard_again = seq("the console.", start=end - 0.6)  # the buffer's committed tail: the policy drops it
    new = seq("Goodbye now.", start=end + 0.2)
    assert cut_echo(heard_again + echo, committed, after=end) == heard_again
    assert cut_echo(heard_again + new, committed, after=end) == heard_again + new
    short = seq("to the server.", start=end + 0.2)  # a short phrase said again is speech
    assert cut_echo(short, committed, after=end) == short


def test_words_aligned_to_no_audio_are_cut_from_the_first_run_of_them():
    heard = seq("my fellow Americans.")
    end = heard[-1].end
    unheard = [TimedWord(" " + w, end + 0.3, end + 0.3) for w in ["and", "so", "my", "fellow", "Americans."]]
    assert cut_unheard(heard + unheard) == heard
    one_short_word = [*heard, TimedWord(" a", end, end), *seq("question", start=end + 0.1)]
    assert cut_unheard(one_short_word) == one_short_word, "a single zero-length word is alignment noise"
