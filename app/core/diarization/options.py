"""What a stream asks of diarization; ``None`` in its place means "off" (everyone is speaker 1)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.diarization.errors import DiarizationError

MAX_SPEAKERS_LIMIT = 8  # the clusterer compares every pairing, which stays cheap up to here


@dataclass(frozen=True)
class DiarizationOptions:
    backend: str = "default"
    max_speakers: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.max_speakers <= MAX_SPEAKERS_LIMIT:
            raise DiarizationError(
                f"The maximum number of speakers must be between 1 and {MAX_SPEAKERS_LIMIT}, "
                f"not {self.max_speakers}."
            )
