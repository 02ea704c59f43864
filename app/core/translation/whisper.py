"""Whisper's own speech translation: any language it hears, into English, with no extra model.

It translates the line's audio rather than its text, so it needs the stage to keep the
recent audio; it decodes on the ASR worker, only while no transcription is waiting.
"""

from __future__ import annotations

import numpy as np

from app.core.engine import TranscriptionEngine
from app.core.translation.base import LanguagePair, TranslationError
from app.core.translation.targets import normalise_target

TARGET = "en"


class WhisperTranslator:
    name = "whisper"
    needs_audio = True

    def __init__(self, engine: TranscriptionEngine) -> None:
        if not engine.is_multilingual:
            raise TranslationError(
                f"The {engine.model_name} model is English-only and cannot translate; use the base model."
            )
        self.engine = engine

    def pairs(self) -> list[LanguagePair]:
        return [LanguagePair("any", TARGET)]

    def check(self, source: str | None, target: str) -> None:
        if normalise_target(target) != TARGET:
            raise TranslationError(
                f"Whisper translates into English only, not {target!r}; install an Argos language pair "
                f"for {target}."
            )

    def translate(self, text: str, source: str, target: str, audio: np.ndarray | None = None) -> str:
        if source == target:
            return text
        return self.engine.decode_translation(_required(audio), source or None)

    async def atranslate(self, text: str, source: str, target: str, audio: np.ndarray | None = None) -> str:
        if source == target:
            return text
        return await self.engine.translate_speech(_required(audio), source or None)


def _required(audio: np.ndarray | None) -> np.ndarray:
    if audio is None or audio.size == 0:
        raise TranslationError("Whisper translation needs the line's audio, and none was kept.")
    return audio
