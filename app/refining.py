"""After Stop: a session's audio decoded again as a file run would, in the background.

Live captions are decoded greedily, a few hundred milliseconds at a time, without knowing what is
said next; a file run decodes whole windows with a beam and tells speakers apart over the whole
session, so its transcript is better. ``app.core.refine`` does that decode; this module runs it for
a stopped session on the engine loop, reports progress, lets the user cancel it, and then keeps the
session's audio beside its log (when the user asked) or deletes it.

Sessions are refined one at a time. A new Start does not cancel refining: the user asked for the
better transcript, and it costs the new session nothing, since ``refine_session`` yields to live
decodes; two refines at once would only take turns with each other. No Qt here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from app.core.frontdata import FrontData
from app.core.refine import RefineCancelled, refine_session
from app.core.session_audio import FILE_NAME, SessionAudio
from app.live import AudioPlan, LiveSession, RefineOutcome
from app.transcript.record import kept_audio_path

log = logging.getLogger(__name__)

AUDIO_SUFFIX = Path(FILE_NAME).suffix  # the kept file stays what SessionAudio wrote (FLAC)
TRUNCATED = (
    "The session was longer than the audio kept for refining, so its live transcript is kept as it is."
)


class Refiner:
    """What happens to stopped sessions' audio, one session (its autosave log) per job."""

    def __init__(self) -> None:
        self._turn = asyncio.Lock()
        self._jobs: dict[Path, asyncio.Task[None]] = {}
        self._cancelled: set[Path] = set()

    @property
    def busy(self) -> bool:
        """A session is being refined, waits for its turn, or has its audio kept or deleted."""
        return bool(self._jobs)

    def take(self, session: LiveSession) -> None:
        """A stopped session's audio: refined in the background when its plan asks, then kept or
        deleted. Returns at once; ``session.callbacks.on_refined`` says how it ended."""
        plan = session.audio_plan
        if plan is not None and session.audio:
            self._jobs[plan.session] = asyncio.create_task(self._finish(session, plan))

    def cancel(self, sessions: Iterable[Path] | None = None) -> None:
        """Stop refining ``sessions`` (every one when None) before their next window; their live
        transcripts stay, and their audio is still kept or deleted as planned. A session still
        finishing its last words is cancelled too: the user may press Cancel as soon as Stop."""
        self._cancelled.update(self._jobs if sessions is None else sessions)

    async def close(self) -> None:
        """The app is quitting: stop refining now, but still keep or delete the audio as planned."""
        self.cancel()
        await asyncio.sleep(0)  # a job taken just now enters its try first, so its audio is still settled
        jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)

    async def _finish(self, session: LiveSession, plan: AudioPlan) -> None:
        results: dict[str, FrontData] | None = None
        message = ""
        try:
            if plan.refine:
                async with self._turn:
                    results, message = await self._refine(session, plan.session)
        except RefineCancelled:
            log.info("refining %s was cancelled", plan.session.name)
        except Exception as exc:
            log.exception("refining %s failed", plan.session.name)
            message = f"Refining the transcript failed ({exc}); its live transcript is kept as it is."
        finally:
            kept = await asyncio.to_thread(settle_audio, session.audio, plan)
            del self._jobs[plan.session]
            self._cancelled.discard(plan.session)
        session.callbacks.on_refined(RefineOutcome(plan.session, results, message, kept))

    async def _refine(self, session: LiveSession, key: Path) -> tuple[dict[str, FrontData] | None, str]:
        """Each source's audio through ``refine_session`` in turn, with progress over all of them."""
        if any(audio.truncated for audio in session.audio.values()):
            return None, TRUNCATED
        total = sum(audio.seconds for audio in session.audio.values())
        results: dict[str, FrontData] = {}
        done = 0.0

        def should_stop() -> bool:
            return key in self._cancelled

        for label, audio in session.audio.items():
            if should_stop():
                raise RefineCancelled
            samples = await asyncio.to_thread(audio.read)

            def progress(done_s: float, _total_s: float, before: float = done) -> None:
                session.callbacks.on_refine_progress(key, min(total, before + done_s), total)

            results[label] = await refine_session(
                session.engine, samples, session.choices, on_progress=progress, should_stop=should_stop
            )
            if should_stop():  # Cancel pressed during the last window is still a Cancel
                raise RefineCancelled
            done += audio.seconds
        return results, ""


def settle_audio(audio: dict[str, SessionAudio], plan: AudioPlan) -> tuple[Path, ...]:
    """Keep each source's audio beside the session's log when the plan says so, else delete it;
    a file that cannot be kept is deleted too (it was only ever meant to be temporary).
    Returns the files kept. Blocking file work: run it off the loop."""
    kept: list[Path] = []
    for label, recording in audio.items():
        if plan.keep:
            target = kept_audio_path(plan.session, label, AUDIO_SUFFIX)
            try:
                recording.keep_as(target)
                kept.append(target)
                continue
            except OSError:
                log.exception("could not keep the session audio as %s; deleting it", target)
        recording.discard()
    return tuple(kept)
