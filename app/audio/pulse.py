"""PulseAudio (and PipeWire's Pulse server) queried through ``pactl``: default sink, monitor sources.

``pactl`` is the one interface both servers share and it is installed wherever either runs, so no
client library binding is needed. Its output is localised, hence ``LC_ALL=C``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from dataclasses import dataclass

from app.audio.errors import AudioError

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class MonitorSource:
    """The capture side of one output device (sink): what that output is playing."""

    name: str
    sink: str
    description: str
    is_default: bool


def _command(args: tuple[str, ...]) -> list[str]:
    executable = shutil.which("pactl")
    if executable is None:
        raise AudioError(
            "System audio on Linux needs PulseAudio or PipeWire's pactl tool; install it "
            "(on Debian or Ubuntu: sudo apt install pulseaudio-utils)."
        )
    return [executable, *args]


def _env() -> dict[str, str]:
    return {**os.environ, "LC_ALL": "C"}


def _unreachable(detail: str) -> AudioError:
    return AudioError(
        f"Sayline could not reach the PulseAudio or PipeWire sound server ({detail}); "
        "make sure it is running."
    )


def pactl_run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``pactl`` whatever its exit status; ``AudioError`` only when it cannot run or answer at all.

    For callers that word a refusal themselves: a module the server would not load is not an
    unreachable server.
    """
    try:
        return subprocess.run(
            _command(args), capture_output=True, text=True, env=_env(), timeout=TIMEOUT_S, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _unreachable(str(exc)) from exc


def pactl_subscribe() -> subprocess.Popen[str]:
    """``pactl subscribe`` running: one line per server event ("Event 'new' on sink-input #12") on
    its stdout until killed; ``AudioError`` when it cannot start."""
    try:
        return subprocess.Popen(
            _command(("subscribe",)), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, env=_env(),
        )
    except OSError as exc:
        raise _unreachable(str(exc)) from exc


def pactl(*args: str) -> str:
    """Run ``pactl`` and return its output; ``AudioError`` when the sound server cannot be reached."""
    done = pactl_run(*args)
    if done.returncode != 0:
        raise _unreachable(done.stderr.strip() or f"pactl exited with {done.returncode}")
    return done.stdout


async def pactl_async(*args: str) -> str:
    """``pactl`` without blocking the event loop, for the periodic check of a running capture."""
    try:
        process = await asyncio.create_subprocess_exec(
            *_command(args), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env(),
        )
    except OSError as exc:
        raise _unreachable(str(exc)) from exc
    try:
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
    except asyncio.TimeoutError as exc:
        process.kill()
        await process.wait()
        raise _unreachable("pactl did not answer") from exc
    if process.returncode != 0:
        raise _unreachable(err.decode(errors="replace").strip() or f"pactl exited with {process.returncode}")
    return out.decode(errors="replace")


def parse_default_sink(info: str) -> str | None:
    """The "Default Sink:" of ``pactl info``; None when the server has no output at all."""
    for line in info.splitlines():
        if line.startswith("Default Sink:"):
            name = line.split(":", 1)[1].strip()
            return None if name in ("", "(null)", "@DEFAULT_SINK@") else name
    return None


def parse_source_names(short_list: str) -> list[str]:
    """Names from ``pactl list short sources`` (tab-separated: index, name, driver, spec, state)."""
    return [line.split("\t")[1] for line in short_list.splitlines() if line.count("\t") >= 1]


def parse_monitors(long_list: str, default_sink: str | None) -> list[MonitorSource]:
    """Monitor sources from ``pactl list sources``: blocks whose "Monitor of Sink" names a sink."""
    found: list[MonitorSource] = []
    fields: dict[str, str] = {}

    def flush() -> None:
        sink = fields.get("Monitor of Sink", "n/a")
        if "Name" in fields and sink != "n/a":
            found.append(MonitorSource(
                name=fields["Name"], sink=sink, description=fields.get("Description", fields["Name"]),
                is_default=sink == default_sink,
            ))
        fields.clear()

    for line in long_list.splitlines():
        if line.startswith("Source #"):
            flush()
        elif line.startswith("\t") and not line.startswith("\t\t") and ":" in line:
            key, value = line.strip().split(":", 1)
            fields[key] = value.strip()
    flush()
    return found


def default_sink() -> str | None:
    return parse_default_sink(pactl("info"))


def source_names() -> list[str]:
    return parse_source_names(pactl("list", "short", "sources"))


def list_monitor_sources() -> list[MonitorSource]:
    """Every output's monitor, the default output's marked: the choices for "system audio"."""
    return parse_monitors(pactl("list", "sources"), default_sink())


def resolve_monitor(name: str | None) -> str:
    """``name`` if that source exists, else (for None) the default sink's monitor; ``AudioError`` if none."""
    sources = source_names()
    if name is not None:
        if name in sources:
            return name
        raise AudioError(
            f"The system-audio source {name} is not available; pick another output in the sound settings."
        )
    sink = default_sink()
    if sink is None:
        raise AudioError("The sound server has no output device; connect speakers or headphones.")
    monitor = f"{sink}.monitor"
    if monitor not in sources:
        raise AudioError(
            f"The default output {sink} offers no monitor source to capture; pick another output device."
        )
    return monitor


async def monitor_problem(current: str, follow_default: bool) -> str | None:
    """Why capturing ``current`` is no longer right (gone, or the default output moved); None if fine.

    PulseAudio silently moves a recording to another source when its source disappears, so without
    this check a vanished output could turn "system audio" into the microphone.
    """
    sources = parse_source_names(await pactl_async("list", "short", "sources"))
    if current not in sources:
        return f"The system-audio source {current} disappeared."
    if follow_default:
        sink = parse_default_sink(await pactl_async("info"))
        if sink is not None and f"{sink}.monitor" != current and f"{sink}.monitor" in sources:
            return f"The default output changed to {sink}."
    return None
