"""Device listing and system-audio discovery against the private PulseAudio server."""

from __future__ import annotations

import dataclasses

import pytest

from app.audio import (
    AudioCapture,
    AudioError,
    CaptureSource,
    SystemAudioUnavailable,
    find_system_audio,
    list_input_devices,
    list_monitor_sources,
)
from tests.pulse import MONITOR, SINK, PulseServer


def test_input_devices_include_pulse_and_one_default(pulse: PulseServer) -> None:
    devices = list_input_devices()
    by_id = {device.id: device for device in devices}
    assert "ALSA:pulse" in by_id, [d.id for d in devices]
    pulse_device = by_id["ALSA:pulse"]
    assert pulse_device.host_api == "ALSA" and pulse_device.channels > 0 and pulse_device.samplerate > 0
    assert sum(device.is_default for device in devices) == 1
    assert len(by_id) == len(devices)  # ids are unique
    with pytest.raises(dataclasses.FrozenInstanceError):
        pulse_device.name = "other"  # type: ignore[misc]


def test_monitor_sources_mark_the_default_output(pulse: PulseServer) -> None:
    pulse.load_sink("sayline_other")
    monitors = {monitor.name: monitor for monitor in list_monitor_sources()}
    assert set(monitors) == {MONITOR, "sayline_other.monitor"}
    assert monitors[MONITOR].is_default and monitors[MONITOR].sink == SINK
    assert not monitors["sayline_other.monitor"].is_default
    assert find_system_audio() == CaptureSource("system")


def test_no_output_means_system_audio_unavailable_with_a_reason(pulse: PulseServer) -> None:
    pulse.unload_sink()
    found = find_system_audio()
    assert isinstance(found, SystemAudioUnavailable)
    assert found.reason == "The sound server has no output device; connect speakers or headphones."


def test_missing_monitor_fails_start_with_a_sentence(pulse: PulseServer) -> None:
    capture = AudioCapture(CaptureSource("system", "no_such_sink.monitor"))
    with pytest.raises(AudioError, match=r"no_such_sink\.monitor is not available; .*\.$"):
        capture.start()
    capture.stop()


def test_missing_microphone_falls_back_to_the_default_input(pulse: PulseServer) -> None:
    states: list[tuple[str, str]] = []
    source = CaptureSource("microphone", "ALSA:unplugged mic")
    capture = AudioCapture(source, on_state=lambda *s: states.append(s))
    capture.start()
    capture.stop()
    assert [state for state, _ in states] == ["running"]
    assert states[0][1].startswith("Capturing the default input ")
    assert states[0][1].endswith("because ALSA:unplugged mic is not available.")
