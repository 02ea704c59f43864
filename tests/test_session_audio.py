"""The audio a session keeps for its refine pass: private, lossless enough, bounded, deleted."""

import logging
import os
import stat

import numpy as np
import pytest

from app.core.decoding import SAMPLE_RATE
from app.core.session_audio import SessionAudio
from tests.conftest import clip

BLOCK = 1600  # 0.1 s, as a capture device delivers it


def write_in_blocks(audio: SessionAudio, samples: np.ndarray) -> None:
    for offset in range(0, len(samples), BLOCK):
        audio.write(samples[offset:offset + BLOCK])


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_speech_round_trips_through_a_private_file():
    speech = clip("en", "jfk.wav")
    audio = SessionAudio()
    try:
        write_in_blocks(audio, speech)
        assert audio.seconds == pytest.approx(len(speech) / SAMPLE_RATE)
        if os.name == "posix":
            assert mode(audio.path) == 0o600 and mode(audio.path.parent) == 0o700
        back = audio.read()
        assert len(back) == len(speech)
        assert np.abs(back - speech).max() < 1 / 16_000  # 16-bit FLAC: within a quantisation step
        assert not audio.truncated
    finally:
        audio.discard()
    assert not audio.path.parent.exists()


def test_past_its_cap_nothing_more_is_kept_and_that_is_logged_once(caplog):
    speech = clip("en", "jfk.wav")
    audio = SessionAudio(max_seconds=4.0)
    try:
        with caplog.at_level(logging.WARNING, logger="app.core.session_audio"):
            write_in_blocks(audio, speech)
        assert audio.truncated
        assert audio.seconds == pytest.approx(4.0)
        assert len(audio.read()) == 4 * SAMPLE_RATE
        assert len(caplog.records) == 1
    finally:
        audio.discard()


def test_a_byte_cap_stops_keeping_once_the_file_reaches_it():
    audio = SessionAudio(max_bytes=20_000)
    try:
        write_in_blocks(audio, clip("en", "jfk.wav"))
        assert audio.truncated
        assert 0 < audio.seconds < 11.0
        assert audio.path.stat().st_size < 40_000  # at most one encoder frame past the cap
    finally:
        audio.discard()


def test_keep_as_moves_the_file_for_the_user(tmp_path):
    audio = SessionAudio()
    write_in_blocks(audio, clip("en", "jfk.wav")[: 2 * SAMPLE_RATE])
    target = tmp_path / "session.flac"
    audio.keep_as(target)
    assert target.read_bytes()[:4] == b"fLaC"
    if os.name == "posix":
        assert mode(target) == 0o600
    assert not audio.path.parent.exists()


def test_an_empty_session_reads_as_no_audio():
    audio = SessionAudio()
    try:
        audio.write(np.zeros(0, dtype=np.float32))
        assert audio.read().size == 0
    finally:
        audio.discard()
