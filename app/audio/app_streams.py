"""Which applications are playing sound, read from ``pactl list sink-inputs`` (pure parsing, no I/O).

A "sink-input" is one playback stream on PulseAudio or PipeWire's Pulse server; an application may
have several (a browser with two tabs playing). The text format is what both servers print through
``pactl`` under ``LC_ALL=C``; parsing it here, apart from running it, lets the tests check the parser
on recorded output and keeps ``pactl``'s format in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ROUTE_PREFIX = "sayline_app_"
"""Names of everything Sayline loads to capture one application (null sinks, loopback streams) start
with this, so leftovers of a crashed session can be recognised and removed."""
ROUTE_PROPERTY = "sayline.route"  # set on Sayline's own loopback stream, so it is never offered as an app

_HEADER = re.compile(r"^Sink Input #(\d+)\s*$")


@dataclass(frozen=True)
class SinkInput:
    """One playback stream as ``pactl list sink-inputs`` shows it."""

    index: int
    sink: int  # the index of the output (sink) it plays on
    driver: str = ""
    corked: bool = False  # paused by the application
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def app_name(self) -> str | None:
        return self.properties.get("application.name") or None

    @property
    def binary(self) -> str | None:
        return self.properties.get("application.process.binary") or None

    @property
    def pid(self) -> int | None:
        value = self.properties.get("application.process.id", "")
        return int(value) if value.isdigit() else None

    @property
    def media_name(self) -> str | None:
        return self.properties.get("media.name") or None

    @property
    def is_application(self) -> bool:
        """A stream some program plays, not one a sound-server module makes (a loopback, Sayline's own).

        Module streams carry no process; offering them would let the user "capture" a loopback,
        Sayline's included, which would feed a capture into itself.
        """
        if ROUTE_PROPERTY in self.properties or self.driver.startswith("module-"):
            return False
        # A server that drops the loopback's own properties still names it after its source.
        if any(ROUTE_PREFIX in self.properties.get(key, "") for key in ("media.name", "node.name")):
            return False
        return self.pid is not None or self.app_name is not None or self.binary is not None


def app_key(stream: SinkInput) -> str:
    """What identifies the stream's application across its streams: its process, else its name.

    The process id tells two instances of one program apart (two players, two browser content
    processes); the name is the fallback for clients that do not report a process.
    """
    if stream.pid is not None:
        return f"pid:{stream.pid}"
    if stream.app_name is not None:
        return f"name:{stream.app_name}"
    return f"stream:{stream.index}"


def belongs_to(key: str, stream: SinkInput) -> bool:
    """Whether ``stream`` is one of the application ``key`` (from ``app_key``) names."""
    return stream.is_application and app_key(stream) == key


@dataclass(frozen=True)
class PlayingApp:
    """An application with at least one playback stream: one choice in the app picker."""

    key: str  # app_key() of its streams: what a CaptureSource("app", key) captures
    name: str
    binary: str | None
    pid: int | None
    media: tuple[str, ...]  # what each stream says it plays ("Big Buck Bunny - YouTube"), when it says
    streams: tuple[int, ...]  # sink-input indices
    sinks: tuple[int, ...]  # the outputs they play on, in stream order
    corked: bool  # every stream is paused

    @property
    def label(self) -> str:
        """How the picker names it: the application, then what it plays."""
        media = next((m for m in self.media if m and m != self.name), "")
        return f"{self.name} — {media}" if media else self.name

    @property
    def details(self) -> str:
        """The program and process behind it, for a tooltip (and to tell two alike apps apart)."""
        parts = [self.binary or self.name]
        if self.pid is not None:
            parts.append(f"pid {self.pid}")
        count = len(self.streams)
        parts.append(f"{count} stream{'s' if count != 1 else ''}" + (", paused" if self.corked else ""))
        return ", ".join(parts)

    @property
    def who(self) -> str:
        """The application in a sentence: "paplay (pid 4242)"."""
        return f"{self.name} (pid {self.pid})" if self.pid is not None else self.name


def _unquote(value: str) -> str:
    """A property value as ``pactl`` prints it: in double quotes, with ``"`` and ``\\`` escaped."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_sink_inputs(text: str) -> list[SinkInput]:
    """Every stream in ``pactl list sink-inputs`` output, in the order listed.

    Top-level fields are one tab deep ("\\tSink: 0"); properties follow a "\\tProperties:" line, two
    tabs deep ('\\t\\tmedia.name = "jfk.wav"'). Lines that fit neither (the volume's continuation,
    fields newer servers add) are ignored, so a new field never breaks the listing.
    """
    found: list[SinkInput] = []
    index: int | None = None
    fields: dict[str, str] = {}
    properties: dict[str, str] = {}

    def flush() -> None:
        sink = fields.get("Sink", "")
        if index is not None and sink.isdigit():
            found.append(SinkInput(
                index=index, sink=int(sink), driver=fields.get("Driver", ""),
                corked=fields.get("Corked", "no") == "yes", properties=dict(properties),
            ))

    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            flush()
            index, fields, properties = int(header.group(1)), {}, {}
        elif index is None:
            continue
        elif line.startswith("\t\t") and " = " in line:
            key, value = line.strip().split(" = ", 1)
            properties[key] = _unquote(value)
        elif line.startswith("\t") and not line.startswith("\t\t") and ":" in line:
            key, value = line.strip().split(":", 1)
            fields[key] = value.strip()
    flush()
    return found


def playing_apps(streams: Iterable[SinkInput], exclude_sinks: Iterable[int] = ()) -> list[PlayingApp]:
    """The applications among ``streams``, one entry per application, in the order first listed.

    ``exclude_sinks``: streams already on these outputs are left out (Sayline's own capture sinks:
    an application being captured is not offered again).
    """
    skip = set(exclude_sinks)
    grouped: dict[str, list[SinkInput]] = {}
    for stream in streams:
        if stream.is_application and stream.sink not in skip:
            grouped.setdefault(app_key(stream), []).append(stream)
    apps: list[PlayingApp] = []
    for key, members in grouped.items():
        first = members[0]
        apps.append(PlayingApp(
            key=key,
            name=first.app_name or first.binary or f"Stream {first.index}",
            binary=first.binary,
            pid=first.pid,
            media=tuple(m.media_name or "" for m in members),
            streams=tuple(m.index for m in members),
            sinks=tuple(m.sink for m in members),
            corked=all(m.corked for m in members),
        ))
    return apps
