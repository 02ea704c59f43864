"""Refining after Stop in the real window: real tiny.en, real speech, real Qt widgets (offscreen).

The capture devices are stood in for by real speech played a few times faster than real time
(then silence, as a quiet room gives), so the live path, the kept audio and the refine pass all
run as in the app while the tests stay short; tests/gui/test_desktop.py covers real devices.
"""

from __future__ import annotations

import asyncio
import json
import os

import numpy as np
import pytest

import app.engine_host
import app.live
from app.audio import CaptureSource
from app.core.decoding import SAMPLE_RATE, decode_file
from app.core.frontdata import FrontData, Line
from app.core.session_audio import SessionAudio
from app.gui.main_window import MainWindow
from app.gui.settings import load_settings
from app.transcript.export import to_txt
from app.transcript.record import SessionRecord, kept_audio_path, sessions_dir
from bench.metrics import align, normalize_text
from tests.conftest import clip

SPEED = 4.0  # times real time
BLOCK_S = 0.1
JFK = (
    "and so my fellow americans ask not what your country can do for you ask what you can do for your country"
)
AUSTEN_CLIP = "librivox_sense_sensibility_0890.wav"
AUSTEN = "unless to be rather cold hearted and rather selfish is to be ill disposed"


class SpeechCapture:
    """A capture device playing ``samples``, then silence until stopped (AudioCapture's interface)."""

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = samples
        self.level = -20.0
        self._stopped = False

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self._stopped = True

    async def blocks(self):
        step = round(BLOCK_S * SAMPLE_RATE)
        for offset in range(0, 10**9, step):
            if self._stopped:
                return
            block = self.samples[offset:offset + step]
            yield np.pad(block, (0, step - block.size))
            await asyncio.sleep(BLOCK_S / SPEED)


@pytest.fixture
def audio_made(monkeypatch) -> list[SessionAudio]:
    """Microphone: JFK; system audio: a LibriVox reader. Returns every SessionAudio the app makes."""
    speech = {"microphone": clip("en", "jfk.wav"), "system": clip("en", AUSTEN_CLIP)}

    def capture(source: CaptureSource, on_state=None) -> SpeechCapture:
        return SpeechCapture(speech[source.kind])

    monkeypatch.setattr(app.live, "AudioCapture", capture)
    monkeypatch.setattr(app.engine_host, "find_system_audio", lambda: CaptureSource("system"))
    made: list[SessionAudio] = []

    def recording(*args, **kwargs) -> SessionAudio:
        made.append(SessionAudio(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(app.live, "SessionAudio", recording)
    return made


def words(entries) -> str:
    return " ".join(normalize_text(" ".join(entry.line.text for entry in entries)))


def wer(reference: str, text: str) -> float:
    return align(reference.split(), text.split()).wer


def start(qtbot, main: MainWindow) -> None:
    main.toggle_captioning()
    qtbot.waitUntil(lambda: main._captioning, timeout=10_000)


def caption(qtbot, main: MainWindow, *endings: str) -> SessionRecord:
    """Start, wait until every ending was said, press Stop; the stopped session's record."""
    start(qtbot, main)
    qtbot.waitUntil(lambda: all(end in words(main.record.lines) for end in endings), timeout=60_000)
    record = main.record
    main.toggle_captioning()
    return record


def test_stop_refines_each_source_and_the_refined_transcript_replaces_the_live_one(
    qtbot, make_window, audio_made, tmp_path
):
    main = make_window(source="both")
    record = caption(qtbot, main, "you can do for your country", "selfish")  # JFK says "your country" twice
    assert main.refine_panel.isVisible() and main.refine_panel.label.text() == "Refining the transcript…"
    assert not main.model_combo.isEnabled()  # the engine is in use until refining ends
    qtbot.waitUntil(lambda: record.refined, timeout=60_000)

    assert not main.refine_panel.isVisible() and main.model_combo.isEnabled()
    shown = [main.transcript._rows[row] for row in range(main.transcript.rowCount())]
    assert shown == record.lines_of(refined=True) != record.lines_of(refined=False)
    for source, reference in (("You", JFK), ("Others", AUSTEN)):
        assert wer(reference, words(e for e in record.lines if e.source == source)) <= 0.2, source
    assert main.version_combo.isVisible()

    entries = [json.loads(raw) for raw in record.log_path.read_text().splitlines()]
    live = [e for e in entries if "revision" not in e]
    refined = [e for e in entries if e.get("revision") == "refined"]
    assert live and {e["source"] for e in live} == {"You", "Others"}
    assert refined[-1] == {"revision": "refined", "complete": True} and len(refined) == len(record.lines) + 1
    reopened = SessionRecord.reopen(record.log_path)
    assert reopened.lines == record.lines and reopened.lines_of(False) == record.lines_of(False)

    exported = json.loads(main.export_transcript("json", str(tmp_path / "t.json")).read_text())
    assert exported["refined"] is True and len(exported["lines"]) == len(record.lines)
    txt = main.export_transcript("txt", str(tmp_path / "t.txt")).read_text()
    assert txt == to_txt(record.as_update(), main.settings.label_for)
    main.version_combo.setCurrentIndex(main.version_combo.findData(False))  # the live version, if wanted
    assert main.transcript.rowCount() == len(record.lines_of(False))
    assert "refined" not in json.loads(main.export_transcript("json", str(tmp_path / "l.json")).read_text())

    assert len(audio_made) == 2 and not any(audio.path.parent.exists() for audio in audio_made)
    assert not list(sessions_dir().glob("*.flac"))  # not asked to keep it: deleted


def test_cancel_keeps_the_live_transcript_and_start_does_not_wait(qtbot, make_window, audio_made):
    main = make_window(source="microphone")
    main.transcript_checks["revise_sentences"].setChecked(False)
    outcomes = []
    main.bridge.refined.connect(outcomes.append)
    start(qtbot, main)
    assert main.bridge.host.session.choices.revise is False  # the switch reaches the live streams
    qtbot.waitUntil(lambda: "fellow americans" in words(main.record.lines), timeout=60_000)
    first = main.record
    main.toggle_captioning()
    main.refine_panel.cancel_button.click()  # at once: its last words may not even be in yet
    assert main.refine_panel.label.text() == "Cancelling…"
    qtbot.waitUntil(lambda: main.start_button.isEnabled(), timeout=20_000)
    start(qtbot, main)  # a new session starts while the last one is still being given up
    qtbot.waitUntil(lambda: bool(outcomes), timeout=30_000)

    assert (outcomes[0].session, outcomes[0].results, outcomes[0].message) == (first.log_path, None, "")
    assert not first.refined and first is not main.record and not main.refine_panel.isVisible()
    assert "fellow americans" in words(first.lines)
    assert not any(e.get("revision") for e in map(json.loads, first.log_path.read_text().splitlines()))
    assert not audio_made[0].path.parent.exists()


def test_quitting_right_after_stop_keeps_the_live_transcript_and_deletes_the_audio(
    qtbot, make_window, audio_made
):
    main = make_window(source="microphone")
    record = caption(qtbot, main, "fellow americans")
    main.close()  # Ctrl+Q at once: refining is given up (or never begins), the app quits
    reopened = SessionRecord.reopen(record.log_path)
    assert not reopened.refined and "fellow americans" in words(reopened.lines)
    assert audio_made and not any(audio.path.parent.exists() for audio in audio_made)


def test_kept_audio_is_private_and_beside_the_log(qtbot, make_window, audio_made):
    main = make_window(source="microphone")
    main.transcript_checks["refine_after_stop"].setChecked(False)
    main.transcript_checks["keep_session_audio"].setChecked(True)
    outcomes = []
    main.bridge.refined.connect(outcomes.append)
    record = caption(qtbot, main, "fellow americans")
    assert not main.refine_panel.isVisible()
    qtbot.waitUntil(lambda: bool(outcomes), timeout=20_000)

    kept = kept_audio_path(record.log_path, "", ".flac")
    assert outcomes[0].kept_audio == (kept,) and outcomes[0].results is None and not record.refined
    assert kept.stat().st_mode & 0o777 == 0o600 or os.name != "posix"
    assert abs(len(decode_file(kept)) - audio_made[0].seconds * SAMPLE_RATE) < SAMPLE_RATE // 10
    assert not audio_made[0].path.parent.exists()


def test_the_transcript_switches_persist_and_reach_the_stream_choices(qtbot, make_window, config_dir):
    main = make_window()
    checks = main.transcript_checks
    assert [checks[name].isChecked() for name in checks] == [True, True, True, False]  # the defaults
    assert main._checked_choices().revise is True
    for check in checks.values():
        check.toggle()
    assert main._checked_choices().revise is False
    qtbot.waitUntil(lambda: (config_dir / "settings.json").is_file(), timeout=5_000)
    qtbot.wait(700)
    saved, warning = load_settings()
    assert warning is None
    assert (saved.revise_sentences, saved.refine_after_stop, saved.keep_session_audio) == (False, False, True)
    assert saved.recognise_voices is False
    assert saved.stream_choices().revise is False


def test_a_session_killed_mid_refine_reopens_with_its_live_transcript(qtbot, make_window):
    record = SessionRecord.new_autosaved()
    record.apply("", FrontData("active_transcription", (Line(1, "The live words.", 0.0, 1.0),)))
    record.close()
    record.add_refined({"": FrontData(lines=(Line(1, "The refined words.", 0.0, 1.0),), refined=True)})
    whole = record.log_path.read_text()
    record.log_path.write_text(whole[: whole.rindex("{")])  # killed before the completion mark
    main = make_window()
    main.open_last_session()
    assert "The live words." in main.transcript.plain_text() and not main.version_combo.isVisible()
    record.log_path.write_text(whole)
    main.open_last_session()
    assert "The refined words." in main.transcript.plain_text() and main.version_combo.isVisible()
