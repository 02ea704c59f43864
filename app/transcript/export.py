"""Caption lines as TXT, SRT, WebVTT and JSON (the final wire message).

A translated line carries its translation under the original: a second line in a subtitle
cue (as bilingual subtitles do), an arrowed line in plain text, a field in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from app.core.frontdata import FrontData, Line

FORMATS = ("txt", "srt", "vtt", "json")
LabelFor = Callable[[int], str]


def speaker_label(speaker: int) -> str:
    return f"Speaker {speaker}" if speaker > 0 else ""


def _clock(seconds: float, decimal: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{decimal}{ms:03d}"


def _spoken(lines: Sequence[Line]) -> list[Line]:
    return [line for line in lines if not line.is_silence and line.text]


def _names(update: FrontData, label_for: LabelFor) -> dict[int, str]:
    """Speaker number -> name, only once two people spoke: one voice needs no name tags."""
    speakers = sorted({line.speaker for line in _spoken(update.lines)})
    return {speaker: label_for(speaker) for speaker in speakers} if len(speakers) > 1 else {}


def _translation(line: Line) -> str:
    """The translation worth printing: none when it is the same text (the line was already in the target)."""
    return line.translation if line.translation and line.translation != line.text else ""


def _said(line: Line, names: dict[int, str], voice_tags: bool = False) -> str:
    """A line's text with its speaker: ``Dana: …``, or WebVTT's ``<v Dana>…``."""
    name = names.get(line.speaker)
    if not name:
        return line.text
    return f"<v {name}>{line.text}" if voice_tags else f"{name}: {line.text}"


def _cue(line: Line, names: dict[int, str], voice_tags: bool = False) -> str:
    """A subtitle cue: the line with its speaker, its translation below."""
    said = _said(line, names, voice_tags)
    return f"{said}\n{_translation(line)}" if _translation(line) else said


def to_txt(update: FrontData, label_for: LabelFor = speaker_label) -> str:
    names = _names(update, label_for)
    return "".join(
        f"{_said(line, names)}\n" + (f"→ {_translation(line)}\n" if _translation(line) else "")
        for line in _spoken(update.lines)
    )


def to_srt(update: FrontData, label_for: LabelFor = speaker_label) -> str:
    names = _names(update, label_for)
    cues = [
        f"{i}\n{_clock(line.start, ',')} --> {_clock(line.end, ',')}\n{_cue(line, names)}\n"
        for i, line in enumerate(_spoken(update.lines), start=1)
    ]
    return "\n".join(cues)


def to_vtt(update: FrontData, label_for: LabelFor = speaker_label) -> str:
    """Speakers as WebVTT voice spans (``<v Dana>``), which players show as the speaker's name."""
    names = _names(update, label_for)
    cues = [
        f"{_clock(line.start, '.')} --> {_clock(line.end, '.')}\n{_cue(line, names, voice_tags=True)}\n"
        for line in _spoken(update.lines)
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def to_json(update: FrontData, label_for: LabelFor = speaker_label) -> str:
    """The final wire message, plus the speakers' names when there is more than one speaker."""
    message = update.to_dict()
    names = _names(update, label_for)
    if names:
        message["speaker_names"] = {str(speaker): name for speaker, name in names.items()}
    return json.dumps(message, ensure_ascii=False, indent=2) + "\n"


EXPORTERS: dict[str, Callable[[FrontData, LabelFor], str]] = {
    "txt": to_txt,
    "srt": to_srt,
    "vtt": to_vtt,
    "json": to_json,
}
