"""What the main window offers as translation targets: no Qt here, so it is tested plainly."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.translation.argos import ArgosTranslator
from app.core.translation.whisper import TARGET as WHISPER_TARGET

OFF = ("", "Off")


@dataclass(frozen=True)
class TranslationChoices:
    targets: list[tuple[str, str]]  # (code, label), "Off" first
    installed: list[str]  # the installed pairs, as labels


def translation_targets(current: str = "") -> TranslationChoices:
    """Off, English through Whisper, every target the installed Argos pairs reach (pivots too).

    Reading the installed pairs is a few small JSON files: cheap enough for the GUI thread.
    ``current`` stays listed even when its pair was removed, so the choice is not silently lost.
    """
    argos = ArgosTranslator()
    reachable: dict[str, list[str]] = {}
    for pair in argos.pairs():
        reachable.setdefault(pair.target, []).append(pair.source)
    targets = [OFF, (WHISPER_TARGET, "English" + ("" if WHISPER_TARGET in reachable else " (Whisper)"))]
    for code in sorted(reachable):
        if code != WHISPER_TARGET:
            targets.append((code, f"{code} (from {', '.join(sorted(reachable[code]))})"))
    if current and current not in {code for code, _ in targets}:
        targets.append((current, f"{current} (not installed)"))
    return TranslationChoices(targets, [pair.label for pair in argos.installed])
