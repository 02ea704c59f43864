"""Remembered voices: a name and a CAM++ voice vector, kept across sessions, nothing else.

A speaker of a session gets a remembered name only when its voice is heard well enough
(``min_seconds`` of clear speech in its running centroid) and is closer than
``threshold`` to exactly that profile; each name goes to one speaker at most. A voice like
no profile keeps its number: a name is never forced on a stranger. The threshold comes
from bench/profiles.py (false accepts and false rejects on the eval voices).

The store is one JSON file in the data dir, 0600, written whole and renamed into place,
so a crash mid-save leaves the previous list. It holds names, vectors, how many seconds
of speech made each vector and when; no audio and no transcript.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app.core.diarization.clusters import HeardVoice
from app.core.diarization.outputs import EMBEDDING_SIZE, unit_length
from app.paths import data_dir
from app.private_files import private_dir, replace_private

log = logging.getLogger(__name__)

MIN_ENROL_SECONDS = 10.0  # clear speech a voice needs before it can be remembered
MAX_NAME_CHARS = 60
MAX_PROFILES = 200  # a list a person manages by hand; bounds what a session compares against


class ProfileError(ValueError):
    """A profile cannot be stored or read; ``str()`` is one sentence for the user."""


@dataclass(frozen=True)
class VoiceProfile:
    name: str
    vector: np.ndarray  # unit length, EMBEDDING_SIZE floats
    seconds: float  # clear speech behind the vector
    created: str  # ISO date


@dataclass(frozen=True)
class MatchSettings:
    # bench/profiles.py, two seeds of 30 sessions (bench/README.md, "Remembered voices"): the lowest
    # threshold at which no stranger was ever named (0 of 89) nor a wrong name given; the closest
    # stranger, a Russian IVR voice against Carlo's profile, scored 0.67. It names 89 % of
    # remembered people by the end of a 40 s session (0.5 would name 96 %, and a stranger 1 in 46).
    threshold: float = 0.75
    min_seconds: float = 4.0  # a speaker's centroid needs this much speech before it is named


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ProfileError("A remembered voice needs a name.")
    if len(cleaned) > MAX_NAME_CHARS:
        raise ProfileError(f"A name can be at most {MAX_NAME_CHARS} characters long.")
    return cleaned


def names_for(
    voices: Sequence[HeardVoice], profiles: Sequence[VoiceProfile], settings: MatchSettings
) -> dict[int, str]:
    """Session speaker -> remembered name, for the voices that match a profile well enough.

    Pairs are taken from the most similar down, each speaker and each name once, so two
    speakers never share a name and a name goes to the voice most like it.
    """
    ready = [v for v in voices if v.seconds >= settings.min_seconds]
    if not ready or not profiles:
        return {}
    matrix = np.stack([p.vector for p in profiles])
    similarity = np.stack([matrix @ unit_length(v.vector) for v in ready])  # (speakers, profiles)
    names: dict[int, str] = {}
    taken: set[int] = set()
    for flat in np.argsort(similarity, axis=None)[::-1]:
        s, p = divmod(int(flat), len(profiles))
        if similarity[s, p] < settings.threshold:
            break
        if ready[s].speaker not in names and p not in taken:
            names[ready[s].speaker] = profiles[p].name
            taken.add(p)
    return names


def profiles_path() -> Path:
    return data_dir() / "voices.json"


class ProfileStore:
    """The remembered voices on disk; every change is saved at once."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or profiles_path()

    def load(self) -> list[VoiceProfile]:
        """The stored profiles; a missing file is none, a damaged one is a ProfileError."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ProfileError(f"The remembered voices in {self.path} cannot be read ({exc}).") from None
        try:
            return [_profile_from(entry) for entry in raw["voices"]][:MAX_PROFILES]
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError(f"The remembered voices in {self.path} are damaged ({exc}).") from None

    def remember(self, name: str, vector: np.ndarray, seconds: float) -> VoiceProfile:
        """Store a voice under ``name`` (replacing a voice of that name)."""
        name = clean_name(name)
        if seconds < MIN_ENROL_SECONDS:
            raise ProfileError(
                f"Sayline needs about {MIN_ENROL_SECONDS:.0f} s of clear speech to remember a voice; "
                f"it has heard {seconds:.0f} s of this one so far."
            )
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.size != EMBEDDING_SIZE or not np.isfinite(vector).all():
            raise ProfileError("This voice has no usable voice vector to remember.")
        profile = VoiceProfile(name, unit_length(vector), float(seconds), time.strftime("%Y-%m-%d"))
        kept = [p for p in self.load() if p.name.casefold() != name.casefold()]
        if len(kept) >= MAX_PROFILES:
            raise ProfileError(f"At most {MAX_PROFILES} voices can be remembered; forget one first.")
        self._save([*kept, profile])
        return profile

    def rename(self, old: str, new: str) -> None:
        new = clean_name(new)
        profiles = self.load()
        if not any(p.name == old for p in profiles):
            raise ProfileError(f"No remembered voice is called {old!r}.")
        if new.casefold() != old.casefold() and any(p.name.casefold() == new.casefold() for p in profiles):
            raise ProfileError(f"A remembered voice is already called {new!r}.")
        self._save([replace(p, name=new) if p.name == old else p for p in profiles])

    def forget(self, name: str) -> None:
        self._save([p for p in self.load() if p.name != name])

    def _save(self, profiles: list[VoiceProfile]) -> None:
        private_dir(self.path.parent)
        entries = [
            {"name": p.name, "vector": [round(float(x), 6) for x in p.vector], "seconds": round(p.seconds, 1),
             "created": p.created}
            for p in profiles
        ]
        try:
            replace_private(self.path, json.dumps({"version": 1, "voices": entries}))
        except OSError as exc:
            raise ProfileError(f"The remembered voices cannot be saved to {self.path} ({exc}).") from None
        log.info("remembered voices: %d", len(profiles))


def _profile_from(entry: dict) -> VoiceProfile:
    vector = np.asarray(entry["vector"], dtype=np.float32)
    if vector.shape != (EMBEDDING_SIZE,) or not np.isfinite(vector).all():
        raise ValueError(f"voice {entry.get('name')!r} has a vector of the wrong shape")
    return VoiceProfile(clean_name(str(entry["name"])), unit_length(vector), float(entry["seconds"]),
                        str(entry.get("created", "")))
