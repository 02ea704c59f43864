"""Live translation of captions: Argos language pairs (text) and Whisper (speech → English)."""

from app.core.translation.base import BACKENDS, LanguagePair, TranslationError, Translator
from app.core.translation.factory import open_translator

__all__ = ["BACKENDS", "LanguagePair", "TranslationError", "Translator", "open_translator"]
