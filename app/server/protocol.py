"""The `/asr` protocol's rules as pure functions and small state machines (no sockets).

Query parameters, the config message, and the full/diff encodings of updates live here so
that every rule is unit-tested without a server; ``session.py`` only moves frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from app.core.choices import QUERY_FIELDS, ChoiceError, StreamChoices, parse_switch
from app.core.frontdata import FrontData
from app.core.languages import LanguageError, validate_language

MODES = ("full", "diff")
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_TRY_AGAIN_LATER = 1013
MAX_CLOSE_REASON_BYTES = 123  # what fits in a close frame after its 2-byte code
READY_TO_STOP: dict[str, str] = {"type": "ready_to_stop"}


class ProtocolError(Exception):
    """A request the server refuses; ``code`` is the WebSocket close code to use."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SessionParams:
    mode: str
    choices: StreamChoices  # the server's defaults with the client's overrides
    refine: bool = False  # after the final update, one more with the whole stream decoded as a file run


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(set(values)) > 1:
        raise ProtocolError(CLOSE_BAD_REQUEST, f"The query parameter {name!r} was given twice.")
    return values[0]


def close_reason(text: str) -> str:
    """``text`` cut to what a close frame carries: 123 bytes of UTF-8, never half a character."""
    data = text.encode("utf-8")
    if len(data) <= MAX_CLOSE_REASON_BYTES:
        return text
    return data[:MAX_CLOSE_REASON_BYTES].decode("utf-8", "ignore")


def parse_session(query_string: str, *, defaults: StreamChoices, multilingual: bool) -> SessionParams:
    """The session a connection's query asks for, or ProtocolError (4400).

    The query's choices override the server's ``defaults`` (see ``StreamChoices.with_query``).
    A target language is checked here only as a code; whether an installed translator can
    reach it is the session's question (it needs the engine and the installed pairs).
    """
    query = parse_qs(query_string, keep_blank_values=True)
    names = (*QUERY_FIELDS, "mode", "refine")
    given = {name: value for name in names if (value := _single(query, name)) is not None}
    mode = given.pop("mode", "full").strip().lower() or "full"
    if mode not in MODES:
        raise ProtocolError(CLOSE_BAD_REQUEST, f"Unknown mode {mode!r}; use full or diff.")
    try:
        refine = parse_switch("refine", given.pop("refine", "")) or False
        validate_language(given.get("language"), multilingual)
        choices = defaults.with_query(given)
    except (LanguageError, ChoiceError) as exc:
        raise ProtocolError(CLOSE_BAD_REQUEST, str(exc)) from None
    return SessionParams(mode=mode, choices=choices, refine=refine)


def config_message(use_audio_worklet: bool, mode: str) -> dict[str, Any]:
    return {"type": "config", "useAudioWorklet": use_audio_worklet, "mode": mode}


class UpdateEncoder:
    """Turns successive FrontData into wire messages for one connection.

    ``full``: every message is the whole state. ``diff``: a snapshot first, then diffs in
    which the client drops its last ``lines_pruned`` lines and appends ``new_lines``.
    Lines are append-only except the last, so ``lines_pruned`` is 0 or 1 in practice, but
    the rule holds for any change. Nothing is sent when nothing changed.
    """

    def __init__(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self._sent_lines: list[dict[str, Any]] = []
        self._last: dict[str, Any] | None = None
        self._seq = 0

    def encode(self, update: FrontData) -> dict[str, Any] | None:
        message = update.to_dict()
        if message == self._last:
            return None
        self._last = message
        if self.mode == "full":
            return message
        lines = message.pop("lines")
        if self._seq == 0:
            wire = {"type": "snapshot", "seq": 0, "lines": lines, **message}
        else:
            kept = 0
            for old, new in zip(self._sent_lines, lines, strict=False):
                if old != new:
                    break
                kept += 1
            wire = {
                "type": "diff",
                "seq": self._seq,
                "n_lines": len(lines),
                "lines_pruned": len(self._sent_lines) - kept,
                "new_lines": lines[kept:],
                **message,
            }
        self._seq += 1
        self._sent_lines = lines
        return wire


def apply_message(lines: list[dict[str, Any]], message: dict[str, Any]) -> list[dict[str, Any]]:
    """What a diff-mode client does with one message: the reference the tests hold us to."""
    if message.get("type") == "snapshot" or "type" not in message:
        return list(message["lines"])
    if message.get("type") != "diff":
        return lines
    pruned = message["lines_pruned"]
    result = lines[: len(lines) - pruned] + list(message["new_lines"])
    if len(result) != message["n_lines"]:
        raise ValueError(f"diff {message['seq']} leaves {len(result)} lines, expected {message['n_lines']}")
    return result
