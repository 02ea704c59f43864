"""The terminal printer of `sayline transcribe`: lines once final, and who said them when asked."""

import io

from app.console import LivePrinter, describe
from app.core.frontdata import FrontData, Line


def lines(*items: tuple[int, str, float]) -> tuple[Line, ...]:
    return tuple(Line(speaker, text, start, start + 1.0) for speaker, text, start in items)


def test_with_speakers_each_printed_line_names_its_speaker():
    out = io.StringIO()
    printer = LivePrinter(out, speakers=True)
    first = (1, "Please enter your number.", 0.6)
    printer.update(FrontData(lines=lines(first, (2, "And Mister", 4.7))))
    assert out.getvalue() == "0:00:00.60  Speaker 1: Please enter your number.\n"  # the last may grow
    printer.finish(FrontData(lines=lines(first, (2, "And Mister Dashwood.", 4.7))))
    assert out.getvalue().splitlines()[-1] == "0:00:04.70  Speaker 2: And Mister Dashwood."


def test_without_speakers_lines_are_printed_as_said():
    assert describe(Line(1, "Ask not.", 2.0, 3.0)) == "0:00:02.00  Ask not."
    assert describe(Line(-2, "", 3.0, 5.5), speakers=True) == "0:00:03.00  (pause, 2.5 s)"
