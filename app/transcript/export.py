"""Caption lines as TXT, SRT, WebVTT and JSON (the final wire message).

A translated line carries its translation under the original: a second line in a subtitle
cue (as bilingual subtitles do), an arrowed line in plain text, a field in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from app.core.frontdata import FrontData, Line

FORMATS = ("txt", "srt", "vtt", "json")


def _clock(seconds: float, decimal: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{decimal}{ms:03d}"


def _spoken(lines: Sequence[Line]) -> list[Line]:
    return [line for line in lines if not line.is_silence and line.text]


def _translation(line: Line) -> str:
    """The translation worth printing: none when it is the same text (the line was already in the target)."""
    return line.translation if line.translation and line.translation != line.text else ""


def _cue(line: Line) -> str:
    return f"{line.text}\n{_translation(line)}" if _translation(line) else line.text


def to_txt(update: FrontData) -> str:
    return "".join(
        f"{line.text}\n" + (f"→ {_translation(line)}\n" if _translation(line) else "")
        for line in _spoken(update.lines)
    )


def to_srt(update: FrontData) -> str:
    cues = [
        f"{i}\n{_clock(line.start, ',')} --> {_clock(line.end, ',')}\n{_cue(line)}\n"
        for i, line in enumerate(_spoken(update.lines), start=1)
    ]
    return "\n".join(cues)


def to_vtt(update: FrontData) -> str:
    cues = [
        f"{_clock(line.start, '.')} --> {_clock(line.end, '.')}\n{_cue(line)}\n"
        for line in _spoken(update.lines)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def to_json(update: FrontData) -> str:
    return json.dumps(update.to_dict(), ensure_ascii=False, indent=2) + "\n"


EXPORTERS: dict[str, Callable[[FrontData], str]] = {
    "txt": to_txt,
    "srt": to_srt,
    "vtt": to_vtt,
    "json": to_json,
}
