"""The short encoder window: what it encodes, and that it hears what the full window hears."""

import threading

import numpy as np
import pytest
from tokenizers import Tokenizer

from app.core.engine import MODEL_POSITIONS, PROMPT_TOKENS_KEPT, SPECIAL_TOKENS, token_budget
from app.core.models import resolve_model
from app.core.whisper_model import FULL_WINDOW_FRAMES, ShortWindowWhisper
from tests.conftest import clip, corpus_wer, manifest


@pytest.fixture(scope="module")
def model(tiny_engine) -> ShortWindowWhisper:
    assert isinstance(tiny_engine._model, ShortWindowWhisper)
    return tiny_engine._model


def test_window_is_the_audio_plus_margin_in_whole_seconds(model):
    assert model.window_frames(1.2) == 1000  # at least 10 s
    assert model.window_frames(7.3) == 1200  # 7.3 + 4 s, rounded up to 12 s
    assert model.window_frames(26.0) == FULL_WINDOW_FRAMES
    assert model.window_frames(90.0) == FULL_WINDOW_FRAMES


@pytest.fixture
def encoded(monkeypatch) -> dict[str, list[int]]:
    """Encoder output lengths (two mel frames per position), by the thread that encoded."""
    seen: dict[str, list[int]] = {}
    original = ShortWindowWhisper.encode

    def spy(self, features):
        output = original(self, features)
        seen.setdefault(threading.current_thread().name, []).append(output.shape[1])
        return output

    monkeypatch.setattr(ShortWindowWhisper, "encode", spy)
    return seen


def test_the_encoder_sees_the_short_window_and_then_the_full_one_again(model, encoded):
    audio = clip("en", "jfk.wav")  # 11 s: a 15 s window
    model.transcribe(audio, language="en", beam_size=1)
    model.transcribe(audio[:16000], language="en", beam_size=1)
    segments, _ = model.transcribe_full_window(audio, language="en", beam_size=1)
    assert "country" in " ".join(s.text for s in segments)
    assert encoded[threading.current_thread().name] == [750, 500, 1500]


def test_each_thread_keeps_its_own_window(model, encoded):
    """Two threads transcribing at once (the ASR worker and a translation) never swap windows."""
    audio = clip("en", "jfk.wav")
    inputs = {"short": audio[:32000], "long": np.tile(audio, 2)}
    threads = [
        threading.Thread(target=model.transcribe, args=(samples,), kwargs={"language": "en"}, name=name)
        for name, samples in inputs.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A decode that stops early encodes the rest again, with the same window.
    assert {name: set(lengths) for name, lengths in encoded.items()} == {"short": {500}, "long": {1300}}


def test_short_window_text_matches_the_references(model):
    """Same words as the references on real clips (tiny.en, greedy), at a fraction of the encoder work."""
    refs = manifest("en")
    names = ["jfk.wav", "librivox_sense_sensibility_0870.wav", "arctic_awb_a0007.wav"]
    names.append("ast_en_vm-options.wav")
    hypotheses = []
    for name in names:
        segments, _ = model.transcribe(clip("en", name), language="en", beam_size=1)
        hypotheses.append(" ".join(s.text for s in segments))
    assert corpus_wer([refs[n]["text"] for n in names], hypotheses) <= 0.08, hypotheses


def test_the_token_budget_holds_every_eval_clip_and_stops_a_loop_early():
    """Real speech stays well inside the budget; a loop (hundreds of tokens) stops at it."""
    tokenizer = Tokenizer.from_file(str(resolve_model("base") / "tokenizer.json"))  # multilingual
    for set_name in ("en", "multi", "xx"):
        for row in manifest(set_name).values():
            if not row.get("text") or not row.get("duration"):
                continue
            tokens = len(tokenizer.encode(" " + row["text"], add_special_tokens=False).ids)
            timestamps = 2 * (1 + int(row["duration"] // 5))  # a segment every ~5 s, two tokens each
            seconds = min(row["duration"], 20.0)  # the stream's buffer never holds more
            needed = (tokens + timestamps) * seconds / row["duration"]
            assert needed * 1.5 <= token_budget(seconds), row["audio"]
    assert token_budget(3.3) < 90, "a short buffer's loop stops at a fifth of the model's room"
    assert token_budget(20.0, prompt_tokens=500) == MODEL_POSITIONS - SPECIAL_TOKENS - PROMPT_TOKENS_KEPT
