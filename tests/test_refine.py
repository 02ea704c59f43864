"""The refine pass: a live session's audio decoded as a file run, window by window, stoppable."""

import asyncio

import numpy as np
import pytest

from app.core.choices import StreamChoices
from app.core.decoding import SAMPLE_RATE
from app.core.diarization import DiarizationOptions
from app.core.frontdata import STATUS_ACTIVE, STATUS_NO_AUDIO
from app.core.refine import RefineCancelled, RefineSettings, piece_bounds, refine_session
from tests.conftest import clip, corpus_wer, manifest, run

JFK = manifest("en")["jfk.wav"]["text"]


def file_run(engine, samples: np.ndarray) -> str:
    """What `offline_pass` in bench/stream.py scores as the offline transcript (with word times)."""
    model = engine._model
    segments, _ = model.transcribe_full_window(samples, language="en", beam_size=5, word_timestamps=True)
    return " ".join(word.word.strip() for segment in segments for word in segment.words)


def test_the_refined_transcript_is_the_file_run_and_progress_reaches_the_end(tiny_engine):
    speech = clip("en", "jfk.wav")
    progress: list[tuple[float, float]] = []
    refined = run(refine_session(
        tiny_engine, speech, StreamChoices(language="en"), on_progress=lambda *p: progress.append(p)
    ))
    assert refined.refined and refined.status == STATUS_ACTIVE
    assert refined.to_dict()["refined"] is True
    assert refined.text == file_run(tiny_engine, speech)
    assert {line.speaker for line in refined.lines} == {1}
    total = len(speech) / SAMPLE_RATE
    done = [d for d, _ in progress]
    assert len(progress) >= 2 and done == sorted(done)
    assert all(t == total for _, t in progress) and done[-1] == total


def test_stopping_between_windows_raises_refine_cancelled(tiny_engine):
    asked = []

    def should_stop() -> bool:
        asked.append(True)
        return len(asked) > 2  # after the decode has started

    with pytest.raises(RefineCancelled):
        run(refine_session(tiny_engine, clip("en", "jfk.wav"), StreamChoices(), should_stop=should_stop))


def test_a_waiting_live_decode_goes_first(tiny_engine):
    """No window starts while a live transcription waits for the worker (the counter stands in for one)."""
    progress: list[float] = []

    def report(done: float, _total: float) -> None:
        progress.append(done)

    async def scenario():
        tiny_engine._transcriptions += 1
        try:
            work = asyncio.ensure_future(
                refine_session(tiny_engine, clip("en", "jfk.wav"), StreamChoices(), on_progress=report)
            )
            await asyncio.sleep(0.5)
            assert not progress and not work.done()
        finally:
            tiny_engine._transcriptions -= 1
        return await work

    assert "fellow Americans" in run(scenario()).text


def test_silence_refines_to_no_audio_detected(tiny_engine):
    refined = run(refine_session(tiny_engine, np.zeros(3 * SAMPLE_RATE, dtype=np.float32), StreamChoices()))
    assert refined.refined and refined.status == STATUS_NO_AUDIO and not refined.lines


def test_long_sessions_are_cut_at_a_pause_and_decoded_in_pieces(tiny_engine):
    speech = clip("en", "jfk.wav")
    refined = run(refine_session(tiny_engine, speech, StreamChoices(), settings=RefineSettings(piece_s=6.0)))
    assert corpus_wer([JFK], [refined.text]) <= 0.15, refined.text
    starts = [line.start for line in refined.lines]
    assert starts == sorted(starts) and refined.lines[-1].end <= len(speech) / SAMPLE_RATE


def test_piece_cuts_fall_in_the_quietest_half_second():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.1, 100 * SAMPLE_RATE).astype(np.float32)
    noise[round(83.2 * SAMPLE_RATE):round(84.0 * SAMPLE_RATE)] = 0.0  # the pause
    bounds = piece_bounds(noise, piece_s=90.0)
    assert len(bounds) == 2 and bounds[0][0] == 0 and bounds[-1][1] == len(noise)
    cut = bounds[0][1]
    assert bounds[1][0] == cut and 83.2 <= cut / SAMPLE_RATE <= 84.0
    assert piece_bounds(noise, piece_s=600.0) == [(0, len(noise))]
    assert piece_bounds(np.zeros(0, dtype=np.float32), piece_s=600.0) == []


def test_speakers_come_from_diarizing_the_whole_session(tiny_engine):
    talk = clip("multi", "pyannote_sample.wav")
    choices = StreamChoices(language="en", diarization=DiarizationOptions(max_speakers=2))
    few_windows = RefineSettings(max_diarization_windows=10)  # enough to tell two voices apart, quickly
    refined = run(refine_session(tiny_engine, talk, choices, settings=few_windows))
    assert refined.text == file_run(tiny_engine, talk)
    speakers = [line.speaker for line in refined.lines if not line.is_silence]
    assert set(speakers) == {1, 2} and speakers[0] == 1
