"""The desktop app as a user runs it: idle CPU, audio-to-caption latency, memory, screenshots.

    python -m bench.desktop --model tiny.en --screenshots docs

Runs the real main window and overlay on a screen (Xvfb is started when there is no
DISPLAY) and a private PulseAudio server whose null sink plays the JFK sample, which the
app captures as system audio, exactly as it would a call or a video.

Latency here is from a word leaving the speaker (paplay's start plus the word's end time
in an offline decode of the same file) to the first overlay update that shows it, as the
live buffer ("shown") and as committed text ("committed"). Paint follows the update on
the next event-loop turn, a few milliseconds later.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from bench.metrics import align, normalize_text, normalize_timed

SAMPLE = Path(__file__).resolve().parent.parent / "resources" / "samples" / "jfk.wav"


def start_xvfb() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    display = ":93"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"])
    os.environ["DISPLAY"] = display
    time.sleep(1.0)
    return xvfb


def offline_word_ends(model_path: Path, sample: Path) -> tuple[list[str], list[float]]:
    from faster_whisper import WhisperModel

    from app.core.decoding import decode_file

    model = WhisperModel(str(model_path), device="cpu", compute_type="int8")
    segments, _ = model.transcribe(decode_file(sample), language="en", beam_size=5, word_timestamps=True)
    return normalize_timed([(w.word, w.end) for s in segments for w in s.words])


class Observer:
    """Stamps each reference word with when the overlay first showed it, and when it was committed."""

    def __init__(self, reference: list[str]) -> None:
        self.reference = reference
        self.shown: dict[int, float] = {}
        self.committed: dict[int, float] = {}

    def see(self, text: str, into: dict[int, float]) -> None:
        now = time.monotonic()
        for ref_index, _ in align(self.reference, normalize_text(text)).matches:
            into.setdefault(ref_index, now)


def cpu_percent(process: psutil.Process, seconds: float, pump) -> float:
    """Process CPU over ``seconds`` of Qt's own event loop (no polling of ours to inflate it)."""
    before = process.cpu_times()
    began = time.monotonic()
    pump(seconds)
    after = process.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return 100.0 * used / (time.monotonic() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--screenshots", type=Path, help="folder for desktop.png and overlay.png")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="speech played into system audio")
    parser.add_argument("--diarization", action="store_true", help="captions with the Speakers switch on")
    args = parser.parse_args()
    shot_suffix = "-speakers" if args.diarization else ""

    xvfb = start_xvfb()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    scratch = Path(tempfile.mkdtemp(prefix="sayline-desktop-"))
    os.environ["SAYLINE_CONFIG_DIR"] = str(scratch / "config")
    os.environ["SAYLINE_DATA_DIR"] = str(scratch / "data")

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.core.models import resolve_model
    from app.gui.bridge import EngineBridge
    from app.gui.main_window import MainWindow
    from app.gui.settings import Settings
    from app.gui.theme import DEFAULT_THEME, apply_theme
    from tests.pulse import SINK, private_pulse_server

    reference, word_ends = offline_word_ends(resolve_model(args.model), args.sample)
    process = psutil.Process()
    app = QApplication(sys.argv[:1])
    apply_theme(app, DEFAULT_THEME)  # the app's stylesheet and palette, as a first run has them

    def pump(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(round(seconds * 1000), loop.quit)
        loop.exec()

    def wait_until(condition, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError(what)
            pump(0.05)

    results: dict = {"model": args.model}
    try:
        with private_pulse_server(scratch):
            settings = Settings(
                model=args.model, language="en", source="system", overlay_visible=True,
                diarization=args.diarization, overlay_lines=3 if args.diarization else 2,
            )
            window = MainWindow(settings, EngineBridge())
            window.show()
            wait_until(lambda: window.start_button.isEnabled(), 120, "the model to load")
            pump(1.0)
            idle = cpu_percent(process, args.idle_seconds, pump)
            results["idle_cpu_percent_overlay_shown"] = round(idle, 2)

            observer = Observer(reference)
            original = window.overlay.show_update

            def observed_show_update(update, *rest, **kw):
                original(update, *rest, **kw)
                observer.see(" ".join(window.overlay.visible_lines()), observer.shown)
                if window.record is not None:
                    observer.see(" ".join(e.line.text for e in window.record.lines), observer.committed)

            window.overlay.show_update = observed_show_update
            window.toggle_captioning()
            wait_until(lambda: window._captioning, 5, "captioning to start")
            pump(1.0)
            silent = cpu_percent(process, args.idle_seconds, pump)
            results["cpu_percent_captioning_silence"] = round(silent, 2)

            played_at = time.monotonic()
            player = subprocess.Popen(["paplay", f"--device={SINK}", str(args.sample)])
            wait_until(lambda: player.poll() is not None, 120, "playback")
            pump(4.0)
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                screen = app.primaryScreen().grabWindow(0)
                screen.save(str(args.screenshots / f"desktop{shot_suffix}.png"))
                window.overlay.grab().save(str(args.screenshots / f"overlay{shot_suffix}.png"))
            window.toggle_captioning()
            wait_until(lambda: not window._captioning, 30, "captioning to stop")
            results["rss_mb"] = round(process.memory_info().rss / 2**20, 1)
            for kind, seen in (("shown", observer.shown), ("committed", observer.committed)):
                delays = [seen[i] - (played_at + word_ends[i]) for i in seen]
                results[f"latency_{kind}_s"] = {
                    "words": len(delays),
                    "of": len(reference),
                    "median": round(statistics.median(delays), 3) if delays else None,
                    "max": round(max(delays), 3) if delays else None,
                }
            results["transcript"] = " ".join(e.line.text for e in window.record.lines)
            window.close()
    finally:
        if xvfb is not None:
            xvfb.terminate()
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
