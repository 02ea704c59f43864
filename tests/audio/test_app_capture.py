"""One application's sound, captured alone, from the private PulseAudio server with real players.

Two real ``paplay`` processes play two different real recordings at the same time; Sayline captures
one of them through its private null sink. The captured audio must be that player's (by
cross-correlation with its file, and by what the real tiny.en engine transcribes) and never the
other's, the user must still hear it on the output it played on, and stopping, crashing and the
player quitting must each leave the server as it was, with one clear sentence where it matters.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.audio import AudioCapture, AudioError, CaptureSource, list_playing_apps
from app.audio.app_capture import PICK_FIRST, unsupported_reason
from app.audio.app_route import NO_PACTL, AppRoute, cleanup_stale_routes
from app.audio.app_streams import app_key, parse_sink_inputs, playing_apps
from app.core.choices import StreamChoices
from app.live import LiveCallbacks, LiveSession, LiveSource
from bench.metrics import align, normalize_text
from tests.audio.conftest import Recorder, wait_for
from tests.audio.players import Player, leftovers, padded, pieces_heard, sink_index, sink_of
from tests.conftest import ROOT, eval_dir, manifest
from tests.pulse import SINK, PulseServer, private_pulse_server

DATA = Path(__file__).resolve().parent.parent / "data"
SPEAKERS = "speakers"  # a second output, so "goes back where it was" cannot pass by luck


@pytest.fixture
def speakers(pulse: PulseServer) -> int:
    """A second output beside the default one; its index."""
    pulse.load_sink(SPEAKERS)
    return sink_index(pulse, SPEAKERS)


def words(text: str) -> set[str]:
    return set(normalize_text(text))


# --- the parser, on output recorded from the real server ----------------------------------------


def test_the_parser_reads_recorded_pactl_output() -> None:
    """tests/data/pactl_sink_inputs.txt: `pactl list sink-inputs` (pactl 16.1, LC_ALL=C) while two
    paplay processes played and Sayline captured player A; its loopback stream is listed too."""
    streams = parse_sink_inputs((DATA / "pactl_sink_inputs.txt").read_text())
    assert [s.index for s in streams] == [0, 1, 2]
    b, a, loopback = streams
    assert (a.app_name, a.binary, a.pid, a.media_name) == ("Player A", "pacat", 28522, "Player A speech")
    assert (a.sink, a.corked, a.driver) == (2, False, "protocol-native.c")  # on Sayline's null sink
    assert (b.app_name, b.pid, b.sink) == ("Player B", 28523, 0)
    assert b.properties["application.process.machine_id"] == "3d1219c7c4c5404aaa1f6d2a48adfda4"
    assert loopback.driver == "module-loopback.c" and loopback.sink == 1 and not loopback.is_application
    assert loopback.media_name == "Loopback from Monitor of sayline_app_28495_1"
    apps = playing_apps(streams)
    assert [(app.key, app.label) for app in apps] == [
        ("pid:28523", "Player B — Player B speech"), ("pid:28522", "Player A — Player A speech")
    ]
    assert apps[1].details == "pacat, pid 28522, 1 stream" and apps[1].who == "Player A (pid 28522)"
    assert playing_apps(streams, exclude_sinks=[2]) == apps[:1]  # the one being captured is not offered


def test_the_parser_groups_an_apps_streams_and_unescapes_names() -> None:
    text = (
        "Sink Input #7\n\tDriver: PipeWire\n\tSink: 3\n\tCorked: yes\n\tProperties:\n"
        '\t\tmedia.name = "Tab \\"news\\""\n\t\tapplication.name = "Firefox"\n'
        '\t\tapplication.process.id = "88"\n'
        "Sink Input #9\n\tDriver: PipeWire\n\tSink: 3\n\tCorked: no\n\tVolume: front-left: 1 / 0%\n"
        "\t        balance 0.00\n\tProperties:\n"
        '\t\tmedia.name = "AudioStream"\n\t\tapplication.name = "Firefox"\n'
        '\t\tapplication.process.id = "88"\n'
    )
    streams = parse_sink_inputs(text)
    assert [app_key(s) for s in streams] == ["pid:88", "pid:88"]
    (app,) = playing_apps(streams)
    assert app.streams == (7, 9) and app.media == ('Tab "news"', "AudioStream") and not app.corked
    assert app.label == 'Firefox — Tab "news"' and app.details == "Firefox, pid 88, 2 streams"


# --- capturing one player of two ------------------------------------------------------------------


def test_only_the_chosen_player_is_captured_it_is_still_heard_and_goes_back(
    pulse: PulseServer, players: list[Player], speakers: int, tmp_path: Path
) -> None:
    """Player A plays on a second output, player B on the default one, both speaking at once."""
    a_file, a_speech = padded(tmp_path, "ps_forever_input_2.wav", lead_s=1.5, tail_s=2.0)
    b_file, b_speech = padded(tmp_path, "librivox_sense_sensibility_0930.wav", lead_s=0.3, tail_s=0, repeat=3)
    players += [Player(a_file, "Player A", SPEAKERS), Player(b_file, "Player B")]
    a, b = players
    picked = a.app()
    b.app()
    states: list[tuple[str, str]] = []

    async def scenario() -> Recorder:
        captured = AudioCapture(CaptureSource("app", picked.key), on_state=lambda *s: states.append(s))
        heard = AudioCapture(CaptureSource("system", f"{SPEAKERS}.monitor"))  # what the user hears there
        async with Recorder(captured, heard) as recorder:
            assert sink_of(pulse, a.pid) != speakers and sink_of(pulse, b.pid) == sink_index(pulse, SINK)
            assert list_playing_apps() == [b.app()]  # the captured one is not offered twice
            # Until A's whole speech came through both (a resumed null sink starts its streams ~2 s late).
            deadline = time.monotonic() + 10
            while min(found := [min(pieces_heard(recorder.audio(i), a_speech)) for i in (0, 1)]) <= 0.7:
                assert time.monotonic() < deadline, f"A not all captured and heard: {found}"
                await asyncio.sleep(0.25)
        return recorder

    recorder = asyncio.run(scenario())
    assert states == [("running", f"Capturing Player A (pid {a.pid}).")]
    # Every half-second of A's speech is in the capture and still reaches A's output (the loopback);
    # none of B's, which played all along on the default output, is in the capture.
    assert min(pieces_heard(recorder.audio(0), a_speech)) > 0.7
    assert min(pieces_heard(recorder.audio(1), a_speech)) > 0.7
    assert max(pieces_heard(recorder.audio(0), b_speech)) < 0.3
    assert a.process.poll() is None  # still playing its tail: the restore is checked on a live stream
    assert sink_of(pulse, a.pid) == speakers and sink_of(pulse, b.pid) == sink_index(pulse, SINK)
    assert leftovers(pulse) == []


def test_the_other_players_sound_never_reaches_the_transcript(
    pulse: PulseServer, players: list[Player], tiny_engine, tmp_path: Path
) -> None:
    """Both players on the same output; a live session (as the app runs one) captions player A."""
    a_name, b_name = "librivox_sense_sensibility_0890.wav", "jfk.wav"
    a_file, _ = padded(tmp_path, a_name, lead_s=1.0, tail_s=0.5)
    players += [Player(a_file, "Player A"), Player(eval_dir("en") / b_name, "Player B")]
    picked = players[0].app()
    players[1].app()
    updates = []

    async def scenario() -> None:
        callbacks = LiveCallbacks(
            on_update=lambda _label, update: updates.append(update),
            on_capture_state=lambda *_: None, on_level=lambda *_: None,
        )
        source = LiveSource("", CaptureSource("app", picked.key))
        session = LiveSession(tiny_engine, [source], callbacks, StreamChoices(language="en"))
        await session.start()
        await wait_for(lambda: players[0].process.poll() is not None, 20, "player A to finish")
        await asyncio.sleep(0.4)  # its last fragments still travel from the sink to the monitor
        await session.stop()

    asyncio.run(scenario())
    final = updates[-1]
    said = " ".join(line.text for line in final.lines) + " " + final.buffer_transcription
    reference = manifest("en")[a_name]["text"]
    assert align(normalize_text(reference), normalize_text(said)).wer < 0.35, said
    jfk_only = words(manifest("en")[b_name]["text"]) - words(reference)  # americans, country, ask…
    assert words(said) & jfk_only == set(), said
    assert leftovers(pulse) == []


def test_another_process_with_the_apps_name_is_moved_out_before_it_is_heard(
    players: list[Player], tmp_path: Path
) -> None:
    """Desktops run the server's stream-restore, which remembers outputs per application *name*: once
    player A is routed, another process calling itself "Player A" opens its stream right on Sayline's
    route. It must be moved out before its sound reaches the capture, found by `pactl subscribe` at
    once rather than by the next periodic check (without the watcher this test fails)."""
    a_file, _ = padded(tmp_path, "jfk.wav", lead_s=0, tail_s=0)
    other_file, other_speech = padded(tmp_path, "ps_goforward.wav", lead_s=0.2, tail_s=0)
    (tmp_path / "restore").mkdir()
    with private_pulse_server(tmp_path / "restore", ("-L", "module-stream-restore")) as server:
        players.append(Player(a_file, "Player A"))
        key = players[0].app().key

        async def scenario() -> Recorder:
            # No periodic check during the test: what moves the other stream out must be the watcher.
            async with Recorder(AudioCapture(CaptureSource("app", key), check_interval=60)) as recorder:
                await recorder.wait_for_blocks()  # the capture is flowing before the other one starts
                players.append(Player(other_file, "Player A", sink=None))  # same name, another process
                await wait_for(lambda: players[1].process.poll() is not None, 10, "the other one to finish")
                await asyncio.sleep(0.4)
            return recorder

        recorder = asyncio.run(scenario())
        assert max(pieces_heard(recorder.audio(0), other_speech)) < 0.3
        assert leftovers(server) == []


# --- what is left behind, and what goes wrong -----------------------------------------------------


CRASHING_SAYLINE = """
import sys
from app.audio.app_route import AppRoute
AppRoute(sys.argv[1]).open()
print("routed", flush=True)
sys.stdin.read()
"""


def test_leftovers_of_a_crashed_sayline_are_removed_and_the_player_goes_back(
    pulse: PulseServer, players: list[Player], speakers: int
) -> None:
    jfk = eval_dir("en") / "jfk.wav"
    players += [Player(jfk, "Player A", SPEAKERS), Player(jfk, "Player B")]
    a, b = players
    a_key, b_key = a.app().key, b.app().key
    crashed = subprocess.Popen(
        [sys.executable, "-c", CRASHING_SAYLINE, a_key], cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )
    assert crashed.stdout is not None and crashed.stdout.readline() == "routed\n"
    crashed.send_signal(signal.SIGKILL)  # no close(), no atexit: what a crash leaves
    crashed.wait()
    # Its null sink (module and sink) and its loopback are left; player A plays into them.
    assert len(leftovers(pulse)) == 3 and sink_of(pulse, a.pid) != speakers
    with AppRoute(b_key) as running:  # the next start removes them first
        assert sink_of(pulse, a.pid) == speakers
        assert len(leftovers(pulse)) == 3 and all(running.sink_name in line for line in leftovers(pulse))
        assert cleanup_stale_routes() == []  # a route this process has open is no leftover
    assert leftovers(pulse) == [] and sink_of(pulse, b.pid) == sink_index(pulse, SINK)
    assert {app.pid for app in list_playing_apps()} == {a.pid, b.pid}


def test_a_player_that_quits_mid_capture_pauses_captions_with_one_sentence(
    pulse: PulseServer, players: list[Player]
) -> None:
    players.append(Player(eval_dir("en") / "jfk.wav", "Player A"))
    (a,) = players
    key = a.app().key
    states: list[tuple[str, str]] = []

    async def scenario() -> None:
        report = lambda *s: states.append(s)  # noqa: E731
        capture = AudioCapture(CaptureSource("app", key), on_state=report, check_interval=0.2)
        async with Recorder(capture):
            await asyncio.sleep(0.3)
            a.stop()
            await wait_for(lambda: len(states) > 1, 3, '"lost"')
            assert capture.state == "lost"

    asyncio.run(scenario())
    assert states[1] == ("lost", f"Player A (pid {a.pid}) has quit. Captions are paused until audio is back.")
    assert leftovers(pulse) == []
    with pytest.raises(AudioError) as gone:
        AudioCapture(CaptureSource("app", key)).start()
    assert str(gone.value) == (
        f"The application with process id {a.pid} has quit; pick another application from the list."
    )


def test_each_failure_is_one_sentence(
    pulse: PulseServer, players: list[Player], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AudioError, match=f"^{PICK_FIRST}$"):
        AudioCapture(CaptureSource("app", None)).start()
    assert unsupported_reason("win32") == (
        "Captioning one application is not yet supported on Windows; choose System audio instead."
    )
    assert "not yet supported on macOS" in unsupported_reason("darwin")

    # A server that forbids loading modules (as a locked-down PulseAudio can): the route is refused.
    (tmp_path / "locked").mkdir()
    with private_pulse_server(tmp_path / "locked", ("--disallow-module-loading",)) as locked:
        players.append(Player(eval_dir("en") / "jfk.wav", "Player A"))
        key = players[0].app().key
        with pytest.raises(AudioError) as refused:
            AudioCapture(CaptureSource("app", key)).start()
        message = str(refused.value)
        assert message.startswith("The sound server refused to load module-null-sink to capture Player A")
        assert message.endswith("which Sayline needs to capture one application.") and "\n" not in message
        assert sink_of(locked, players[0].pid) == sink_index(locked, SINK)  # left where it was

    monkeypatch.setenv("PATH", str(tmp_path))  # no pactl here: what a system without pulseaudio-utils has
    for attempt in (list_playing_apps, lambda: AudioCapture(CaptureSource("app", "pid:1")).start()):
        with pytest.raises(AudioError) as missing:
            attempt()
        assert str(missing.value) == NO_PACTL
