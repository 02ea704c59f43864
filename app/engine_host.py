"""The engine thread: one asyncio loop owning the engine, the live session and the server.

The GUI never waits on it: it submits coroutines with ``run_coroutine_threadsafe`` and
hears back through callbacks (which the Qt bridge turns into queued signals). Anything that
may block (loading a model, asking PulseAudio or PortAudio what is there) runs in a worker
thread from here, so neither the window nor the running streams wait on it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from app.audio import (
    CaptureSource,
    InputDevice,
    SystemAudioUnavailable,
    find_system_audio,
    list_input_devices,
)
from app.core.choices import StreamChoices
from app.core.diarization.profiles import ProfileError, ProfileStore, VoiceProfile
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.model_errors import Progress
from app.core.translation.argos_install import (
    AvailablePair,
    InstalledPair,
    download,
    fetch_index,
    install_file,
)
from app.live import AudioPlan, LiveCallbacks, LiveSession, LiveSource
from app.refining import Refiner
from app.server.server import AsrServer, ServerSettings

log = logging.getLogger(__name__)
T = TypeVar("T")


class EngineHost:
    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sayline-engine", daemon=True)
        self._thread.start()
        self._ready.wait()
        self.engine: TranscriptionEngine | None = None
        self._session: LiveSession | None = None
        self._last_session: LiveSession | None = None  # its speakers' voices can still be remembered
        self._server: AsrServer | None = None
        self._refiner = Refiner()
        self._stopping = asyncio.Lock()  # a quit right after Stop waits for that session's audio to be taken

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()
        # Work still in flight at quit (a model still loading, say) is cancelled and awaited,
        # so nothing is left half-done on a closed loop.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    @property
    def captioning(self) -> bool:
        return self._session is not None

    @property
    def session(self) -> LiveSession | None:
        """The live session while captioning (its ``choices`` say what its streams were asked)."""
        return self._session

    @property
    def server(self) -> AsrServer | None:
        return self._server

    async def load_engine(
        self, config: EngineConfig, progress: Progress | None = None
    ) -> TranscriptionEngine:
        """Load (or switch) the model off the loop, so running streams keep going meanwhile."""
        if self.engine is not None and self.engine.config == config:
            return self.engine
        if self._session is not None or self._server is not None:
            raise RuntimeError("Stop captioning and the server before switching the model.")
        if self._refiner.busy:
            raise RuntimeError("Wait for refining to finish, or cancel it, before switching the model.")
        engine = await asyncio.to_thread(TranscriptionEngine, config, progress)
        old, self.engine = self.engine, engine
        if old is not None:
            await asyncio.to_thread(old.close)
        return engine

    async def start_live(
        self,
        sources: list[LiveSource],
        callbacks: LiveCallbacks,
        choices: StreamChoices | None = None,
        audio_plan: AudioPlan | None = None,
    ) -> None:
        """Caption ``sources``; every stream does what ``choices`` says (language, policy, speakers…).

        ``audio_plan``: keep the audio, to refine the transcript after Stop and/or to keep the files.
        """
        if self.engine is None:
            raise RuntimeError("The speech model is not loaded yet.")
        if self._session is not None:
            return
        session = LiveSession(self.engine, sources, callbacks, choices, audio_plan)
        try:
            await session.start()
        except Exception:
            await session.stop()
            await asyncio.to_thread(session.discard_audio)
            raise
        self._session = session

    async def stop_live(self) -> None:
        """Finish the streams; their audio goes on to be refined (or kept, or deleted) in the background."""
        async with self._stopping:
            session, self._session = self._session, None
            if session is not None:
                await session.stop()
                self._refiner.take(session)
                self._last_session = session

    async def remember_voice(self, label: str, speaker: int, name: str) -> VoiceProfile:
        """Store the voice of ``speaker`` of the stream ``label`` (running, or the last one stopped)."""
        session = self._session or self._last_session
        processor = session.processors.get(label) if session is not None else None
        heard = processor.heard_voices if processor is not None else ()
        voice = next((v for v in heard if v.speaker == speaker), None)
        if voice is None:
            raise ProfileError("Sayline has no voice of that speaker from this session to remember.")
        return await asyncio.to_thread(ProfileStore().remember, name, voice.vector, voice.seconds)

    async def cancel_refine(self, sessions: tuple[Path, ...]) -> None:
        """Stop refining ``sessions``; their live transcripts stay."""
        self._refiner.cancel(sessions)

    async def find_system_audio(self) -> CaptureSource | SystemAudioUnavailable:
        """The system-audio source to capture, or why there is none: asked again at every Start,
        since the default output may have changed, and off the loop because it runs ``pactl``."""
        return await asyncio.to_thread(find_system_audio)

    async def input_devices(self) -> list[InputDevice]:
        """The microphones PortAudio sees; off the loop, since a first scan can take a second."""
        return await asyncio.to_thread(list_input_devices)

    async def install_pair(self, path: str) -> InstalledPair:
        """Unzip and test-load off the loop: a large pair takes seconds."""
        return await asyncio.to_thread(install_file, path)

    async def available_pairs(self) -> list[AvailablePair]:
        """Argos's online index: the network, only because the user asked to download."""
        return await asyncio.to_thread(fetch_index)

    async def download_pair(self, pair: AvailablePair, progress: Progress | None = None) -> InstalledPair:
        return await asyncio.to_thread(download, pair, progress)

    async def start_server(self, settings: ServerSettings) -> str:
        if self.engine is None:
            raise RuntimeError("The speech model is not loaded yet.")
        if self._server is None:
            server = AsrServer(self.engine, settings)
            await server.start()
            self._server = server
        return self._server.asr_url

    async def update_server_choices(self, choices: StreamChoices) -> None:
        if self._server is not None:
            self._server.set_choices(choices)

    async def stop_server(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()

    async def _close_all(self) -> None:
        await self.stop_live()
        await self._refiner.close()
        await self.stop_server()
        if self.engine is not None:
            await asyncio.to_thread(self.engine.close)
            self.engine = None

    def shutdown(self, timeout: float = 30.0) -> None:
        """Finish every stream (final words are committed), stop the server, end the thread."""
        if not self._thread.is_alive():
            return
        try:
            self.submit(self._close_all()).result(timeout)
        except Exception:
            log.exception("shutting the engine down failed")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
