"""What one stream is asked to do, validated once, in one place.

Every way in (the desktop app's settings, the command line, a server's defaults, an `/asr`
query, an upload's form) builds or adjusts one :class:`StreamChoices`; the processor takes
it whole. A new per-stream option is a field here, its check in ``__post_init__``, its query
name in :data:`QUERY_FIELDS`, and the code that uses it: nothing in between carries it by hand.
What depends on the loaded model (English-only models, installed language pairs) is checked
when the stream opens, since only the engine knows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.core.diarization import DiarizationError, DiarizationOptions
from app.core.languages import LanguageError, validate_language
from app.core.policy import DEFAULT_POLICY, POLICIES
from app.core.translation.base import BACKENDS as TRANSLATORS
from app.core.translation.base import TranslationError
from app.core.translation.targets import normalise_target


class ChoiceError(ValueError):
    """A choice no stream can take; ``str()`` is one sentence saying what would work."""


@dataclass(frozen=True)
class StreamChoices:
    language: str | None = None  # None: detect (an English-only model hears English)
    policy: str = DEFAULT_POLICY  # when words become final: a name in app.core.policy.POLICIES
    diarization: DiarizationOptions | None = None  # None: no speaker labels
    target_language: str = ""  # "": no translation
    translator: str = "auto"  # auto | argos | whisper (app/core/translation/factory.py)
    translate_buffer: bool = True  # also translate the live, uncommitted text about every 0.5 s
    revise: bool = True  # decode each finished utterance again with beam search (app/core/revision.py)
    profiles: bool = False  # name speakers whose voice was remembered (app/core/diarization/profiles.py)

    def __post_init__(self) -> None:
        try:
            language = validate_language(self.language, multilingual=True)
            target = normalise_target(self.target_language) if self.target_language.strip() else ""
        except (LanguageError, TranslationError) as exc:
            raise ChoiceError(str(exc)) from None
        policy = self.policy.strip().lower()
        if policy not in POLICIES:
            raise ChoiceError(f"Unknown policy {self.policy!r}; use one of: {', '.join(sorted(POLICIES))}.")
        if self.translator not in TRANSLATORS:
            known = ", ".join(TRANSLATORS)
            raise ChoiceError(f"Unknown translator {self.translator!r}; use one of: {known}.")
        if self.profiles and self.diarization is None:
            raise ChoiceError("Remembered voices (profiles) need speaker labels, which this stream has off.")
        object.__setattr__(self, "language", language)
        object.__setattr__(self, "target_language", target)
        object.__setattr__(self, "policy", policy)

    def replace(self, **changes: object) -> StreamChoices:
        """A copy with ``changes``, validated again (a bad value is a ChoiceError)."""
        return dataclasses.replace(self, **changes)

    def with_query(self, query: Mapping[str, str]) -> StreamChoices:
        """These choices with a client's overrides (the `/asr` query's own names) applied."""
        changes: dict[str, object] = {}
        for name, value in query.items():
            apply = QUERY_FIELDS.get(name)
            if apply is not None:
                changes.update(apply(self, value))
        return self.replace(**changes)


def parse_switch(name: str, value: str) -> bool | None:
    """A yes/no parameter: 1/0, true/false, yes/no, on/off; None (the default) when empty."""
    word = value.strip().lower()
    if not word:
        return None
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ChoiceError(f"{name} must be 1 or 0, not {value!r}.")


def _switch(name: str) -> Callable[[StreamChoices, str], dict[str, object]]:
    """A yes/no query parameter for the choice ``name``; empty keeps the default."""

    def parse(_choices: StreamChoices, value: str) -> dict[str, object]:
        switched = parse_switch(name, value)
        return {} if switched is None else {name: switched}

    return parse


_YES = ("1", "true", "yes", "on")
_NO = ("0", "false", "no", "off")


def _max_speakers(choices: StreamChoices, value: str) -> dict[str, object]:
    if choices.diarization is None:
        raise ChoiceError("max_speakers needs speaker labels, which this server was started without.")
    try:
        return {"diarization": dataclasses.replace(choices.diarization, max_speakers=int(value))}
    except ValueError:
        raise ChoiceError(f"max_speakers must be a whole number, not {value!r}.") from None
    except DiarizationError as exc:
        raise ChoiceError(str(exc)) from None


QUERY_FIELDS = {
    "language": lambda _choices, value: {"language": value} if value.strip() else {},  # "": the default
    "target_language": lambda _choices, value: {"target_language": value},  # "": off
    "policy": lambda _choices, value: {"policy": value} if value.strip() else {},
    "max_speakers": _max_speakers,
    "revise": _switch("revise"),
    "profiles": _switch("profiles"),
}
"""`/asr` query parameters that override a stream choice, each as ``(choices, value) -> changes``."""
