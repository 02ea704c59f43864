"""bench/gate_replay.py: the words' final speakers are read back from the lines they ended up on."""

from app.core.frontdata import SILENCE_SPEAKER, Line
from bench.diarize_live import AttributedWord
from bench.gate_replay import final_attribution


def test_each_word_takes_the_speaker_of_the_line_spanning_its_middle():
    lines = [
        Line(1, "Press two.", 0.0, 1.0),
        Line(SILENCE_SPEAKER, "", 1.0, 4.0),
        Line(3, "Eight of", 4.0, 4.6),  # its first word touches the silence line's end
    ]
    shown = [
        AttributedWord("Press", 0.0, 0.4, 1, 1.5),
        AttributedWord("two.", 0.5, 1.0, 1, 1.5),
        AttributedWord("Eight", 4.0, 4.3, 2, 5.0),  # first shown as speaker 2, then moved
        AttributedWord("of", 4.3, 4.6, 2, 5.0),
    ]
    final = final_attribution(lines, shown)
    assert [w.speaker for w in final] == [1, 1, 3, 3]
    assert [(w.text, w.at_s) for w in final] == [(w.text, w.at_s) for w in shown]
