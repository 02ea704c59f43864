"""Which spoken-language codes a model accepts, checked before any audio is processed.

A bad code would otherwise surface as an exception deep inside a decode, seconds into
the stream; checking up front turns it into one sentence (and a 4400 close on the server).
"""

from __future__ import annotations

AUTO = "auto"


def whisper_languages() -> frozenset[str]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


class LanguageError(ValueError):
    """An unusable language code; ``str()`` says what would work."""


def validate_language(code: str | None, multilingual: bool) -> str | None:
    """The code to decode with (None: detect), or LanguageError with a sentence."""
    if code is None or code.strip().lower() in ("", AUTO):
        return None
    code = code.strip().lower()
    if not multilingual:
        if code != "en":
            raise LanguageError(
                f"This model understands English only, not {code!r}; "
                "choose English (en) or the multilingual base model."
            )
        return code
    if code not in whisper_languages():
        raise LanguageError(
            f"Unknown language code {code!r}; use a two-letter code such as en, de, fr, es, or auto."
        )
    return code
