"""Whisper's own translation, for real: Spanish and Russian speech from ../shared/eval/xx to English.

The references (``text_en``) are the English scripts of the same prompts, not literal
translations, so the checks are content words any fair translation contains.
"""

from __future__ import annotations

import pytest

from app.core.choices import StreamChoices
from app.core.decoding import float_to_pcm16
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.processor import ProcessorConfig
from app.core.translation import open_translator
from app.core.translation.whisper import WhisperTranslator
from tests.conftest import clip, eval_dir, manifest, run, stream_bytes
from tests.test_cli import sayline

SPANISH = "ast_es_conf-now-recording.wav"  # "La conferencia está ahora siendo grabada."
RUSSIAN = "ast_ru_agent-alreadyon.wav"


@pytest.fixture(scope="module")
def base_engine() -> TranscriptionEngine:
    engine = TranscriptionEngine(EngineConfig(model="base"))
    yield engine
    engine.close()


@pytest.mark.parametrize(
    ("audio", "words"), [(SPANISH, {"conference", "recorded"}), (RUSSIAN, {"already", "number"})]
)
def test_speech_is_translated_into_english(base_engine, audio, words):
    row = manifest("xx")[audio]
    english = base_engine.decode_translation(clip("xx", audio), row["language"]).lower()
    assert words <= set(english.replace(".", " ").replace(",", " ").split()), (english, row["text_en"])


def test_a_stream_gets_english_lines_and_keeps_its_spanish_text(base_engine, data_dir):
    # No Argos pair is installed, so "auto" falls back to Whisper for English.
    assert isinstance(open_translator("auto", base_engine, None, "en"), WhisperTranslator)
    config = ProcessorConfig(choices=StreamChoices(target_language="en"), live=False, step_s=1.0)
    updates = run(stream_bytes(base_engine, float_to_pcm16(clip("xx", SPANISH)), config=config))
    final = updates[-1]
    spoken = [line for line in final.lines if not line.is_silence]
    assert spoken and all(line.translation for line in spoken)
    assert "conferencia" in " ".join(line.text for line in spoken).lower()
    assert "conference" in " ".join(line.translation for line in spoken).lower()
    assert final.buffer_translation == "", "Whisper does not re-decode the live text"


def test_cli_transcribes_and_translates_into_subtitles(base_engine):
    done = sayline(
        "transcribe", str(eval_dir("xx") / SPANISH), "--model", "base", "--target-language", "en",
        "--format", "srt", "-q",
    )
    assert done.returncode == 0, done.stderr
    cue = done.stdout.splitlines()
    assert cue[0] == "1" and " --> " in cue[1]
    assert "conferencia" in cue[2].lower() and "conference" in cue[3].lower(), done.stdout


def test_cli_refuses_an_unknown_target_in_one_sentence():
    jfk = str(eval_dir("en") / "jfk.wav")
    done = sayline("transcribe", jfk, "--model", "tiny.en", "--target-language", "zz")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "sayline: error: Unknown target language code 'zz'; use a two-letter code such as en, de, fr or es."
    )
