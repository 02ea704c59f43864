"""The update a stream yields; ``to_dict()`` is exactly the `/asr` wire message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SILENCE_SPEAKER = -2

STATUS_ACTIVE = "active_transcription"
STATUS_NO_AUDIO = "no_audio_detected"
STATUS_ERROR = "error"


def format_time(seconds: float) -> str:
    """``H:MM:SS.cc`` as WhisperLiveKit clients parse it (centiseconds, hours unpadded)."""
    total_cs = max(0, round(seconds * 100))
    total_s, cs = divmod(total_cs, 100)
    total_m, s = divmod(total_s, 60)
    h, m = divmod(total_m, 60)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


@dataclass(frozen=True)
class Line:
    """A committed caption line; ``speaker`` is -2 for a silence gap."""

    speaker: int
    text: str
    start: float
    end: float
    translation: str = ""
    detected_language: str = ""
    revised: bool = False  # its words were replaced by the utterance's final decode (app/core/revision.py)

    @property
    def is_silence(self) -> bool:
        return self.speaker == SILENCE_SPEAKER

    def to_dict(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "speaker": self.speaker,
            "text": self.text,
            "start": format_time(self.start),
            "end": format_time(self.end),
            "translation": self.translation,
            "detected_language": self.detected_language,
        }
        if self.revised:  # a Sayline field, only when true: WhisperLiveKit's clients never see it
            line["revised"] = True
        return line


@dataclass(frozen=True)
class FrontData:
    """One snapshot of a stream: everything a client needs to redraw its captions."""

    status: str = STATUS_NO_AUDIO
    lines: tuple[Line, ...] = field(default_factory=tuple)
    buffer_transcription: str = ""
    buffer_diarization: str = ""
    buffer_translation: str = ""
    remaining_time_transcription: float = 0.0
    remaining_time_diarization: float = 0.0
    error: str = ""
    refined: bool = False  # the whole session decoded again offline (app/core/refine.py)
    # speaker -> remembered name (app/core/diarization/profiles.py), for streams that asked for it
    speaker_names: tuple[tuple[int, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "status": self.status,
            "lines": [line.to_dict() for line in self.lines],
            "buffer_transcription": self.buffer_transcription,
            "buffer_diarization": self.buffer_diarization,
            "buffer_translation": self.buffer_translation,
            "remaining_time_transcription": self.remaining_time_transcription,
            "remaining_time_diarization": self.remaining_time_diarization,
        }
        if self.error:
            message["error"] = self.error
        if self.refined:  # a Sayline field, only when true
            message["refined"] = True
        if self.speaker_names:  # a Sayline field, only when a remembered voice was recognised
            message["speaker_names"] = {str(speaker): name for speaker, name in self.speaker_names}
        return message

    @property
    def text(self) -> str:
        """The committed transcript as plain text, silence lines left out."""
        return " ".join(line.text for line in self.lines if not line.is_silence and line.text)
