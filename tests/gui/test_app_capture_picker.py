"""The application picker and "One application…" in the real window, with real players on the private
PulseAudio server: listing off the Qt thread, refresh, Start captioning only the picked player."""

from __future__ import annotations

import threading

from app.audio.app_capture import PICK_FIRST
from app.gui.app_picker import NONE_PLAYING, AppPicker
from tests.audio.players import Player, leftovers, sink_index, sink_of
from tests.conftest import eval_dir
from tests.pulse import SINK, PulseServer


def entries(picker: AppPicker) -> list[tuple[str, str | None]]:
    return [(picker.combo.itemText(i), picker.combo.itemData(i)) for i in range(picker.combo.count())]


def test_the_picker_lists_playing_apps_off_the_qt_thread_and_keeps_the_choice(qtbot, players) -> None:
    jfk = eval_dir("en") / "jfk.wav"
    players += [Player(jfk, "Player A"), Player(jfk, "Player B")]
    a, b = players
    a.app()  # both on the server before the picker asks
    b.app()
    listers: list[threading.Thread] = []

    def lister():
        listers.append(threading.current_thread())
        from app.audio import list_playing_apps

        return list_playing_apps()

    picker = AppPicker(lister=lister)
    qtbot.addWidget(picker)
    with qtbot.waitSignal(picker.changed, timeout=5_000):
        picker.show()  # appearing lists
    assert sorted(entries(picker)) == [("Player A — Player A speech", f"pid:{a.pid}"),
                                       ("Player B — Player B speech", f"pid:{b.pid}")]
    assert listers and threading.main_thread() not in listers
    picker.combo.setCurrentIndex(picker.combo.findData(f"pid:{b.pid}"))
    a.stop()
    with qtbot.waitSignal(picker.changed, timeout=5_000):
        picker.refresh_button.click()
    assert entries(picker) == [("Player B — Player B speech", f"pid:{b.pid}")]
    assert picker.current_key() == f"pid:{b.pid}"
    b.stop()
    with qtbot.waitSignal(picker.changed, timeout=5_000):
        picker.refresh()
    assert entries(picker) == [(NONE_PLAYING, None)] and picker.current_key() is None


def test_one_application_in_the_window_captions_only_the_picked_player(
    qtbot, make_window, pulse: PulseServer, players
) -> None:
    main = make_window(source="microphone")
    assert main.device_combo.isVisible() and not main.app_picker.isVisible()
    main.source_combo.setCurrentIndex(main.source_combo.findData("app"))
    assert main.app_picker.isVisible() and not main.device_combo.isVisible()
    qtbot.waitUntil(lambda: entries(main.app_picker) == [(NONE_PLAYING, None)], timeout=5_000)
    main.toggle_captioning()  # nothing picked: one sentence, and Start stays usable
    qtbot.waitUntil(lambda: main.error_banner.isVisible(), timeout=5_000)
    assert main.error_banner.text() == PICK_FIRST and main.start_button.isEnabled()

    jfk = eval_dir("en") / "jfk.wav"
    players += [Player(jfk, "Player A"), Player(jfk, "Player B")]
    a, b = players
    a.app()
    b.app()
    with qtbot.waitSignal(main.app_picker.changed, timeout=5_000):
        main.app_picker.refresh_button.click()
    main.app_picker.combo.setCurrentIndex(main.app_picker.combo.findData(f"pid:{b.pid}"))
    main.toggle_captioning()
    qtbot.waitUntil(lambda: main._captioning, timeout=10_000)
    assert not main.app_picker.isEnabled() and not main.source_combo.isEnabled()
    default = sink_index(pulse, SINK)
    assert sink_of(pulse, b.pid) != default and sink_of(pulse, a.pid) == default  # only B was moved
    assert not main.error_banner.isVisible()
    main.toggle_captioning()
    qtbot.waitUntil(lambda: not main._captioning and main.start_button.isEnabled(), timeout=20_000)
    assert sink_of(pulse, b.pid) == default and leftovers(pulse) == []
    assert main.app_picker.isEnabled()
