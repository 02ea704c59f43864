"""Which codes a translation target may use: Whisper's languages and the installed pairs' own.

Apart from ``base`` (what every translator is) because it asks the installed Argos pairs,
and apart from ``argos`` because the Whisper translator and the stream choices check targets too.
"""

from __future__ import annotations

from app.core.languages import whisper_languages
from app.core.translation.argos import installed_pairs
from app.core.translation.base import TranslationError


def known_language_codes() -> frozenset[str]:
    """Codes a target may use: every language Whisper knows, and those of the installed pairs.

    Argos has a few codes of its own (``zt`` for traditional Chinese, ``pb`` for Brazilian
    Portuguese); an installed pair makes its codes valid.
    """
    installed = {code for pair in installed_pairs() for code in (pair.source, pair.target)}
    return whisper_languages() | installed


def normalise_target(code: str) -> str:
    """A lower-case target code, or TranslationError for one no language has."""
    target = code.strip().lower()
    if target not in known_language_codes():
        raise TranslationError(
            f"Unknown target language code {code!r}; use a two-letter code such as en, de, fr or es."
        )
    return target
