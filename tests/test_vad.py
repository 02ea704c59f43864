import numpy as np
import pytest

from app.core.vad import WINDOW, SileroVad, SpeechTracker
from tests.conftest import clip


@pytest.fixture(scope="module")
def vad() -> SileroVad:
    return SileroVad()


def test_speech_is_detected_and_silence_is_not(vad):
    speech = clip("en", "jfk.wav")
    probs = vad.stream().feed(speech)
    assert len(probs) == len(speech) // WINDOW
    assert probs.max() > 0.9
    assert vad.stream().feed(np.zeros(16000 * 3, dtype=np.float32)).max() < 0.1
    noise = clip("noise", "white_noise_10s.wav")
    assert (vad.stream().feed(noise) > 0.5).mean() < 0.05


def test_any_chunking_gives_the_same_probabilities(vad):
    speech = clip("en", "jfk.wav")[: 16000 * 4]
    whole = vad.stream().feed(speech)
    stream = vad.stream()
    pieces = [stream.feed(speech[i:i + 777]) for i in range(0, len(speech), 777)]
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-5)


def test_tracker_regions_with_hysteresis():
    tracker = SpeechTracker(threshold=0.5, release=0.35)
    window = WINDOW / 16000
    tracker.push(np.array([0.1] * 10))
    assert not tracker.heard_speech and tracker.silence_duration == 0.0
    tracker.push(np.array([0.9] * 20 + [0.4] * 3 + [0.9] * 5))  # a dip above release: one region
    assert tracker.in_speech
    tracker.push(np.array([0.05] * 40))
    assert not tracker.in_speech
    regions = tracker.regions()
    assert len(regions) == 1
    assert regions[0].start == pytest.approx(10 * window)
    assert regions[0].end == pytest.approx(38 * window)
    assert tracker.silence_duration == pytest.approx(40 * window)
    assert tracker.speech_since(0.0) == pytest.approx(28 * window)
    tracker.forget_before(100.0)
    assert tracker.regions() == []
