"""The only door between the Qt thread and the engine thread.

Calls go out with ``EngineHost.submit`` (never waited on); results come back as Qt
signals emitted from the engine thread, which Qt queues onto the GUI thread.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.core.choices import StreamChoices
from app.core.engine import EngineConfig
from app.engine_host import EngineHost
from app.live import AudioPlan, LiveCallbacks, LiveSource
from app.server.server import ServerSettings

log = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"  # this computer only
LAN_HOST = "0.0.0.0"  # every IPv4 address: other computers on the network can connect


class EngineBridge(QObject):
    model_progress = Signal(int, int)  # bytes done, total (first-run preparation)
    model_ready = Signal(str, str)  # model name, a notice ("" unless it runs other than asked)
    captioning_started = Signal()
    captioning_stopped = Signal()
    update = Signal(str, object)  # source label, FrontData
    capture_state = Signal(str, str, str)  # source label, state, message
    level = Signal(str, float)  # source label, dBFS
    refine_progress = Signal(object, float, float)  # session (its log's Path), seconds refined, in all
    refined = Signal(object)  # RefineOutcome: a stopped session's refined transcript, or why there is none
    server_changed = Signal(str)  # ws:// URL (with ?token= when one is needed), or "" when stopped
    server_failed = Signal()  # the server did not start; `error` says why
    error = Signal(str)  # one sentence for the user
    pair_installed = Signal(object)  # InstalledPair
    pairs_available = Signal(list)  # [AvailablePair] from Argos's index
    download_progress = Signal(int, int)  # bytes done, total (0: unknown)
    system_audio_found = Signal(object)  # CaptureSource to capture, or SystemAudioUnavailable saying why not
    input_devices_found = Signal(list)  # [InputDevice] that can record
    voice_remembered = Signal(str)  # the name a speaker's voice was stored under

    def __init__(self, host: EngineHost | None = None) -> None:
        super().__init__()
        self.host = host or EngineHost()
        self._callbacks = LiveCallbacks(
            on_update=self.update.emit,
            on_capture_state=self.capture_state.emit,
            on_level=self.level.emit,
            on_refine_progress=self.refine_progress.emit,
            on_refined=self.refined.emit,
        )

    def _watch(self, future: Future, on_success=None, on_failure=None) -> None:
        """Report a failure as a sentence; the GUI thread never blocks on ``future``."""

        def done(f: Future) -> None:
            if f.cancelled():
                return
            exc = f.exception()
            if exc is not None:
                log.error("engine call failed: %s", exc, exc_info=exc)
                self.error.emit(str(exc) or exc.__class__.__name__)
                if on_failure is not None:
                    on_failure()
            elif on_success is not None:
                on_success(f.result())

        future.add_done_callback(done)

    def load_model(self, model: str) -> None:
        """Load ``model``; the language is a stream choice, so it never makes the model load again."""
        config = EngineConfig(model=model)
        future = self.host.submit(self.host.load_engine(config, self.model_progress.emit))
        self._watch(future, lambda engine: self.model_ready.emit(engine.model_name, engine.notice))

    def find_system_audio(self) -> None:
        """Ask (off the Qt thread: it runs ``pactl``) what system audio to capture; `system_audio_found`."""
        self._watch(self.host.submit(self.host.find_system_audio()), self.system_audio_found.emit)

    def list_input_devices(self) -> None:
        """Ask PortAudio for the microphones off the Qt thread; `input_devices_found` brings them."""
        self._watch(self.host.submit(self.host.input_devices()), self.input_devices_found.emit)

    def start_live(
        self, sources: list[LiveSource], choices: StreamChoices, audio_plan: AudioPlan | None = None
    ) -> None:
        future = self.host.submit(self.host.start_live(sources, self._callbacks, choices, audio_plan))
        self._watch(future, lambda _: self.captioning_started.emit())

    def stop(self) -> None:
        """Finish the session; when its plan says so, `refine_progress` and then `refined` follow."""
        future = self.host.submit(self.host.stop_live())
        self._watch(future, lambda _: self.captioning_stopped.emit())

    def cancel_refine(self, sessions: tuple[Path, ...]) -> None:
        """Stop refining ``sessions`` (their logs' paths); `refined` still comes, without results."""
        self._watch(self.host.submit(self.host.cancel_refine(sessions)), lambda _: None)

    def remember_voice(self, label: str, speaker: int, name: str) -> None:
        """Store a speaker's voice (from the running or last session) as ``name``; `voice_remembered`."""
        future = self.host.submit(self.host.remember_voice(label, speaker, name))
        self._watch(future, lambda profile: self.voice_remembered.emit(profile.name))

    def install_pair(self, path: str) -> None:
        self._watch(self.host.submit(self.host.install_pair(path)), self.pair_installed.emit)

    def list_available_pairs(self) -> None:
        self._watch(self.host.submit(self.host.available_pairs()), self.pairs_available.emit)

    def download_pair(self, pair) -> None:
        future = self.host.submit(self.host.download_pair(pair, self.download_progress.emit))
        self._watch(future, self.pair_installed.emit)

    def start_server(
        self,
        port: int,
        choices: StreamChoices,
        *,
        lan: bool = False,
        allowed_origins: tuple[str, ...] = (),
    ) -> None:
        """Serve with ``choices`` as every stream's and upload's defaults (a client may override some).

        Loopback only unless ``lan``; off loopback the server makes up a token, as for the CLI.
        """
        settings = ServerSettings(
            host=LAN_HOST if lan else LOOPBACK_HOST,
            port=port,
            choices=choices,
            allowed_origins=tuple(allowed_origins),
        )
        future = self.host.submit(self.host.start_server(settings))
        self._watch(future, self.server_changed.emit, self.server_failed.emit)

    def update_server_choices(self, choices: StreamChoices) -> None:
        """The running server's defaults for streams that start from now on."""
        self._watch(self.host.submit(self.host.update_server_choices(choices)), lambda _: None)

    def stop_server(self) -> None:
        self._watch(self.host.submit(self.host.stop_server()), lambda _: self.server_changed.emit(""))

    def shutdown(self) -> None:
        """Blocking, on purpose: at quit the final words must reach the autosave first."""
        self.host.shutdown()
