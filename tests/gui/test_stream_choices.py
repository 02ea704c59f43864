"""Stream choices in the real window: one StreamChoices for the live session and the server, the
language as a choice of the stream (never a model reload), lists read from their registries, and
the audio discovery that runs `pactl` kept off the Qt thread."""

from __future__ import annotations

import json
import threading

import pytest
from websockets.sync.client import connect

import app.audio
import app.audio.system_audio
import app.engine_host
import app.gui.main_window as main_window_module
from app.audio import InputDevice, SystemAudioUnavailable
from app.core.policy import POLICIES
from app.gui.main_window import MainWindow
from app.gui.settings import OVERLAY_TRANSLATION, SOURCES
from app.transcript.export import FORMATS


def start(qtbot, main: MainWindow) -> None:
    main.toggle_captioning()
    qtbot.waitUntil(lambda: main._captioning, timeout=10_000)


def stop(qtbot, main: MainWindow) -> None:
    main.toggle_captioning()
    qtbot.waitUntil(lambda: not main._captioning and main.start_button.isEnabled(), timeout=20_000)


def items(combo) -> dict[str, str]:
    return {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}


def record_callers(monkeypatch, name: str, replacement) -> list[threading.Thread]:
    """Swap ``name`` for a stand-in everywhere the app could call it from; the threads that did."""
    callers: list[threading.Thread] = []

    def recording(*args, **kwargs):
        callers.append(threading.current_thread())
        return replacement(*args, **kwargs)

    for module in (app.audio, app.audio.system_audio, app.engine_host, main_window_module):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, recording)
    return callers


class Greedy:
    """Commits every word at once (a policy made up for this test)."""

    label = "Greedy"


def test_a_new_policy_appears_in_the_commit_box_without_a_gui_edit(qtbot, make_window, monkeypatch):
    monkeypatch.setitem(POLICIES, "greedy", Greedy)
    main = make_window(policy="greedy")
    labels = items(main.policy_combo)
    assert labels["greedy"] == "Greedy" and labels["localagreement"] == "LocalAgreement (default)"
    assert labels["alignatt"] == "AlignAtt"
    assert main.policy_combo.currentData() == "greedy"
    assert main._checked_choices().policy == "greedy"


def test_sources_overlay_modes_and_export_formats_are_each_listed_once(qtbot, make_window):
    main = make_window()
    assert items(main.source_combo) == SOURCES
    assert items(main.overlay_translation_combo) == OVERLAY_TRANSLATION
    export_menu = next(b for b in main.findChildren(type(main.start_button)) if b.text() == "Export").menu()
    assert [action.text() for action in export_menu.actions()] == [fmt.upper() for fmt in FORMATS]


@pytest.mark.usefixtures("pulse")
def test_the_language_while_the_server_runs_reloads_nothing_and_reaches_the_next_session(
    qtbot, make_window, monkeypatch
):
    main = make_window(language="auto", source="system")
    engine = main.bridge.host.engine
    loads: list[str] = []
    monkeypatch.setattr(main.bridge, "load_model", loads.append)
    main.server_check.setChecked(True)
    qtbot.waitUntil(lambda: main.copy_url.isEnabled(), timeout=10_000)

    main.language_combo.setCurrentIndex(main.language_combo.findData("en"))
    qtbot.wait(300)
    assert main.settings.language == "en"
    assert loads == [] and main.bridge.host.engine is engine
    assert not main.error_banner.isVisible() and main.start_button.isEnabled()
    assert main.server_check.isChecked() and main.bridge.host.server is not None
    with connect(main.server_url.text(), open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "config"  # the server still serves streams
    qtbot.waitUntil(lambda: main.bridge.host.server.settings.choices.language == "en", timeout=5_000)
    assert main.bridge.host.server.settings.choices == main.settings.stream_choices()  # its next streams'

    start(qtbot, main)
    chosen = main.bridge.host.session.choices
    assert chosen.language == "en" and chosen == main.settings.stream_choices()
    stop(qtbot, main)
    assert main.bridge.host.engine is engine and loads == []


@pytest.mark.usefixtures("pulse")
def test_start_looks_for_system_audio_off_the_qt_thread(qtbot, make_window, monkeypatch):
    callers = record_callers(monkeypatch, "find_system_audio", app.audio.system_audio.find_system_audio)
    main = make_window(source="system")
    main.toggle_captioning()
    main.toggle_captioning()  # a second press (Ctrl+Return, the tray) while starting is ignored
    qtbot.waitUntil(lambda: main._captioning, timeout=10_000)
    assert len(callers) == 1 and callers[0] is not threading.main_thread()
    stop(qtbot, main)
    start(qtbot, main)  # asked again at every Start: the default output may have changed
    assert len(callers) == 2 and threading.main_thread() not in callers
    stop(qtbot, main)


def test_missing_system_audio_is_said_and_start_stays_usable(qtbot, make_window, monkeypatch):
    why = "No system audio here; install what it needs."
    callers = record_callers(monkeypatch, "find_system_audio", lambda: SystemAudioUnavailable(why))
    main = make_window(source="both")
    main.toggle_captioning()
    qtbot.waitUntil(lambda: main.error_banner.isVisible() and main.error_banner.text() == why, timeout=10_000)
    assert main.start_button.isEnabled() and not main._captioning and main.record is None
    assert threading.main_thread() not in callers


def test_a_choice_no_stream_can_take_is_said_at_start(qtbot, make_window):
    main = make_window(source="microphone", target_language="zz")
    main.toggle_captioning()
    assert main.error_banner.text().startswith("Unknown target language code 'zz'")
    assert main.start_button.isEnabled() and main.record is None
    main.server_check.setChecked(True)
    assert not main.server_check.isChecked() and main.bridge.host.server is None


def test_microphones_are_listed_off_the_qt_thread(qtbot, make_window, monkeypatch):
    usb = InputDevice("ALSA:USB mic", 3, "USB mic", "ALSA", 1, 48_000.0, False)
    built_in = InputDevice("ALSA:Built-in", 0, "Built-in", "ALSA", 2, 44_100.0, True)
    callers = record_callers(monkeypatch, "list_input_devices", lambda *_: [built_in, usb])
    main = make_window(input_device_id=usb.id)
    qtbot.waitUntil(lambda: main.device_combo.count() == 3, timeout=10_000)
    assert callers and threading.main_thread() not in callers
    assert list(items(main.device_combo).values()) == [
        "Default microphone", "Built-in · ALSA (default)", "USB mic · ALSA"
    ]
    assert main.device_combo.currentData() == usb.id and main.settings.input_device_id == usb.id
