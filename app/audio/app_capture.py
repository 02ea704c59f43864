"""One application's sound as a capture source: the per-OS entry points, whatever the OS does below.

Two calls make the interface, the same on every OS: ``list_playing_apps()`` (what the picker shows)
and ``open_app_input()`` (what ``AudioCapture`` opens for ``CaptureSource("app", key)``). Linux routes
the application through a private null sink (``app.audio.app_route``). Windows (WASAPI process
loopback) and macOS (Core Audio process taps) are planned in docs/app-capture.md; until then both
calls raise ``AudioError`` saying so, and the picker shows that sentence.
"""

from __future__ import annotations

import sys

from app.audio.app_route import AppRoute, list_apps
from app.audio.app_streams import PlayingApp
from app.audio.blockqueue import BlockQueue
from app.audio.errors import AudioError
from app.audio.inputs import AudioInput, OpenedInput
from app.audio.source import Backend, CaptureSource
from app.audio.system_audio import open_monitor_input

PICK_FIRST = (
    "Pick the application to caption: start its sound, press the refresh button beside the list, "
    "then choose it."
)
_PLANNED = {"win32": "Windows", "darwin": "macOS"}  # how, and what it needs: docs/app-capture.md


def unsupported_reason(platform: str = sys.platform) -> str | None:
    """Why one-app capture cannot work on ``platform``; None where it can (Linux)."""
    if platform.startswith("linux"):
        return None
    name = _PLANNED.get(platform)
    if name is not None:
        return f"Captioning one application is not yet supported on {name}; choose System audio instead."
    return f"Captioning one application is not supported on {platform}; choose System audio instead."


def list_playing_apps() -> list[PlayingApp]:
    """The applications playing sound now, one entry each; ``AudioError`` (a sentence) when the list
    cannot be had here. Blocking (it asks the sound server): call it off the GUI thread."""
    reason = unsupported_reason()
    if reason is not None:
        raise AudioError(reason)
    return list_apps()


def open_app_input(source: CaptureSource, queue: BlockQueue) -> OpenedInput:
    """Start capturing the application ``source.device_id`` names, feeding ``queue``."""
    reason = unsupported_reason()
    if reason is not None:
        raise AudioError(reason)
    if source.device_id is None:
        raise AudioError(PICK_FIRST)
    app_input = PulseAppInput(source.device_id, queue, source.backend)
    app_input.open()
    return OpenedInput(app_input, app_input.problem)


class PulseAppInput:
    """An ``AudioInput`` for one application on Linux: its route, and a recording of the route's monitor.

    Opening sets the route up before recording, closing ends the recording before the route is
    undone, so the application is never left on a sink nobody plays. A lost capture (the application
    stopped playing) closes it; ``AudioCapture``'s retry then opens a new one, which routes the
    application again as soon as it plays again.
    """

    rate = 16_000
    channels = 1

    def __init__(self, key: str, queue: BlockQueue, backend: Backend = "auto") -> None:
        self.key = key
        self.description = f"the application {key}"
        self._queue = queue
        self._backend = backend
        self._route: AppRoute | None = None
        self._recording: AudioInput | None = None

    def open(self) -> None:
        route = AppRoute(self.key)
        route.open()
        try:
            self.description = route.who
            self._recording = open_monitor_input(route.monitor, self._queue, self._backend, self.description)
        except BaseException:
            route.close()
            raise
        self._route = route
        self.rate, self.channels = self._recording.rate, self._recording.channels

    def close(self) -> None:
        recording, self._recording = self._recording, None
        route, self._route = self._route, None
        try:
            if recording is not None:
                recording.close()
        finally:
            if route is not None:
                route.close()

    @property
    def failed(self) -> bool:
        return self._recording is not None and self._recording.failed

    async def problem(self) -> str | None:
        route = self._route
        return await route.problem() if route is not None else None
