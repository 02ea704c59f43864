"""The command line as a user runs it: a real process, real files, real exit codes."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from app import __version__
from app.cli import main
from tests.conftest import ROOT, clip, eval_dir
from tests.test_decoding import encode, write_wav


def sayline(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=os.environ.copy(),
    )


def test_version_and_help():
    assert sayline("--version").stdout.strip() == f"sayline {__version__}"
    helped = sayline("transcribe", "--help")
    assert helped.returncode == 0
    options = ("--model", "--language", "--realtime", "--format", "--policy", "--no-refine", "--no-revise")
    for option in options:
        assert option in helped.stdout


WIRE_FIELDS = {
    "status", "lines", "buffer_transcription", "buffer_diarization", "buffer_translation",
    "remaining_time_transcription", "remaining_time_diarization",
}


def test_json_output_is_the_refined_transcript_as_the_final_wire_message():
    done = sayline("transcribe", str(eval_dir("en") / "jfk.wav"), "--model", "tiny.en", "--format", "json")
    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)
    assert set(message) == WIRE_FIELDS | {"refined"} and message["refined"] is True
    assert message["status"] == "active_transcription"
    text = " ".join(line["text"] for line in message["lines"]).lower()
    assert "ask not what your country can do for you" in text
    assert "your country" in done.stderr.lower(), "committed lines are printed while streaming"
    assert "Refining: 100%" in done.stderr


def test_no_refine_outputs_the_live_transcript():
    wav = str(eval_dir("en") / "jfk.wav")
    options = ("--model", "tiny.en", "--format", "json", "-q", "--no-refine", "--no-revise")
    done = sayline("transcribe", wav, *options)
    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)
    assert set(message) == WIRE_FIELDS  # exactly WhisperLiveKit's message: no "refined"
    assert "ask not what your country" in " ".join(line["text"] for line in message["lines"]).lower()
    assert "Refining" not in done.stderr


def test_srt_and_vtt_formats(tmp_path):
    wav = eval_dir("en") / "arctic_awb_a0007.wav"
    srt = sayline("transcribe", str(wav), "--model", "tiny.en", "--format", "srt", "-q")
    assert srt.returncode == 0, srt.stderr
    assert srt.stdout.startswith("1\n00:00:0")
    assert " --> " in srt.stdout and "superlative degree" in srt.stdout
    vtt = sayline("transcribe", str(wav), "--model", "tiny.en", "--format", "vtt", "-q")
    assert vtt.stdout.startswith("WEBVTT\n\n00:00:0")


def test_an_mp3_at_another_rate_transcribes(tmp_path):
    path = tmp_path / "speech.mp3"
    path.write_bytes(encode(clip("en", "arctic_awb_a0007.wav"), "mp3", "libmp3lame", rate=44100))
    done = sayline("transcribe", str(path), "--model", "tiny.en", "-q")
    assert done.returncode == 0, done.stderr
    assert "superlative degree" in done.stdout


def test_a_wav_at_8khz_is_resampled(tmp_path):
    speech = clip("en", "arctic_awb_a0007.wav")
    path = tmp_path / "speech8k.wav"
    write_wav(path, speech[::2].copy(), 8000)
    done = sayline("transcribe", str(path), "--model", "tiny.en", "-q")
    assert done.returncode == 0, done.stderr
    assert "superlative" in done.stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "No such file"),
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_bytes(os.urandom(50_000)), "not an audio file"),
        (lambda p: p.write_bytes(b"<html>not audio</html>\n" * 100), "not an audio file"),
    ],
    ids=["missing", "empty", "garbage", "text"],
)
def test_bad_input_is_one_sentence_and_exit_1(tmp_path, make, message):
    path = tmp_path / "input.wav"
    make(path)
    done = sayline("transcribe", str(path), "--model", "tiny.en", timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("sayline: error: ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_an_unknown_model_is_one_sentence():
    done = sayline("transcribe", str(eval_dir("en") / "jfk.wav"), "--model", "huge-v9", timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "use 'base', 'tiny.en'" in done.stderr


def test_silence_file_transcribes_to_nothing(tmp_path):
    path = tmp_path / "quiet.wav"
    write_wav(path, np.zeros(16000 * 3, np.float32), 16000)
    done = sayline("transcribe", str(path), "--model", "tiny.en", "--format", "json", "-q")
    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)
    assert message["lines"] == [] and message["status"] == "no_audio_detected"


def test_the_demo_captions_the_bundled_sample_live():
    done = sayline("demo", "--model", "tiny.en", timeout=120)
    assert done.returncode == 0, done.stderr
    # tiny.en's revision of the fragment "ask not" hears "asked not"; the default model does not.
    assert "not what your country can do for you" in done.stdout.lower()


@pytest.mark.parametrize(
    ("model", "language", "message"),
    [("tiny.en", "de", "English only"), ("base", "klingon", "Unknown language code")],
)
def test_a_language_the_model_cannot_take_is_one_sentence(model, language, message):
    wav = str(eval_dir("en") / "arctic_awb_a0007.wav")
    done = sayline("transcribe", wav, "--model", model, "--language", language, timeout=120)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_serve_off_loopback_makes_a_token_and_ctrl_c_with_an_upload_in_flight_exits_at_once(tmp_path):
    import re
    import signal
    import socket
    import threading
    import time
    import urllib.error
    import urllib.request

    from tests.test_server_security import post_upload

    long_wav = tmp_path / "long.wav"
    write_wav(long_wav, np.tile(clip("en", "jfk.wav"), 12), 16000)  # 2 minutes of speech
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "serve", "--model", "tiny.en", "--host", "0.0.0.0",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        ready = server.stdout.readline()  # printed once it listens
        token = re.search(r"/asr\?token=([\w-]+)", ready).group(1)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)
        authorized = urllib.request.Request(
            f"http://127.0.0.1:{port}/health", headers={"Authorization": f"Bearer {token}"}
        )
        health = json.loads(urllib.request.urlopen(authorized, timeout=5).read())
        answers = []
        upload = threading.Thread(
            target=lambda: answers.append(post_upload(
                port, long_wav.read_bytes(), "long.wav", headers=f"Authorization: Bearer {token}\n"
            ))
        )
        upload.start()
        time.sleep(2.0)  # the body is in; the transcription is under way
        server.send_signal(signal.SIGINT)
        started = time.monotonic()
        _out, err = server.communicate(timeout=15)
        took = time.monotonic() - started
        upload.join(10)
    finally:
        server.kill()
    assert refused.value.code == 401 and health["status"] == "ok"
    assert len(token) >= 24 and "the token" in err
    assert server.returncode == 0
    assert took < 2.0, f"Ctrl+C took {took:.1f} s"
    assert answers and answers[0][0] == 503
    with socket.socket() as again:  # the port is free at once
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("0.0.0.0", port))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token-file", "/nonexistent/token"], "Cannot read the token file /nonexistent/token"),
        (["--max-sessions", "0"], "max_sessions must be at least 1"),
    ],
)
def test_serve_refuses_a_bad_token_file_or_limit_before_loading_anything(args, message):
    done = sayline("serve", "--model", "tiny.en", "--port", "0", *args, timeout=60)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
    assert "Loading" not in done.stderr


def test_a_narrow_output_encoding_prints_question_marks_instead_of_failing(monkeypatch):
    """Windows pipes and files use cp1252, which has no Cyrillic (nor "…"): the sentence still prints."""
    raw = io.BytesIO()
    narrow = io.TextIOWrapper(raw, encoding="cp1252")
    monkeypatch.setattr(sys, "stderr", narrow)
    assert main(["selftest", "--model", "/no/such/модель"]) == 1
    narrow.flush()
    assert "sayline: error: No model called '/no/such/??????'" in raw.getvalue().decode("cp1252")


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(data_dir):
    """`sayline models list | head -1`: what is left has nowhere to go, and that is no traceback."""
    listing = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "models", "list"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=os.environ.copy(),
    )
    assert listing.stdout is not None
    listing.stdout.close()  # the reader is gone before a line is written
    _, err = listing.communicate(timeout=60)
    assert (listing.returncode, err) == (141, b"")
