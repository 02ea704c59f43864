"""The desktop app end to end: real engine (tiny.en), real PulseAudio, real Qt widgets.

System audio is a private PulseAudio null sink; ``paplay`` plays real speech into it and the
app captures the sink's monitor, as it would a call or a video on a user's desktop.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from app.gui.bridge import EngineBridge
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from app.transcript.record import SessionRecord
from bench.metrics import align, normalize_text
from tests.audio.conftest import play

pytestmark = pytest.mark.usefixtures("pulse")


JFK = (
    "and so my fellow americans ask not what your country can do for you "
    "ask what you can do for your country"
)


def normalized(text: str) -> str:
    return " ".join(normalize_text(text))


def said(main: MainWindow) -> str:
    """The committed transcript as words (the list view adds times; the record has the text)."""
    return normalized(" ".join(entry.line.text for entry in main.record.lines)) if main.record else ""


def jfk_wer(text: str) -> float:
    reference = JFK.split()
    return align(reference, text.split()[: len(reference) + 5]).wer


@pytest.fixture
def threads_before() -> set[threading.Thread]:
    return set(threading.enumerate())


@pytest.fixture
def window(qtbot, threads_before):
    settings = Settings(model="tiny.en", language="en", source="system", overlay_visible=True)
    main = MainWindow(settings, EngineBridge())
    main.show()
    qtbot.waitUntil(lambda: main.start_button.isEnabled(), timeout=60_000)
    yield main
    if main.isVisible():
        main.close()


def start(qtbot, main: MainWindow) -> float:
    began = time.monotonic()
    main.toggle_captioning()
    qtbot.waitUntil(lambda: main._captioning, timeout=5_000)
    return time.monotonic() - began


def stop(qtbot, main: MainWindow) -> float:
    began = time.monotonic()
    main.toggle_captioning()
    qtbot.waitUntil(lambda: not main._captioning and main.start_button.isEnabled(), timeout=20_000)
    return time.monotonic() - began


def play_in_background(path) -> threading.Thread:
    """Play once the sink is warm: a fresh or suspended null sink's monitor starts ~2 s late."""
    time.sleep(2.5)
    player = threading.Thread(target=lambda: asyncio.run(play(path)), daemon=True)
    player.start()
    return player


def test_system_audio_reaches_transcript_overlay_autosave_and_export(qtbot, window, speech_file, tmp_path):
    start(qtbot, window)
    player = play_in_background(speech_file)
    qtbot.waitUntil(lambda: "do for your country" in said(window), timeout=60_000)
    player.join(30)
    shown = normalized(" ".join(window.overlay.visible_lines()))
    assert "your country" in shown
    assert "your country" in window.transcript.plain_text().lower()
    stop(qtbot, window)
    assert jfk_wer(said(window)) <= 0.2, said(window)
    saved = SessionRecord.reopen(window.record.log_path)
    assert normalized(" ".join(e.line.text for e in saved.lines)) == said(window)
    exported = window.export_transcript("srt", str(tmp_path / "session.srt"))
    assert exported is not None and "your country" in exported.read_text()


def test_start_and_stop_take_under_half_a_second(qtbot, window):
    for _ in range(3):
        assert start(qtbot, window) < 0.5
        assert stop(qtbot, window) < 0.5


def test_closing_while_captioning_keeps_the_words_and_leaves_no_thread(
    qtbot, window, speech_file, threads_before
):
    start(qtbot, window)
    player = play_in_background(speech_file)
    qtbot.waitUntil(lambda: "fellow" in said(window), timeout=60_000)
    player.join(30)
    heard = lambda: normalized(window.buffer_label.text()) + " " + said(window)  # noqa: E731
    qtbot.waitUntil(lambda: "your country" in heard(), timeout=30_000)
    window.close()  # mid-session: the final words must still be committed and saved
    saved = normalized(" ".join(e.line.text for e in SessionRecord.reopen(window.record.log_path).lines))
    assert "do for your country" in saved
    leftover = [t.name for t in set(threading.enumerate()) - threads_before if t.name.startswith("sayline-")]
    assert leftover == []


def test_an_engine_failure_is_shown_as_a_sentence(qtbot, window):
    window._option_changed("model", "/no/such/model/folder")
    qtbot.waitUntil(lambda: window.error_banner.isVisible(), timeout=20_000)
    assert "No model called" in window.error_banner.text()
    assert not window.start_button.isEnabled()
