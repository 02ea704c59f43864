"""Translation as a streaming stage: committed sentences first, the live text when there is time.

A real Argos pair (random weights, tests/test_translation.py) behind the stage; snapshots are
either written by hand (to pin the rules) or come from streaming real speech through the
tiny.en engine and the real processor, server and CLI.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from app.core.choices import StreamChoices
from app.core.decoding import float_to_pcm16
from app.core.frontdata import SILENCE_SPEAKER, FrontData, Line
from app.core.processor import AudioProcessor, ProcessorConfig
from app.core.translation.argos import ArgosTranslator
from app.core.translation.argos_install import install_file
from app.core.translation.base import TranslationError
from app.core.translation.stage import TranslationStage
from tests.conftest import clip, run, stream_bytes
from tests.test_server import serving, stream
from tests.test_translation import pair_files  # noqa: F401  (a fixture)


class Recording:
    """The real translator, with a log of what it was asked in which order."""

    needs_audio = False
    name = "argos"

    def __init__(self, translator: ArgosTranslator) -> None:
        self.inner = translator
        self.calls: list[str] = []

    def translate(self, text, source, target, audio=None):
        return self.inner.translate(text, source, target)

    async def atranslate(self, text, source, target, audio=None):
        self.calls.append(text)
        return await self.inner.atranslate(text, source, target)


@pytest.fixture
def en_fr(pair_files, data_dir) -> ArgosTranslator:  # noqa: F811
    install_file(pair_files["en_fr"])
    return ArgosTranslator()


def line(text: str, start: float, speaker: int = 1) -> Line:
    return Line(speaker, text, start, start + 1.0, "", "en" if text else "")


async def settle(stage: TranslationStage, snapshot: FrontData, changed: asyncio.Event) -> FrontData:
    """Apply until the stage has nothing left to do, as the processor republishes on each change."""
    result = stage.apply(snapshot)
    for _ in range(50):
        changed.clear()
        try:
            await asyncio.wait_for(changed.wait(), timeout=0.8)
        except asyncio.TimeoutError:
            return result
        result = stage.apply(snapshot)
    raise AssertionError("the stage never settled")


def test_committed_sentences_are_translated_and_the_open_one_goes_to_the_buffer(en_fr):
    async def scenario():
        changed = asyncio.Event()
        stage = TranslationStage(Recording(en_fr), "fr", "en", changed.set, buffer_interval_s=0.0)
        snapshot = FrontData(
            "active_transcription",
            (line("Hello there.", 0.0), line("", 1.5, SILENCE_SPEAKER), line("How are you", 4.0)),
            buffer_transcription=" doing",
        )
        result = await settle(stage, snapshot, changed)
        await stage.close()
        return stage, result

    stage, result = run(scenario())
    first, silence, open_line = result.lines
    assert first.translation == en_fr.translate("Hello there.", "en", "fr") != ""
    assert silence.translation == "" and open_line.translation == "", "no word-by-word line translation"
    assert result.buffer_translation == en_fr.translate("How are you doing", "en", "fr")
    assert stage.translator.calls == ["Hello there.", "How are you doing"]
    wire = result.to_dict()
    assert wire["lines"][0]["translation"] == first.translation
    assert wire["buffer_translation"] == result.buffer_translation


def test_behind_it_skips_the_buffer_never_a_line(en_fr):
    lines = tuple(line(f"Sentence number {i} is here.", float(i)) for i in range(6))

    async def scenario():
        changed = asyncio.Event()
        recorder = Recording(en_fr)
        stage = TranslationStage(recorder, "fr", "en", changed.set, buffer_interval_s=0.0)
        stage.apply(FrontData("active_transcription", lines[:1], buffer_transcription="and then"))
        # Five more sentences commit while the first is being translated: the stage is behind.
        for i in range(2, 7):
            stage.apply(FrontData("active_transcription", lines[:i], buffer_transcription=f"and then {i}"))
            await asyncio.sleep(0)
        result = await settle(stage, FrontData("active_transcription", lines, "and then 6"), changed)
        await stage.close()
        return recorder.calls, result

    calls, result = run(scenario())
    line_calls = [c for c in calls if c.startswith("Sentence")]
    assert line_calls == [f"Sentence number {i} is here." for i in range(6)], "every line, in order, once"
    first_buffer = next(i for i, c in enumerate(calls) if c.startswith("and then"))
    assert first_buffer == 6, "the live text waited until every committed line was translated"
    assert calls[first_buffer:] == ["and then 6"], "stale live text was skipped, not queued"
    assert all(result_line.translation for result_line in result.lines)


def test_buffer_translation_off_by_setting(en_fr):
    async def scenario():
        changed = asyncio.Event()
        stage = TranslationStage(Recording(en_fr), "fr", "en", changed.set, translate_buffer=False)
        result = await settle(stage, FrontData("active_transcription", (), "Hello"), changed)
        await stage.close()
        return stage.translator.calls, result

    calls, result = run(scenario())
    assert calls == [] and result.buffer_translation == ""


def test_a_stream_ends_with_every_line_translated(tiny_engine, en_fr):
    config = ProcessorConfig(
        choices=StreamChoices(target_language="fr", translator="argos"), live=False, step_s=1.0
    )
    pcm = float_to_pcm16(clip("en", "librivox_sense_sensibility_0870.wav"))
    updates = run(stream_bytes(tiny_engine, pcm, config=config))
    final = updates[-1]
    spoken = [item for item in final.lines if not item.is_silence]
    assert len(spoken) >= 2
    for item in spoken:
        assert item.translation == en_fr.translate(item.text, "en", "fr"), item
    assert final.buffer_transcription == "" and final.buffer_translation == ""
    growing = [u for u in updates if any(item.translation for item in u.lines)]
    assert len(growing) >= 2 and growing[0] is not final, "translations arrive while the stream runs"


def test_an_impossible_target_refuses_the_stream(tiny_engine, data_dir):
    with pytest.raises(TranslationError, match="No installed language pair translates en to de"):
        AudioProcessor(tiny_engine, ProcessorConfig(choices=StreamChoices(target_language="de")))
    with pytest.raises(TranslationError, match="English-only and cannot translate"):
        whisper = StreamChoices(target_language="en", translator="whisper")
        AudioProcessor(tiny_engine, ProcessorConfig(choices=whisper))


def test_server_fills_translations_on_the_wire(tiny_engine, en_fr):
    async def scenario():
        async with serving(tiny_engine, pcm_input=True) as server:
            pcm = float_to_pcm16(clip("en", "jfk.wav"))
            return await stream(server.asr_url + "?target_language=fr", pcm, chunk=3200, pace=0.005)

    _, messages, code, lines = run(scenario())
    assert code == 1000 and messages[-1] == {"type": "ready_to_stop"}
    assert lines and all(item["translation"] for item in lines if item["speaker"] != -2)
    assert lines[0]["translation"] == en_fr.translate(lines[0]["text"], "en", "fr")
    json.dumps(messages)  # plain JSON all the way


@pytest.mark.parametrize("seconds", [0, 1])
def test_cleanup_leaves_no_translation_task_behind(tiny_engine, en_fr, seconds):
    async def scenario():
        argos = StreamChoices(target_language="fr", translator="argos")
        processor = AudioProcessor(tiny_engine, ProcessorConfig(choices=argos))
        if seconds:
            await processor.process_audio(float_to_pcm16(clip("en", "jfk.wav")[: 16000 * seconds]))
            await asyncio.sleep(0.3)
        await processor.cleanup()
        await asyncio.sleep(0)
        return [t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert run(scenario()) == []
