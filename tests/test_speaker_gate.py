"""The speaker gate: committed words wait for their speaker, then become lines (pure)."""

from __future__ import annotations

from app.core.lines import LineBuilder
from app.core.speaker_gate import SpeakerGate
from app.core.words import TimedWord


class Turns:
    """A speaker source with fixed turns and a coverage the test moves by hand."""

    def __init__(self, turns: list[tuple[float, float, int]]) -> None:
        self.turns = turns
        self.covered_until = 0.0
        self.relabels = 0

    def correct(self, turns: list[tuple[float, float, int]]) -> None:
        """The diarizer's history changed (it found out who said a turn's first words)."""
        self.turns = turns
        self.relabels += 1

    def speaker_for(self, start: float, end: float) -> int | None:
        best = max(self.turns, key=lambda t: min(end, t[1]) - max(start, t[0]))
        return best[2] if min(end, best[1]) - max(start, best[0]) > 0 else None


def _words(*spec: tuple[str, float, float]) -> list[TimedWord]:
    return [TimedWord(f" {text}", start, end) for text, start, end in spec]


def test_without_a_diarizer_words_pass_straight_through_as_speaker_one():
    gate = SpeakerGate(LineBuilder())
    gate.add_words(_words(("Hello", 0.0, 0.4), ("there.", 0.4, 0.8)), "en")
    assert [(line.speaker, line.text) for line in gate.lines.lines] == [(1, "Hello there.")]
    assert gate.waiting_text == ""


def test_words_wait_until_covered_then_take_the_speaker_of_their_time():
    source = Turns([(0.0, 1.0, 1), (1.2, 3.0, 2)])
    gate = SpeakerGate(LineBuilder())
    gate.attach(source)
    gate.add_words(_words(("Hi", 0.1, 0.4), ("Dana", 0.5, 0.9), ("hello", 1.3, 1.6), ("Sam", 1.7, 2.0)), "en")
    assert gate.lines.lines == () and gate.waiting_text == " Hi Dana hello Sam"
    source.covered_until = 1.0
    gate.release()
    assert [(line.speaker, line.text) for line in gate.lines.lines] == [(1, "Hi Dana")]
    assert gate.waiting_text == " hello Sam"
    gate.release(final=True)
    assert [(line.speaker, line.text) for line in gate.lines.lines] == [(1, "Hi Dana"), (2, "hello Sam")]


def test_a_word_nobody_is_heard_in_keeps_the_previous_speaker():
    source = Turns([(0.0, 1.0, 2)])
    gate = SpeakerGate(LineBuilder())
    gate.attach(source)
    gate.add_words(_words(("One", 0.2, 0.5), ("two", 5.0, 5.3)), "en")
    gate.release(final=True)
    assert [(line.speaker, line.text) for line in gate.lines.lines] == [(2, "One two")]


def test_a_pause_waits_for_the_words_before_it():
    source = Turns([(0.0, 1.0, 1)])
    gate = SpeakerGate(LineBuilder(silence_gap_s=2.0))
    gate.attach(source)
    gate.add_words(_words(("Hi.", 0.2, 0.5)), "en")
    gate.note_silence(0.5, 4.0)  # the word is not on screen yet: no pause line before it
    assert gate.lines.lines == ()
    source.covered_until = 1.0
    gate.release()
    gate.note_silence(0.5, 4.5)
    assert [line.speaker for line in gate.lines.lines] == [1, -2]


def test_a_corrected_history_moves_released_words_to_their_speaker():
    source = Turns([(0.0, 1.0, 1), (1.0, 2.0, 1), (2.0, 3.0, 2)])
    gate = SpeakerGate(LineBuilder())
    gate.attach(source)
    gate.add_words(_words(("Hi", 0.1, 0.4), ("Dana.", 0.5, 0.9), ("Eight", 1.2, 1.5), ("of", 1.6, 1.8)), "en")
    source.covered_until = 2.0
    gate.release()
    assert [(line.speaker, line.text) for line in gate.lines.lines] == [(1, "Hi Dana."), (1, "Eight of")]
    gate.add_words(_words(("spades", 2.1, 2.5)), "en")
    source.correct([(0.0, 1.0, 1), (1.0, 3.0, 2)])
    source.covered_until = 3.0
    gate.release()
    lines = gate.lines.lines
    assert [(line.speaker, line.text) for line in lines] == [(1, "Hi Dana."), (2, "Eight of spades")]


def test_words_past_the_horizon_are_never_moved():
    source = Turns([(0.0, 1.0, 1), (20.0, 21.0, 1)])
    gate = SpeakerGate(LineBuilder())
    gate.attach(source)
    gate.add_words(_words(("Old.", 0.2, 0.6)), "en")
    gate.add_words(_words(("New", 20.2, 20.6)), "en")
    source.covered_until = 21.0
    gate.release()
    source.correct([(0.0, 1.0, 3), (20.0, 21.0, 3)])
    gate.release()
    assert [(line.speaker, line.text) for line in gate.lines.lines] == [(1, "Old."), (3, "New")]
