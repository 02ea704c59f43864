"""`sayline --selftest`: real model, real speech; it passes only when the words come out right.

The frozen bundle runs the same check (packaging/check_bundle.sh); here it runs from source with
tiny.en, plus the failures an installer user could meet.
"""

import pytest

from app import selftest
from app.core.diarization import DiarizationOptions
from app.selftest import SelftestFailed, normalize, run_selftest
from tests.conftest import eval_dir
from tests.test_cli import sayline


def test_selftest_flag_transcribes_the_bundled_sample_and_exits_0():
    done = sayline("--selftest", "--model", "tiny.en")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("selftest: jfk.wav with the tiny.en model in ")
    assert "what your country can do for you" in normalize(lines[1])
    assert "selftest: OK" in lines
    assert lines[-2].startswith("selftest: two_voices.wav with speakers: 2 speaker(s)")
    assert lines[-1] == "selftest: speakers OK"


def test_the_speaker_check_fails_when_two_voices_get_one_label(monkeypatch, tiny_engine):
    """The same real stream with the clusterer capped at one speaker: the check must notice."""
    monkeypatch.setattr(selftest, "DiarizationOptions", lambda: DiarizationOptions(max_speakers=1))
    with pytest.raises(SelftestFailed, match=r"two_voices\.wav apart \(1 labels"):
        selftest.check_speakers(tiny_engine)


def test_the_speaker_check_says_why_speakers_cannot_run(monkeypatch, tiny_engine):
    reason = "This installation of Sayline is missing its speaker models; reinstall Sayline."
    monkeypatch.setattr(selftest, "unavailable_reason", lambda: reason)
    with pytest.raises(SelftestFailed, match="missing its speaker models"):
        selftest.check_speakers(tiny_engine)


def test_speech_without_the_expected_words_fails_with_one_sentence(monkeypatch, capsys, tiny_engine):
    other_speech = eval_dir("en") / "arctic_awb_a0007.wav"
    with pytest.raises(SelftestFailed, match=r"did not hear 'what your country can do for you' in arctic"):
        run_selftest(tiny_engine, sample=other_speech)
    capsys.readouterr()
    monkeypatch.setattr(selftest, "demo_sample", lambda: other_speech)
    assert selftest.main("tiny.en") == 1
    printed = capsys.readouterr()
    assert "superlative" in printed.out.lower(), "what it heard is shown: a bad build or bad audio?"
    assert printed.err.count("\n") == 1
    assert printed.err.startswith("sayline: selftest failed: The tiny.en model did not hear")


def test_a_missing_model_or_sample_exits_1_with_one_sentence(tmp_path, tiny_engine):
    done = sayline("--selftest", "--model", str(tmp_path / "no-model"))
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "No model called" in done.stderr
    with pytest.raises(SelftestFailed, match="sample is missing"):
        run_selftest(tiny_engine, sample=tmp_path / "gone.wav")


def test_normalize_ignores_case_and_punctuation():
    spoken = "Ask not, what your COUNTRY can do for you!"
    assert normalize(spoken) == "ask not what your country can do for you"
    assert normalize("Don't  stop.") == "don't stop"
