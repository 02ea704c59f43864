"""Live capture from the private PulseAudio server: real speech in, the same speech out.

Every test plays real speech with ``paplay`` into the null sink and captures it back, through the
monitor (system audio) or the server's default source (microphone), with the real PortAudio, ALSA
pulse plugin and parec.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from app.audio import AudioCapture, CaptureSource
from app.audio.level import SILENCE_DBFS
from tests.audio.conftest import Recorder, match_score, play, read_wav, wait_for
from tests.pulse import SINK, PulseServer


def speech_score(recorder: Recorder, reference: Path, index: int = 0, since_block: int = 0) -> float:
    samples, rate = read_wav(reference)
    assert rate == 16_000
    return match_score(recorder.audio(index, since_block), samples)


def test_system_audio_captures_the_default_outputs_monitor(pulse: PulseServer, speech_file: Path) -> None:
    # A second, silent output holds the server's default *source*: only PULSE_SOURCE can steer the
    # capture to the test sink's monitor, so a match proves the monitor was really captured.
    pulse.load_sink("decoy")
    pulse.pactl("set-default-source", "decoy.monitor")
    states: list[tuple[str, str]] = []

    async def scenario() -> Recorder:
        capture = AudioCapture(CaptureSource("system"), on_state=lambda *s: states.append(s))
        async with Recorder(capture) as recorder:
            assert capture.description == f"system audio ({SINK}.monitor)"
            await recorder.wait_for_blocks()
            await play(speech_file)
        return recorder

    recorder = asyncio.run(scenario())
    assert speech_score(recorder, speech_file) > 0.8
    assert [state for state, _ in states] == ["running"]
    assert max(recorder.levels[0]) > -30 and min(recorder.levels[0]) < -90  # speech, then silence
    assert all(len(block) == 1600 and block.dtype == np.float32 for block in recorder.blocks[0][:-1])


def test_parec_backend_captures_the_monitor(pulse: PulseServer, speech_clip: Path) -> None:
    async def scenario() -> Recorder:
        async with Recorder(AudioCapture(CaptureSource("system", backend="parec"))) as recorder:
            await recorder.wait_for_blocks()
            await play(speech_clip)
        return recorder

    assert speech_score(asyncio.run(scenario()), speech_clip) > 0.8


def test_microphone_by_id_captures_the_default_source(pulse: PulseServer, speech_clip: Path) -> None:
    """The ALSA "pulse" device records the server's default source (here the test sink's monitor)."""

    async def scenario() -> Recorder:
        async with Recorder(AudioCapture(CaptureSource("microphone", "ALSA:pulse"))) as recorder:
            await recorder.wait_for_blocks()
            await play(speech_clip)
        return recorder

    assert speech_score(asyncio.run(scenario()), speech_clip) > 0.8


def test_meeting_mode_runs_microphone_and_system_audio_on_one_loop(
    pulse: PulseServer, speech_clip: Path
) -> None:
    """The default microphone and system audio at once; both hear the speech."""

    async def scenario() -> Recorder:
        microphone = AudioCapture(CaptureSource("microphone"))
        system = AudioCapture(CaptureSource("system"))
        async with Recorder(microphone, system) as recorder:
            await recorder.wait_for_blocks()
            await play(speech_clip)
        return recorder

    recorder = asyncio.run(scenario())
    assert speech_score(recorder, speech_clip, index=0) > 0.8
    assert speech_score(recorder, speech_clip, index=1) > 0.8


def test_lost_output_pauses_and_recovers_when_it_is_back(pulse: PulseServer, speech_clip: Path) -> None:
    states: list[list[tuple[str, str]]] = [[], []]

    def names(index: int) -> list[str]:
        return [state for state, _ in states[index]]

    async def scenario() -> tuple[Recorder, list[int]]:
        microphone = AudioCapture(CaptureSource("microphone"), on_state=lambda *s: states[0].append(s))
        system = AudioCapture(CaptureSource("system"), on_state=lambda *s: states[1].append(s))
        async with Recorder(microphone, system) as recorder:
            await recorder.wait_for_blocks()
            pulse.unload_sink()
            await wait_for(lambda: "lost" in names(0) and "lost" in names(1), 5, '"lost" from both')
            assert microphone.state == system.state == "lost" and system.level == SILENCE_DBFS
            pulse.load_sink()
            pulse.pactl("set-default-sink", SINK)
            pulse.pactl("set-default-source", f"{SINK}.monitor")
            await wait_for(lambda: "recovered" in names(0) and "recovered" in names(1), 5, '"recovered"')
            await recorder.wait_for_blocks()
            resumed_at = [len(blocks) for blocks in recorder.blocks]
            await play(speech_clip)
        return recorder, resumed_at

    recorder, resumed_at = asyncio.run(scenario())
    for index in (0, 1):
        assert names(index) == ["running", "lost", "recovered"], states[index]
        lost_message = states[index][1][1]
        assert lost_message.endswith("until audio is back.") and "stopped" in lost_message
        assert speech_score(recorder, speech_clip, index, since_block=resumed_at[index]) > 0.8


def test_a_source_moved_away_counts_as_lost(pulse: PulseServer) -> None:
    """PulseAudio moves a recording when its source vanishes; the capture must notice, not go on."""
    pulse.load_sink("spare")  # the server will move the stream to spare.monitor when the test sink goes
    states: list[str] = []

    async def scenario() -> None:
        capture = AudioCapture(CaptureSource("system"), on_state=lambda s, _: states.append(s))
        async with Recorder(capture) as recorder:
            await recorder.wait_for_blocks()
            pulse.unload_sink()
            pulse.pactl("set-default-sink", "spare")
            await wait_for(lambda: states[-1] == "recovered", 8, "the capture to follow the new default")
            assert capture.description == "system audio (spare.monitor)"

    asyncio.run(scenario())
    assert states == ["running", "lost", "recovered"]


def test_a_device_that_goes_quiet_is_lost_and_recovers_when_audio_flows(pulse: PulseServer) -> None:
    """No callbacks for over 2 s (here: the output suspended) is a loss; audio flowing again recovers."""
    states: list[str] = []

    async def scenario() -> None:
        capture = AudioCapture(CaptureSource("microphone"), on_state=lambda s, _: states.append(s))
        async with Recorder(capture) as recorder:
            await recorder.wait_for_blocks()
            pulse.pactl("suspend-sink", SINK, "1")
            started = time.monotonic()
            await wait_for(lambda: "lost" in states, 4, '"lost"')
            assert 1.9 < time.monotonic() - started < 3.0
            await asyncio.sleep(1.5)  # re-opened meanwhile, but silent: not "recovered" yet
            assert states == ["running", "lost"] and capture.state == "lost"
            pulse.pactl("suspend-sink", SINK, "0")
            await wait_for(lambda: "recovered" in states, 3, '"recovered"')
            await recorder.wait_for_blocks()

    asyncio.run(scenario())
    assert states == ["running", "lost", "recovered"]


def native_threads() -> set[str]:
    return set(os.listdir("/proc/self/task"))


def test_stop_is_prompt_and_leaves_no_thread_or_process(pulse: PulseServer) -> None:
    async def cycle() -> float:
        captures = [
            AudioCapture(CaptureSource("system", backend="parec")),
            AudioCapture(CaptureSource("system", backend="portaudio")),
            AudioCapture(CaptureSource("microphone")),
        ]
        async with Recorder(*captures) as recorder:
            await recorder.wait_for_blocks()
            assert any(p.name() == "parec" for p in psutil.Process().children())
            started = time.monotonic()
            stopper = threading.Thread(target=captures[0].stop)  # as the GUI thread would
            stopper.start()
            stopper.join()
            await asyncio.wait_for(recorder.tasks[0], timeout=1)
            return time.monotonic() - started

    asyncio.run(cycle())  # warm-up: one-time library threads appear here
    threads, tasks = set(threading.enumerate()), native_threads()
    took = asyncio.run(cycle())
    assert took < 0.5
    deadline = time.monotonic() + 2
    while (native_threads() - tasks or set(threading.enumerate()) - threads) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(threading.enumerate()) - threads == set()
    assert native_threads() - tasks == set()
    assert not [p for p in psutil.Process().children(recursive=True) if p.name() == "parec"]
