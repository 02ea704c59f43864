"""How long the overlay keeps its last caption once the captions stop changing, then a fade.

Why: a caption left on screen through a long silence covers the video and reads as if it were
just said; yet some people want it to stay until the next words (the behaviour before this
setting existed, and still the default). The hold is one single-shot timer restarted when the
captions change, and the fade a short animation; neither runs once the caption is gone, so an
idle overlay still wakes the CPU for nothing.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEasingCurve, QObject, QTimer, QVariantAnimation, Signal

from app.core.frontdata import FrontData

FADE_MS = 450  # long enough to read as "going away", short enough not to linger
RESTART_SLACK_S = 1.0


def committed_end(update: FrontData) -> float:
    """When the last committed words of ``update`` end (0 with none): the mark a clear leaves."""
    ends = [line.end for line in update.lines if not line.is_silence and line.text.strip()]
    return max(ends, default=0.0)


def still_cleared(update: FrontData, cleared_end: float | None) -> float | None:
    """The clear mark, or None once ``update`` belongs to a new stream.

    A new session's times start again from zero, so its words would all sit "before" the mark
    and never show; its committed words ending well before the mark (or it having none yet)
    tell it apart. The slack covers a revision that trims the last line's end a little.
    """
    if cleared_end is None:
        return None
    return cleared_end if committed_end(update) > cleared_end - RESTART_SLACK_S else None


def since_clear(update: FrontData, cleared_end: float | None) -> FrontData:
    """``update`` without the committed lines a clear already took off the screen.

    Lines are told by time, not by count, because a revision may fold lines into fewer; the
    live buffer always stays, being words still being said.
    """
    if cleared_end is None:
        return update
    return replace(update, lines=tuple(line for line in update.lines if line.end > cleared_end))


class CaptionHold(QObject):
    """Counts down from the last change of the captions, then fades them out.

    ``restart`` on every visible change; ``expired`` when the fade has finished (the caller then
    takes the caption away). ``opacity`` is what the caption text is drawn with meanwhile.
    A hold of 0 s means "until the next caption": nothing is ever started.
    """

    expired = Signal()
    opacity_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hold_ms = 0
        self.opacity = 1.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fade)
        self._fade_animation = QVariantAnimation(self)
        self._fade_animation.setStartValue(1.0)
        self._fade_animation.setEndValue(0.0)
        self._fade_animation.setDuration(FADE_MS)
        self._fade_animation.setEasingCurve(QEasingCurve.Type.InQuad)
        self._fade_animation.valueChanged.connect(self._set_opacity)
        self._fade_animation.finished.connect(self._finish)

    @property
    def hold_ms(self) -> int:
        return self._hold_ms

    def set_hold(self, seconds: int) -> None:
        """The setting changed; a running countdown keeps its start and takes the new length."""
        self._hold_ms = max(0, seconds) * 1000
        if not self._hold_ms:
            self.cancel()
        elif self._timer.isActive():
            remaining = self._hold_ms - (self._timer.interval() - self._timer.remainingTime())
            self._timer.start(max(0, remaining))

    def restart(self, showing: bool) -> None:
        """The captions changed: full opacity again, and a new countdown when something shows."""
        self.cancel()
        if showing and self._hold_ms:
            self._timer.start(self._hold_ms)

    def cancel(self) -> None:
        """No countdown, no fade: the caption stays as it is."""
        self._timer.stop()
        if self._fade_animation.state() != QVariantAnimation.State.Stopped:
            self._fade_animation.stop()
        self._set_opacity(1.0)

    def running(self) -> bool:
        """Whether anything here still wakes the CPU: the countdown or the fade."""
        return self._timer.isActive() or self._fade_animation.state() == QVariantAnimation.State.Running

    def expire_now(self) -> None:
        """Start the fade as if the hold had run out (the countdown's own path; also for tests)."""
        self._timer.stop()
        self._fade()

    def _fade(self) -> None:
        self._fade_animation.start()

    def _set_opacity(self, value: object) -> None:
        opacity = float(value)  # type: ignore[arg-type]  # QVariantAnimation hands over a float
        if opacity != self.opacity:
            self.opacity = opacity
            self.opacity_changed.emit()

    def _finish(self) -> None:
        self.expired.emit()
        self._set_opacity(1.0)  # the caller has cleared the text; the next caption shows fully
