"""The deterministic replay bench: text and commit delays from the real engine, run twice."""

from bench.replay_wer import replay_clips
from bench.stream import load_clips
from tests.conftest import eval_dir


def test_a_file_replay_scores_words_and_gives_the_same_text_twice(tiny_engine):
    clips = [c for c in load_clips(eval_dir("en"), None) if c.name == "jfk.wav"]
    rows, delays = replay_clips(tiny_engine, clips, "localagreement", 0.3)
    again, _ = replay_clips(tiny_engine, clips, "localagreement", 0.3)
    assert rows == again, "fed as a file, the same audio must give the same text"
    assert rows[0]["ref_words"] == 22 and rows[0]["edits"] <= 3, rows[0]
    assert "country" in rows[0]["text"]
    assert len(delays) >= 20, "every committed word gets a delay"
    assert all(-0.5 < d < 11.0 for d in delays), delays
    assert sorted(delays)[len(delays) // 2] >= 0.4, "a word is final only once audio after it was heard"
