from app.core.frontdata import SILENCE_SPEAKER
from app.core.lines import LineBuilder
from app.core.words import TimedWord


def w(text: str, start: float, end: float) -> TimedWord:
    return TimedWord(text, start, end)


def test_words_grow_the_last_line_until_a_sentence_ends():
    builder = LineBuilder()
    builder.add_words([w(" Hello", 0.5, 0.8), w(" there.", 0.8, 1.2)], language="en")
    builder.add_words([w(" How", 1.5, 1.7)], language="en")
    builder.add_words([w(" are", 1.7, 1.8), w(" you?", 1.8, 2.0)], language="en")
    lines = builder.lines
    assert [line.text for line in lines] == ["Hello there.", "How are you?"]
    assert (lines[0].start, lines[0].end) == (0.5, 1.2)
    assert (lines[1].start, lines[1].end) == (1.5, 2.0)
    assert all(line.speaker == 1 and line.detected_language == "en" for line in lines)


def test_a_pause_of_two_seconds_becomes_a_growing_silence_line():
    builder = LineBuilder(silence_gap_s=2.0)
    builder.add_words([w(" Yes", 0.0, 0.5)])
    builder.note_silence(0.5, 2.0)
    assert len(builder.lines) == 1
    builder.note_silence(0.5, 2.6)
    builder.note_silence(0.5, 4.0)
    assert len(builder.lines) == 2
    silence = builder.lines[-1]
    assert silence.is_silence and (silence.start, silence.end) == (0.5, 4.0)
    builder.add_words([w(" no", 4.2, 4.5)])
    assert [line.text for line in builder.lines] == ["Yes", "", "no"]


def test_no_silence_line_before_anything_was_said():
    builder = LineBuilder()
    builder.note_silence(0.0, 10.0)
    assert builder.lines == ()


def test_very_long_lines_are_broken():
    builder = LineBuilder(max_line_chars=20)
    builder.add_words([w(f" word{i}", i, i + 0.5) for i in range(10)])
    assert len(builder.lines) > 1
    assert all(len(line.text) <= 26 for line in builder.lines)
    assert " ".join(line.text for line in builder.lines) == " ".join(f"word{i}" for i in range(10))


def test_speaker_change_starts_a_line():
    builder = LineBuilder()
    builder.add_words([w(" hi", 0, 0.2)], speaker=1)
    builder.add_words([w(" hey", 0.3, 0.5)], speaker=2)
    assert [(line.speaker, line.text) for line in builder.lines] == [(1, "hi"), (2, "hey")]


def test_a_full_stop_followed_by_a_lower_case_word_does_not_break_the_line():
    builder = LineBuilder()
    builder.add_words([w(" see", 0, 0.2), w(" it.", 0.2, 0.4)])
    builder.add_words([w(" in", 0.5, 0.6), w(" the", 0.6, 0.7), w(" end.", 0.7, 0.9)])
    builder.add_words([w(" Next", 1.0, 1.2)])
    assert [line.text for line in builder.lines] == ["see it. in the end.", "Next"]


def test_respeak_moves_words_to_another_speaker_and_leaves_earlier_lines_alone():
    builder = LineBuilder(silence_gap_s=2.0)
    first = [w(" Press", 0.0, 0.3), w(" two.", 0.3, 0.6)]
    builder.add_words(first, speaker=1)
    builder.note_silence(0.6, 3.0)
    turn = [w(" Eight", 3.0, 3.3), w(" of", 3.3, 3.5)]
    builder.add_words(turn, speaker=2)
    builder.add_words([w(" spades", 3.5, 3.9)], speaker=3)
    untouched = builder.lines[0]
    builder.respeak({id(word): 3 for word in turn} | {id(first[0]): 1})
    assert [(line.speaker, line.text) for line in builder.lines] == [
        (1, "Press two."), (SILENCE_SPEAKER, ""), (3, "Eight of spades"),
    ]
    assert builder.lines[0] is untouched
    assert not builder.lines[-1].revised


def test_respeak_with_nothing_changed_places_nothing_again():
    builder = LineBuilder()
    words = [w(" hi", 0, 0.2)]
    builder.add_words(words, speaker=1)
    before = builder.lines
    builder.respeak({id(words[0]): 1})
    assert builder.lines == before and builder.lines[0] is before[0]
