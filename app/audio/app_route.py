"""Routing one application's sound through a private null sink, so only that sound is captured (Linux).

PulseAudio and PipeWire's Pulse server can record an output (a sink's monitor) but not one program.
So the chosen program's streams are moved onto a null sink of Sayline's own, whose monitor Sayline
records, and a loopback plays that monitor on the output the program was using, so the user keeps
hearing it (about 40 ms later). Everything else keeps playing where it was and never reaches the
capture. On close the streams go back to the outputs they came from and both modules are unloaded.

Everything loaded is named ``sayline_app_<pid>_<n>`` (``<pid>`` is Sayline's process): a later start
finds what a crashed Sayline left (its process is gone) and undoes it. Only ``pactl`` is used, the
interface both servers share (see ``app.audio.pulse``).
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.audio.app_streams import (
    ROUTE_PREFIX,
    ROUTE_PROPERTY,
    PlayingApp,
    SinkInput,
    belongs_to,
    parse_sink_inputs,
    playing_apps,
)
from app.audio.errors import AudioError
from app.audio.pulse import pactl, pactl_async, pactl_run, pactl_subscribe

log = logging.getLogger(__name__)

LOOPBACK_LATENCY_MS = 40  # what the user hears late; lower makes PulseAudio's loopback work harder
NO_PACTL = (
    "Captioning one application on Linux needs PulseAudio or PipeWire's pactl tool; install it "
    "(on Debian or Ubuntu: sudo apt install pulseaudio-utils)."
)
_ROUTE_NAME = re.compile(rf"{ROUTE_PREFIX}(\d+)_(\d+)")
_LOOPBACK_SINK = re.compile(r"(?:^|\s)sink=(\S+)")
_STREAM_EVENT = re.compile(r"Event '(?:new|change)' on sink-input #\d+")
_counter = itertools.count(1)
_live: dict[str, AppRoute] = {}  # this process's open routes, by null-sink name
_live_lock = threading.Lock()


@dataclass(frozen=True)
class Sink:
    index: int
    name: str
    rate: int | None
    channels: int | None


def require_pactl() -> None:
    if shutil.which("pactl") is None:
        raise AudioError(NO_PACTL)


def parse_short_sinks(text: str) -> list[Sink]:
    """``pactl list short sinks``: index, name, driver, sample spec ("s16le 2ch 44100Hz"), state."""
    sinks: list[Sink] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].isdigit():
            continue
        spec = parts[3] if len(parts) > 3 else ""
        channels = re.search(r"(\d+)ch\b", spec)
        rate = re.search(r"(\d+)Hz\b", spec)
        sinks.append(Sink(
            int(parts[0]), parts[1],
            int(rate.group(1)) if rate else None, int(channels.group(1)) if channels else None,
        ))
    return sinks


def parse_short_modules(text: str) -> list[tuple[int, str, str]]:
    """``pactl list short modules``: (index, module name, its arguments)."""
    modules: list[tuple[int, str, str]] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].isdigit():
            modules.append((int(parts[0]), parts[1], parts[2] if len(parts) > 2 else ""))
    return modules


def _sinks() -> list[Sink]:
    return parse_short_sinks(pactl("list", "short", "sinks"))


def _streams() -> list[SinkInput]:
    return parse_sink_inputs(pactl("list", "sink-inputs"))


def _move(stream: int, sink: str) -> bool:
    """Move a stream; False when it is gone (it ended meanwhile) or the server refused."""
    done = pactl_run("move-sink-input", str(stream), sink)
    if done.returncode != 0:
        log.debug("could not move stream %s to %s: %s", stream, sink, done.stderr.strip())
    return done.returncode == 0


def _unload(module: int) -> None:
    done = pactl_run("unload-module", str(module))
    if done.returncode != 0:  # already gone: the server unloads a loopback whose source vanished
        log.debug("module %s was not unloaded: %s", module, done.stderr.strip())


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, someone else's
        return True
    return True


def _is_stale(name: str) -> bool:
    """A route whose Sayline is gone, or one of this process's that is no longer open."""
    match = _ROUTE_NAME.fullmatch(name)
    if match is None:
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        with _live_lock:
            return name not in _live
    return not _process_alive(pid)


def cleanup_stale_routes() -> list[str]:
    """Undo what a Sayline that crashed while capturing an application left; the names undone.

    Its application's streams go back to the output its loopback played on (else the default
    output), then the loopback and the null sink are unloaded. Routes of a Sayline still running
    (another window, another user session sharing the server) are left alone.
    """
    routes: dict[str, list[int]] = {}
    homes: dict[str, str] = {}
    for index, module, args in parse_short_modules(pactl("list", "short", "modules")):
        match = _ROUTE_NAME.search(args)
        if match is None or module not in ("module-null-sink", "module-loopback"):
            continue
        routes.setdefault(match.group(0), []).append(index)
        home = _LOOPBACK_SINK.search(args)
        if module == "module-loopback" and home is not None:
            homes[match.group(0)] = home.group(1)
    stale = sorted(name for name in routes if _is_stale(name))
    if not stale:
        return []
    sinks = {sink.name: sink.index for sink in _sinks()}
    streams = _streams()
    for name in stale:
        home = homes.get(name)
        target = home if home in sinks else "@DEFAULT_SINK@"
        for stream in streams:
            if name in sinks and stream.sink == sinks[name] and stream.is_application:
                _move(stream.index, target)
        for module in sorted(routes[name], reverse=True):  # the loopback (loaded last) first
            _unload(module)
        log.info("removed a capture route a previous Sayline left behind: %s", name)
    return stale


def list_apps() -> list[PlayingApp]:
    """The applications playing now (leftovers of a crashed Sayline removed first); ``AudioError`` if
    the sound server cannot be asked. Applications Sayline is capturing right now are left out."""
    require_pactl()
    cleanup_stale_routes()
    own = [sink.index for sink in _sinks() if sink.name.startswith(ROUTE_PREFIX)]
    return playing_apps(_streams(), exclude_sinks=own)


def _describe(key: str) -> str:
    """The application a key names, for a sentence, when none of its streams is there to name it."""
    kind, _, value = key.partition(":")
    if kind == "pid":
        try:  # Linux names every process; the name the picker showed may differ, the process is the same
            return f"{Path(f'/proc/{value}/comm').read_text().strip()} (pid {value})"
        except OSError:
            return f"the application with process id {value}"
    return f"the application {value}" if kind == "name" else f"the sound stream {value}"


def _not_playing(key: str) -> str:
    kind, _, value = key.partition(":")
    who = _capitalised(_describe(key))
    if kind == "pid" and value.isdigit() and not _process_alive(int(value)):
        return f"{who} has quit; pick another application from the list."
    return f"{who} is not playing any sound now; start its sound, then press Start again."


class _StreamWatcher:
    """Calls ``on_event`` on its own thread as soon as a stream appears or changes on the server.

    The server's stream-restore (PulseAudio) or WirePlumber (PipeWire) remembers outputs per
    application *name*: while an application is routed, another process of the same name (a second
    browser process playing a notification) opens its stream straight on the route. Polling would
    let that sound into the captions for up to a check interval; ``pactl subscribe`` reports the new
    stream within milliseconds, before it has played much, if anything.
    """

    def __init__(self, on_event: Callable[[], None]) -> None:
        self._on_event = on_event
        self._process = pactl_subscribe()
        self._thread = threading.Thread(target=self._read, name="sayline-app-route", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if _STREAM_EVENT.search(line):
                try:
                    self._on_event()
                except Exception:  # a failed tidy-up must not end the watching; the check retries
                    log.exception("reacting to a stream event failed")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._thread.join(timeout=2.0)
        if self._process.stdout is not None:
            self._process.stdout.close()


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


class AppRoute:
    """One application's streams moved to a private null sink, looped back to where they played.

    Use as a context manager, or ``open()`` and ``close()``; ``close()`` is safe to call twice and
    from any thread. ``monitor`` is the source to record. ``problem()`` is the periodic check while
    capturing: it moves the application's new streams in, sends other programs' streams that the
    server put here back out, and says in a sentence when the application stopped playing or quit.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.sink_name = f"{ROUTE_PREFIX}{os.getpid()}_{next(_counter)}"
        self.monitor = f"{self.sink_name}.monitor"
        self.app: PlayingApp | None = None
        self.home = ""  # the output the application played on: the loopback's, and where it goes back
        self._sink_index: int | None = None
        self._modules: list[int] = []
        self._origins: dict[int, str] = {}  # stream index -> the output it came from
        self._watcher: _StreamWatcher | None = None
        self._lock = threading.Lock()

    @property
    def who(self) -> str:
        return self.app.who if self.app is not None else _describe(self.key)

    def __enter__(self) -> AppRoute:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Set the route up; ``AudioError`` (one sentence) when the application is not playing or the
        server refuses, with nothing left behind."""
        require_pactl()
        cleanup_stale_routes()
        with _live_lock:
            _live[self.sink_name] = self
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        streams = [s for s in _streams() if belongs_to(self.key, s)]
        if not streams:
            raise AudioError(_not_playing(self.key))
        self.app = playing_apps(streams)[0]
        sinks = {sink.index: sink for sink in _sinks()}
        home = sinks.get(streams[0].sink)
        if home is None:
            raise AudioError(f"The output {self.who} plays on just disappeared; press Start again.")
        self.home = home.name
        spec = [f"rate={home.rate}"] if home.rate else []
        spec += [f"channels={home.channels}"] if home.channels else []
        self._load(
            "module-null-sink", f"sink_name={self.sink_name}",
            f"sink_properties=device.description={self.sink_name}", *spec,
        )
        self._load(
            "module-loopback", f"source={self.monitor}", f"sink={self.home}", "source_dont_move=true",
            f"latency_msec={LOOPBACK_LATENCY_MS}", f"sink_input_properties={ROUTE_PROPERTY}={self.sink_name}",
        )
        self._sink_index = next((s.index for s in _sinks() if s.name == self.sink_name), None)
        moved = [s for s in streams if self._take(s, sinks)]
        if not moved:
            raise AudioError(
                f"{self.who} stopped playing sound just as captioning started; press Start again."
            )
        self._watcher = _StreamWatcher(self._tidy_now)
        log.info("capturing %s through %s (from %s)", self.who, self.sink_name, self.home)

    def _load(self, module: str, *args: str) -> None:
        done = pactl_run("load-module", module, *args)
        index = done.stdout.strip()
        if done.returncode != 0 or not index.isdigit():
            detail = done.stderr.strip().removeprefix("Failure: ") or f"pactl exited with {done.returncode}"
            raise AudioError(
                f"The sound server refused to load {module} to capture {self.who} ({detail}); it may "
                "forbid loading modules, which Sayline needs to capture one application."
            )
        self._modules.append(int(index))

    def _take(self, stream: SinkInput, sinks: dict[int, Sink]) -> bool:
        origin = sinks.get(stream.sink)
        if not _move(stream.index, self.sink_name):
            return False
        self._origins[stream.index] = origin.name if origin is not None else self.home
        return True

    def close(self) -> None:
        """Streams back where they came from, loopback and null sink unloaded; never raises."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:  # first, and outside the lock: its thread may be waiting for it
            watcher.stop()
        with self._lock:
            modules, self._modules = self._modules, []
            try:
                if modules:
                    self._send_back()
            except AudioError as exc:  # pactl gone or server down: nothing more can be done
                log.warning("could not move %s back: %s", self.who, exc)
            for module in reversed(modules):
                try:
                    _unload(module)
                except AudioError as exc:
                    log.warning("could not unload module %s: %s", module, exc)
            self._sink_index = None
            with _live_lock:
                if _live.get(self.sink_name) is self:
                    del _live[self.sink_name]

    def _send_back(self) -> None:
        sinks = {sink.name: sink.index for sink in _sinks()}
        if self.sink_name not in sinks:
            return  # the null sink is gone already; the server moved its streams to the default output
        for stream in _streams():
            if stream.sink != sinks[self.sink_name]:
                continue
            target = self._origins.get(stream.index, self.home)
            _move(stream.index, target if target in sinks else "@DEFAULT_SINK@")

    async def problem(self) -> str | None:
        """None while the application plays into the route; otherwise why not, as a sentence."""
        sinks = parse_short_sinks(await pactl_async("list", "short", "sinks"))
        if self._sink_index not in {s.index for s in sinks if s.name == self.sink_name}:
            return f"Sayline's capture of {self.who} was removed from the sound server."
        streams = parse_sink_inputs(await pactl_async("list", "sink-inputs"))
        mine = [s for s in streams if belongs_to(self.key, s)]
        await asyncio.to_thread(self._tidy, streams, {s.index: s for s in sinks})
        if mine:
            return None
        pid = self.app.pid if self.app is not None else None
        if pid is not None and not _process_alive(pid):
            return f"{self.who} has quit."
        return f"{self.who} stopped playing sound."

    def _tidy_now(self) -> None:
        self._tidy(_streams(), {sink.index: sink for sink in _sinks()})

    def _tidy(self, streams: list[SinkInput], sinks: dict[int, Sink]) -> None:
        """The application's new streams in, other programs' streams out (not once closing began)."""
        with self._lock:
            if not self._modules:
                return
            for stream in streams:
                if not stream.is_application:
                    continue
                if belongs_to(self.key, stream) and stream.sink != self._sink_index:
                    self._take(stream, sinks)  # a new stream of the application (the next video)
                elif not belongs_to(self.key, stream) and stream.sink == self._sink_index:
                    # The server's stream-restore remembers outputs per application *name*, so another
                    # process of the same name (a second browser process) may have landed here.
                    _move(stream.index, self._origins.get(stream.index, self.home))


@atexit.register
def _close_all() -> None:
    """A normal exit with a capture still open (an exception on the way out) restores it too."""
    with _live_lock:
        routes = list(_live.values())
    for route in routes:
        route.close()
