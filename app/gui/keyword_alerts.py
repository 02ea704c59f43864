"""Keyword alerts in the desktop app: flash the word on the overlay, chime, and notify.

The matching and the once-per-occurrence rule are pure (app/core/keywords.py); this is the Qt
side. A hit makes the overlay highlight the heard word (blinking three times, then held a few
seconds so a user who looks up still finds it), plays a short chime when the user asked for
sound, and posts a desktop notification (the tray's balloon; the status bar where there is no
tray), since the user who needs this is by definition not looking at the captions.

Idle cost is nil: the only timer runs while a highlight is shown, and an update is searched
only in the lines that changed and the live text (bench.keyword_alerts measures microseconds).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.core.frontdata import FrontData
from app.core.keywords import AlertTracker, Hit, KeywordMatcher
from app.gui.overlay import CaptionOverlay
from app.gui.settings import Settings

log = logging.getLogger(__name__)

BLINKS = 3  # highlight on/off this many times (2.5 flashes a second: well under the 3/s seizure limit)
BLINK_MS = 200
HOLD_MS = 8000  # the highlight stays this long after the last hit
NOTIFY_GAP_S = 3.0  # notifications and chimes closer than this are one: a name said twice is one call
NOTIFICATION_MS = 6000
CONTEXT_CHARS = 48  # caption text each side of the word in the notification

Notifier = Callable[[str, str], None]


def chime(sample_rate: int = 44100) -> np.ndarray:
    """A soft two-note chime (0.35 s, float32): distinct from speech, not startling.

    Generated, not shipped as a file: nothing to package, and QtMultimedia (which would play a
    WAV) is not part of the PySide6-Essentials wheel Sayline installs.
    """
    notes = ((880.0, 0.0, 0.18), (1318.5, 0.12, 0.35))  # A5 then E6, overlapping
    t = np.arange(int(0.35 * sample_rate)) / sample_rate
    out = np.zeros_like(t)
    for frequency, start, end in notes:
        inside = (t >= start) & (t < end)
        local = t[inside] - start
        attack, release = np.minimum(1.0, local / 0.01), np.minimum(1.0, (end - start - local) / 0.03)
        envelope = attack * np.exp(-local * 9.0) * release  # 10 ms in, a soft decay, 30 ms out: no clicks
        out[inside] += np.sin(2 * np.pi * frequency * local) * envelope
    return (0.25 * out / max(1e-9, np.abs(out).max())).astype(np.float32)


class AlertSound:
    """Plays the chime on the default output through PortAudio (already loaded for capture).

    Played on a short-lived thread: opening an output device can take a moment, and the Qt
    thread must never wait. Without PortAudio or an output device it falls back to the
    platform's beep, which is all Qt itself offers without QtMultimedia.
    """

    def __init__(self) -> None:
        self._samples = chime()
        self._busy = threading.Lock()

    def play(self) -> None:
        if not self._busy.acquire(blocking=False):
            return  # one chime at a time
        threading.Thread(target=self._play, name="sayline-chime", daemon=True).start()

    def _play(self) -> None:
        from app.audio import portaudio

        try:
            sd = portaudio.sounddevice()
            with portaudio.LOCK:  # opens are serialised with device re-scans
                stream = sd.OutputStream(samplerate=44100, channels=1, dtype="float32")
                portaudio.stream_opened()
            try:
                stream.start()
                stream.write(self._samples.reshape(-1, 1))
                stream.stop()
            finally:
                stream.close()
                portaudio.stream_closed()
        except Exception as exc:  # no PortAudio, no output device: a beep still says it
            log.info("alert chime not played (%s); beeping instead", exc)
            QTimer.singleShot(0, QApplication.instance(), QApplication.beep)
        finally:
            self._busy.release()


def context(update: FrontData, surface: str) -> str:
    """The caption text around the latest ``surface`` in ``update``, for the notification."""
    recent = " ".join(
        [line.text for line in update.lines[-3:] if line.text]
        + [update.buffer_diarization, update.buffer_transcription]
    ).split()
    text = " ".join(recent)
    at = text.lower().rfind(surface.lower())
    if at < 0:
        return surface
    start, end = max(0, at - CONTEXT_CHARS), min(len(text), at + len(surface) + CONTEXT_CHARS)
    head = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    return f"{head}{text[start:end].strip()}{tail}"


class KeywordAlerts(QObject):
    """Watches caption updates for the user's words; one tracker per source (each has its own clock).

    ``ignored_sources`` are source labels never alerted on: in meeting mode the microphone is
    the user's own voice, and hearing one's own name is no news.
    """

    alerted = Signal(object, str)  # Hit, source label

    def __init__(
        self,
        settings: Settings,
        overlay: CaptionOverlay,
        notify: Notifier | None = None,
        sound: AlertSound | None = None,
        ignored_sources: Collection[str] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.overlay = overlay
        self._notify = notify
        self._sound = sound
        self._ignored = frozenset(ignored_sources)
        self._trackers: dict[str, AlertTracker] = {}
        self._settings = settings
        self._matcher = KeywordMatcher(())
        self._last_notice = float("-inf")
        self._flash_words: list[str] = []
        self._finder: Callable[[str], list[tuple[int, int]]] = self._matcher.spans
        self._blinks_left = 0
        self._highlight_on = False
        self._blink = QTimer(self)
        self._blink.setInterval(BLINK_MS)
        self._blink.timeout.connect(self._toggle)
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._hold.timeout.connect(self.clear_highlight)
        self.apply_settings(settings)

    @property
    def words(self) -> tuple[str, ...]:
        """The words being listened for (the enabled ones)."""
        return self._matcher.keywords

    def apply_settings(self, settings: Settings) -> None:
        """Take a new word list or sound/notification choice; words on screen already do not alert."""
        self._settings = settings
        enabled = [word for word, on in settings.alert_words.items() if on]
        if tuple(enabled) == self._matcher.keywords:
            return
        self._matcher = KeywordMatcher(enabled)
        for tracker in self._trackers.values():
            tracker.set_matcher(self._matcher)
        self._flash_words = [word for word in self._flash_words if word in enabled]
        if not self._flash_words:
            self.clear_highlight()

    def reset(self) -> None:
        """A new session: its streams' clocks start again."""
        self._trackers.clear()
        self.clear_highlight()

    def feed(self, source: str, update: FrontData) -> list[Hit]:
        """Check one source's update; alert for each new occurrence. Returns the new hits."""
        if source in self._ignored:
            return []
        # Fed even with no words on: a word added later must not alert for what was said before.
        tracker = self._trackers.get(source)
        if tracker is None:
            tracker = self._trackers[source] = AlertTracker(self._matcher)
        hits = tracker.feed(update)
        if hits:
            self._alert(hits, source, update)
        return hits

    def clear_highlight(self) -> None:
        self._blink.stop()
        self._hold.stop()
        self._flash_words = []
        self._highlight_on = False
        self.overlay.set_highlight(None)

    # --- alerting ---------------------------------------------------------------------------

    def _alert(self, hits: Sequence[Hit], source: str, update: FrontData) -> None:
        for hit in hits:
            log.info("alert word heard: %r at %.1f s %s", hit.keyword, hit.time_s, source)
            self.alerted.emit(hit, source)
        self._flash([hit.keyword for hit in hits])
        now = time.monotonic()
        if now - self._last_notice < NOTIFY_GAP_S:
            return
        self._last_notice = now
        if self._settings.alert_sound and self._sound is not None:
            self._sound.play()
        if self._settings.alert_notification and self._notify is not None:
            hit = hits[0]
            who = f"{source}: " if source else ""
            self._notify(f"“{hit.keyword}” heard", who + context(update, hit.surface))

    def _flash(self, keywords: Sequence[str]) -> None:
        for keyword in keywords:
            if keyword not in self._flash_words:
                self._flash_words.append(keyword)
        finder = KeywordMatcher(self._flash_words, self._matcher.max_edit_ratio)
        self._finder = finder.spans
        self._blinks_left = 2 * BLINKS  # toggles: off, on, off, on, off, on
        self._set_on(True)
        self._blink.start()
        self._hold.start(HOLD_MS)

    def _toggle(self) -> None:
        self._blinks_left -= 1
        self._set_on(not self._highlight_on)
        if self._blinks_left <= 0:
            self._blink.stop()  # an even count of toggles: it ends highlighted, held until _hold fires

    def _set_on(self, on: bool) -> None:
        self._highlight_on = on
        self.overlay.set_highlight(self._finder if on else None)
