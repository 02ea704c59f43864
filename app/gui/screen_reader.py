"""Committed captions spoken by the user's screen reader (Orca, NVDA, Narrator, VoiceOver), opt-in.

Qt 6.8 added QAccessibleAnnouncementEvent: a message the platform bridge hands to assistive
technology as an announcement (AT-SPI's Announcement signal on Linux, a UI Automation
notification on Windows, an NSAccessibility announcement on macOS), spoken without moving the
user's focus, like a web page's polite live region. This module is the small Qt side: a
single-shot timer woken when `AnnouncementThrottle` says the next merged announcement is due. The
timing rules themselves are in app/gui/announcements.py, without Qt.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QAccessibleEvent
from PySide6.QtWidgets import QWidget

from app.gui.announcements import AnnouncementThrottle

Post = Callable[[QAccessibleEvent], None]


class CaptionAnnouncer(QObject):
    """Announces caption lines on behalf of ``target`` (the main window), when enabled.

    ``post`` is how an event reaches assistive technology: QAccessible.updateAccessibility, which
    does nothing while no screen reader listens; tests pass their own to see what was sent.
    """

    announced = Signal(str)  # each message as it is posted

    def __init__(
        self,
        target: QWidget,
        *,
        post: Post = QAccessible.updateAccessibility,
        clock: Callable[[], float] = time.monotonic,
        throttle: AnnouncementThrottle | None = None,
    ) -> None:
        super().__init__(target)
        self._target = target
        self._post = post
        self._clock = clock
        self._throttle = throttle or AnnouncementThrottle()
        self._enabled = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    def set_enabled(self, on: bool) -> None:
        """Off drops what waits: turning announcements on later must not replay old lines."""
        self._enabled = on
        if not on:
            self._throttle.clear()
            self._timer.stop()

    def is_enabled(self) -> bool:
        return self._enabled

    def add_lines(self, texts: Iterable[str]) -> None:
        """Newly committed lines, already labelled ("Dana: …") as the transcript shows them."""
        if not self._enabled:
            return
        now = self._clock()
        for text in texts:
            self._throttle.add(text, now)
        self._schedule()

    def _schedule(self) -> None:
        due = self._throttle.next_due()
        if due is None:
            return
        wait_ms = max(0, math.ceil((due - self._clock()) * 1000))
        if not self._timer.isActive() or self._timer.remainingTime() > wait_ms:
            self._timer.start(wait_ms)

    def _fire(self) -> None:
        message = self._throttle.take(self._clock())
        if message is None:  # woken a little early (timer granularity): wait for the rest
            self._schedule()
            return
        event = QAccessibleAnnouncementEvent(self._target, message)
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Polite)  # never cut the user's own reading
        self._post(event)
        self.announced.emit(message)
        self._schedule()
