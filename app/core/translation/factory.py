"""Picking the translator for a stream, checked before any audio flows (a 4400 on the server)."""

from __future__ import annotations

from app.core.engine import TranscriptionEngine
from app.core.translation.argos import shared_argos
from app.core.translation.base import BACKENDS, TranslationError, Translator
from app.core.translation.targets import normalise_target
from app.core.translation.whisper import TARGET as WHISPER_TARGET
from app.core.translation.whisper import WhisperTranslator


def open_translator(
    backend: str, engine: TranscriptionEngine, source: str | None, target: str
) -> Translator:
    """A translator that can take ``source`` (None: whatever is detected) to ``target``.

    ``auto`` prefers an installed Argos pair and falls back to Whisper for English, so
    ``target_language=en`` works out of the box with the multilingual base model.
    """
    target = normalise_target(target)
    if not engine.is_multilingual:
        source = source or "en"  # an English-only model hears nothing else
    if backend not in BACKENDS:
        raise TranslationError(f"Unknown translator {backend!r}; use one of {', '.join(BACKENDS)}.")
    if backend == "whisper":
        translator: Translator = WhisperTranslator(engine)
        translator.check(source, target)
        return translator
    try:
        argos = shared_argos()
        argos.check(source, target)
        return argos
    except TranslationError:
        if backend == "argos" or target != WHISPER_TARGET or not engine.is_multilingual:
            raise
    return WhisperTranslator(engine)
