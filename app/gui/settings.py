"""The app's settings: one typed, validated object, stored as JSON in the user's config folder.

Pure Python on purpose (no Qt): the settings can be loaded, checked and tested without a display,
and the engine thread can read a `Settings` value safely because it is frozen. A bad or partly
bad file never stops the app: each unusable field falls back to its default on its own, the rest
is kept, and the caller gets one sentence to show the user.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import inspect
import json
import math
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from app.core.choices import StreamChoices
from app.core.diarization import DiarizationOptions
from app.core.languages import AUTO
from app.core.model_catalog import CATALOG
from app.core.model_download import installed_models
from app.core.policy import DEFAULT_POLICY, POLICIES
from app.core.translation.base import BACKENDS
from app.private_files import private_dir, replace_private

APP_NAME = "Sayline"
FILE_NAME = "settings.json"
CONFIG_DIR_ENV = "SAYLINE_CONFIG_DIR"  # overrides the folder; tests point it at a temp dir
FORMAT_VERSION = 1

# Each list the window offers is defined once, here: the keys are what settings.json stores and what
# the validators accept, the values the labels the window shows, in the order it shows them.
SOURCES = {
    "microphone": "Microphone", "system": "System audio", "both": "Both (meeting)", "app": "One application…",
}
OVERLAY_TRANSLATION = {  # what the overlay shows when translating
    "both": "Original and translation",
    "translation": "Translation only",
    "original": "Original only",
}
OVERLAY_LINES_RANGE = (1, 4)
# The app's looks (app/gui/theme.py holds their colours; a test keeps the two lists the same).
THEME_LABELS = {"dark": "Dark", "high_contrast": "High contrast"}
# How long the overlay keeps its last caption once the captions stop changing; 0: until the next.
# The dialog offers these; the file may hold any whole number of seconds in the range.
CAPTION_HOLD_CHOICES = {5: "5 s", 10: "10 s", 30: "30 s", 0: "Until the next caption"}
CAPTION_HOLD_RANGE = (0, 3600)
FONT_SIZE_RANGE = (12, 96)
OPACITY_RANGE = (0.0, 1.0)
PORT_RANGE = (1024, 65535)
ORIGIN_EXAMPLE = "chrome-extension://ID"
POLICY_PACKAGE = "app.core.policy"  # each policy's module there opens with when it makes words final

Rect = list[int]  # [x, y, w, h] in screen coordinates


# --- one validator per kind of value; each returns the cleaned value or raises ValueError -------
# The ValueError message is the "must be ..." half of the sentence the user sees.


def _choice(options: Collection[str]) -> Callable[[Any], str]:
    """One of ``options``, read at each check: a registry (POLICIES) is the list, not a copy of it."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise ValueError("must be one of " + ", ".join(options))
        return value

    return check


def _text(*, allow_empty: bool) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            raise ValueError("must be text" if allow_empty else "must be non-empty text")
        return value.strip()

    return check


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be text or null")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _whole(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        # bool is an int subclass; a float like 28.0 is what some editors write for 28.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return check


def _number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not low <= value <= high:
            raise ValueError(f"must be a number from {low:g} to {high:g}")
        return float(value)

    return check


_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def _color(value: Any) -> str:
    if not isinstance(value, str) or not _COLOR_RE.match(value):
        raise ValueError("must be a colour written like #ffffff")
    return value.lower()


def _geometry_map(value: Any) -> dict[str, Rect]:
    message = "must map screen names to [x, y, width, height]"
    if not isinstance(value, Mapping):
        raise ValueError(message)
    cleaned: dict[str, Rect] = {}
    for key, rect in value.items():
        if not isinstance(key, str) or not key or not isinstance(rect, (list, tuple)) or len(rect) != 4:
            raise ValueError(message)
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in rect) or min(rect[2:]) <= 0:
            raise ValueError(message)
        cleaned[key] = [int(n) for n in rect]
    return cleaned


def _speaker_names(value: Any) -> dict[str, str]:
    message = 'must map speaker numbers to names, like {"1": "Dana"}'
    if not isinstance(value, Mapping):
        raise ValueError(message)
    cleaned: dict[str, str] = {}
    for key, name in value.items():
        try:
            number = int(key)  # JSON keys are strings; Python callers may pass ints
        except (TypeError, ValueError):
            raise ValueError(message) from None
        if isinstance(key, bool) or not isinstance(name, str):
            raise ValueError(message)
        if name.strip():
            cleaned[str(number)] = name.strip()
    return cleaned


# scheme://host[:port] as a browser sends it in Origin: a name, an IPv4 or a bracketed IPv6, no path.
_ORIGIN_RE = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[a-z0-9._~-]+|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?",
    re.IGNORECASE,
)


def _clean_origin(entry: str) -> str | None:
    """``entry`` the way the server compares origins (lower case, no trailing slash), or None.

    Only real origins pass: ``*`` would let every web page the user opens drive the server,
    and a path or query never appears in a browser's Origin header, so one is a mistake.
    """
    text = entry.strip().removesuffix("/")
    match = _ORIGIN_RE.fullmatch(text)
    if match is None or (match["port"] is not None and not 1 <= int(match["port"]) <= 65535):
        return None
    return text.lower()


def _origin_problem(entry: str) -> str:
    shown = entry if len(entry) <= 80 else entry[:79] + "…"  # a pasted page of text stays one line
    return f"{shown!r} is not an origin: write scheme://host[:port] without a path, like {ORIGIN_EXAMPLE}"


def parse_origins(text: str) -> tuple[str, ...]:
    """The origins in a space- or comma-separated field, cleaned and without repeats.

    Raises ValueError naming the first entry that is not an origin, as one sentence for the user.
    """
    origins: dict[str, None] = {}
    for entry in re.split(r"[\s,]+", text.strip()):
        if not entry:
            continue
        cleaned = _clean_origin(entry)
        if cleaned is None:
            raise ValueError(_origin_problem(entry) + ".")
        origins[cleaned] = None
    return tuple(origins)


def _origins(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(entry, str) for entry in value):
        raise ValueError(f"must be a list of origins like {ORIGIN_EXAMPLE}")
    cleaned: dict[str, None] = {}
    for entry in value:
        origin = _clean_origin(entry)
        if origin is None:
            raise ValueError("must hold only origins; " + _origin_problem(entry))
        cleaned[origin] = None
    return tuple(cleaned)


ALERT_WORDS_MAX = 50
ALERT_WORD_CHARS = 60


def _alert_words(value: Any) -> dict[str, bool]:
    """Keyword alerts: word or phrase -> on, in the user's order; one entry per spelling (case aside)."""
    message = f'must map up to {ALERT_WORDS_MAX} words or names to true/false, like {{"Dana": true}}'
    if not isinstance(value, Mapping) or len(value) > ALERT_WORDS_MAX:
        raise ValueError(message)
    cleaned: dict[str, bool] = {}
    folded: set[str] = set()
    for word, on in value.items():
        if not isinstance(word, str) or not isinstance(on, bool) or len(word.strip()) > ALERT_WORD_CHARS:
            raise ValueError(message)
        text = " ".join(word.split())
        if text and text.casefold() not in folded:
            folded.add(text.casefold())
            cleaned[text] = on
    return cleaned


def _qt_state(value: Any) -> str | None:
    """Qt's saveGeometry() bytes, base64-encoded so they fit in JSON."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise TypeError
        base64.b64decode(value, validate=True)
    except (TypeError, binascii.Error):
        raise ValueError("must be base64 text or null") from None
    return value


_RULES: dict[str, Callable[[Any], Any]] = {
    "source": _choice(SOURCES),
    "input_device_id": _optional_text,
    "language": _text(allow_empty=False),
    "model": _text(allow_empty=False),
    "policy": _choice(POLICIES),
    "overlay_visible": _flag,
    "overlay_lines": _whole(*OVERLAY_LINES_RANGE),
    "font_family": _text(allow_empty=True),
    "font_size": _whole(*FONT_SIZE_RANGE),
    "text_color": _color,
    "background_color": _color,
    "background_opacity": _number(*OPACITY_RANGE),
    "outline": _flag,
    "theme": _choice(THEME_LABELS),
    "announce_captions": _flag,
    "click_through": _flag,
    "caption_hold_s": _whole(*CAPTION_HOLD_RANGE),
    "overlay_geometry": _geometry_map,
    "server_enabled": _flag,
    "server_port": _whole(*PORT_RANGE),
    "server_lan": _flag,
    "server_allowed_origins": _origins,
    "speaker_names": _speaker_names,
    "diarization": _flag,
    "target_language": _text(allow_empty=True),
    "translator": _choice(BACKENDS),
    "translate_live_text": _flag,
    "overlay_translation": _choice(OVERLAY_TRANSLATION),
    "revise_sentences": _flag,
    "recognise_voices": _flag,
    "refine_after_stop": _flag,
    "keep_session_audio": _flag,
    "alert_words": _alert_words,
    "alert_sound": _flag,
    "alert_notification": _flag,
    "window_geometry": _qt_state,
}


@dataclass(frozen=True)
class Settings:
    """Everything the user can choose, with the defaults a first run gets.

    Frozen so a value can be handed to another thread without copying; change it with
    `dataclasses.replace(settings, font_size=32)` (which validates again) or the helpers below.
    Constructing one with a bad value raises ValueError: a `Settings` in memory is always valid.
    """

    source: str = "microphone"  # "microphone" | "system" | "both" (meeting mode) | "app" (one application)
    input_device_id: str | None = None  # None: the system's default input
    language: str = "auto"
    model: str = "base"
    policy: str = DEFAULT_POLICY  # streaming policy: when words become final
    overlay_visible: bool = True
    # Overlay defaults follow caption-legibility guidance (DCMP Captioning Key, FCC 14-12, BBC
    # subtitle guidelines); tests/gui/test_accessibility.py checks them. A saved settings.json
    # keeps its own values: these reach new users only.
    # Two lines: the guidance's norm; more rolling text is harder to follow while watching.
    overlay_lines: int = 2
    font_family: str = ""  # "": the platform's default sans-serif face
    # 28 pt = 37 px at 96 dpi, above the 24 px floor for reading at a distance; small enough that
    # two lines of 32-42 characters (the overlay's default width, see overlay.DEFAULT_LINE_CHARS)
    # take about half of a 1080p screen's width.
    font_size: int = 28  # points
    text_color: str = "#ffffff"
    background_color: str = "#000000"
    # White on a 75% black box is over 10:1 (WCAG AAA) even over a white page (0.55 gave 4.8:1);
    # the outline keeps letters apart from the box's edge and the picture behind it.
    background_opacity: float = 0.75
    outline: bool = True
    click_through: bool = False
    caption_hold_s: int = 0  # the last caption's time on screen after the captions stop; 0: until the next
    # screen key (see overlay.screen_key) -> [x, y, w, h]; the last entry is the most recent.
    overlay_geometry: dict[str, Rect] = field(default_factory=dict)
    server_enabled: bool = False
    server_port: int = 8000
    # Other computers may connect: the server listens on every address and always wants a token.
    server_lan: bool = False
    # Web pages besides the server's own that may connect, e.g. a browser extension's.
    server_allowed_origins: tuple[str, ...] = ()
    speaker_names: dict[str, str] = field(default_factory=dict)  # {"1": "Dana"}
    diarization: bool = False  # tell speakers apart (Speaker 1, 2…)
    target_language: str = ""  # "": captions are not translated
    translator: str = "auto"  # auto | argos | whisper
    translate_live_text: bool = True  # also the not-yet-committed words, about every 0.5 s
    overlay_translation: str = "both"  # original | translation | both
    revise_sentences: bool = True  # decode each finished sentence again with a beam (StreamChoices.revise)
    recognise_voices: bool = True  # name speakers whose voice was remembered (StreamChoices.profiles)
    # After Stop, decode the session's audio again as a file run would and replace the live transcript.
    refine_after_stop: bool = True
    keep_session_audio: bool = False  # keep the session's audio beside its autosaved transcript
    # Keyword alerts (app/gui/keyword_alerts.py): words to listen for -> on, a chime, a desktop notification.
    alert_words: dict[str, bool] = field(default_factory=dict)  # {"Dana": true}
    alert_sound: bool = False
    alert_notification: bool = True
    theme: str = "dark"  # dark | high_contrast (black, white, yellow): the window and the overlay
    announce_captions: bool = False  # speak committed lines through the screen reader (opt-in)
    window_geometry: str | None = None  # base64 of QMainWindow.saveGeometry()

    def __post_init__(self) -> None:
        for name, check in _RULES.items():
            try:
                cleaned = check(getattr(self, name))
            except ValueError as error:
                raise ValueError(f"Setting {name} {error}.") from None
            object.__setattr__(self, name, cleaned)  # normalised copies (dicts, colours)

    def stream_choices(self, diarization_available: bool = True) -> StreamChoices:
        """Everything one stream is asked to do, built once from these settings.

        The live session, the local server's streams and its uploads all take this one object, so
        a per-stream option added to :class:`StreamChoices` needs no new parameter on the way.
        ``diarization_available`` is False where speaker labels cannot run (no PyTorch): the saved
        switch is then ignored rather than failing at Start. Raises ChoiceError (one sentence) for
        a choice no stream can take, such as a hand-edited target language.
        """
        speakers = self.diarization and diarization_available
        return StreamChoices(
            language=None if self.language == AUTO else self.language,
            policy=self.policy,
            diarization=DiarizationOptions() if speakers else None,
            profiles=speakers and self.recognise_voices,
            target_language=self.target_language,
            translator=self.translator,
            translate_buffer=self.translate_live_text,
            revise=self.revise_sentences,
        )

    def label_for(self, speaker: int) -> str:
        """The name shown before a speaker's captions: a user-given name or "Speaker N"."""
        name = self.speaker_names.get(str(speaker))
        if name:
            return name
        return f"Speaker {speaker}" if speaker > 0 else ""

    def with_overlay_geometry(self, screen_key: str, rect: Rect) -> Settings:
        """A copy with the overlay's place on one screen recorded as the most recent one."""
        places = {key: value for key, value in self.overlay_geometry.items() if key != screen_key}
        places[screen_key] = list(rect)
        return dataclasses.replace(self, overlay_geometry=places)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, in field order."""
        return {item.name: _plain(getattr(self, item.name)) for item in dataclasses.fields(self)}


def policy_labels() -> dict[str, str]:
    """Every streaming policy the engine knows, labelled, the default first and marked "(default)".

    Read from ``app.core.policy.POLICIES`` so a new policy shows in the window with no GUI edit.
    """
    others = sorted(name for name in POLICIES if name != DEFAULT_POLICY)
    return {
        DEFAULT_POLICY: f"{_policy_label(DEFAULT_POLICY)} (default)",
        **{name: _policy_label(name) for name in others},
    }


def model_labels(current: str) -> dict[str, str]:
    """The models the window's Model box offers, labelled: the bundled ones, the downloaded ones, ``current``.

    Read from the catalogue and the data dir, so a model downloaded in the Models dialog joins the
    box with no GUI edit. ``current`` is listed even when it is a folder path or was removed, so
    the box always shows the model actually chosen.
    """
    installed = set(installed_models())  # the bundled ones among them
    labels = {
        model.name: f"{model.name} ({'English' if model.english_only else 'multilingual'})"
        for model in CATALOG
        if model.name in installed
    }
    if current not in labels:
        shown = model_name(current)
        labels[current] = current if shown == current else f"{shown} (folder)"
    return labels


def model_name(setting: str) -> str:
    """A model setting as a person reads it: a catalogue name as it is, a folder by its own name."""
    return re.split(r"[\\/]", setting.rstrip("\\/"))[-1] or setting


def _policy_label(name: str) -> str:
    """The policy class's ``label`` attribute when it has one, else its name (LocalAgreement, AlignAtt)."""
    policy = POLICIES[name]
    return getattr(policy, "label", None) or policy.__name__


def policy_description(name: str) -> str:
    """One line saying when a policy makes words final, for the window's tooltip.

    A ``description`` attribute on the class wins. Else the opening sentence of its module in
    app.core.policy ("…: a word is final once …"), which says more to a user than the class's own
    docstring; else that docstring's first line.
    """
    policy = POLICIES[name]
    module = inspect.getmodule(policy)
    in_package = module is not None and module.__name__.startswith(f"{POLICY_PACKAGE}.")
    text = getattr(policy, "description", None) or (in_package and inspect.getdoc(module)) or ""
    text = (text or inspect.getdoc(policy) or "").strip()
    return text.splitlines()[0] if text else ""


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def settings_path() -> Path:
    """settings.json in the user's config folder, or in $SAYLINE_CONFIG_DIR when that is set."""
    folder = os.environ.get(CONFIG_DIR_ENV) or platformdirs.user_config_dir(APP_NAME, APP_NAME)
    return Path(folder) / FILE_NAME


def load_settings(path: str | os.PathLike[str] | None = None) -> tuple[Settings, str | None]:
    """The saved settings, and a sentence for the user when some of them could not be used.

    A missing file is a first run: defaults and no warning. A file that is not a JSON object is
    moved aside to settings.json.bad (so nothing the user had is lost) and the defaults are used.
    Otherwise each invalid field falls back to its default (and the sentence names it) while the
    others are kept; a missing field (a file from an older version) quietly takes its default.
    """
    path = Path(path) if path is not None else settings_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings(), None
    except OSError as error:
        return Settings(), f"Could not read the settings file {path} ({error.strerror}); using the defaults."
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        return Settings(), _set_aside(path)
    return _from_dict(data, path)


def _set_aside(path: Path) -> str:
    bad = path.with_name(path.name + ".bad")
    try:
        os.replace(path, bad)
    except OSError as error:
        return (
            f"The settings file {path} is damaged and could not be moved aside ({error.strerror}); "
            "using the defaults."
        )
    return f"The settings file {path} was damaged; it was kept as {bad.name} and the defaults are used."


def _from_dict(data: dict[str, Any], path: Path) -> tuple[Settings, str | None]:
    values: dict[str, Any] = {}
    invalid: list[str] = []
    for name, check in _RULES.items():
        if name not in data:
            continue
        try:
            values[name] = check(data[name])
        except ValueError as error:
            invalid.append(f"{name} ({error})")
    # Unknown keys (a newer version's fields, "version") are ignored, not an error.
    settings = Settings(**values)
    if not invalid:
        return settings, None
    reasons = ", ".join(invalid)
    return settings, f"Some settings in {path} could not be used and are back to their defaults: {reasons}."


def save_settings(settings: Settings, path: str | os.PathLike[str] | None = None) -> Path:
    """Write the settings atomically (temp file, fsync, replace): a crash leaves old or new, never half.

    The file is 0600 (mkstemp creates it so) and Sayline's config folder 0700: settings are private.
    Raises OSError when the folder cannot be written; the caller turns that into a sentence.
    Returns the path written.
    """
    if path is None:
        path = settings_path()
        private_dir(path.parent)  # Sayline's own config folder; a caller's folder is left as it is
    else:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"version": FORMAT_VERSION, **settings.to_dict()}, indent=2, ensure_ascii=False)
    replace_private(path, text + "\n")
    return path
