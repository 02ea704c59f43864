"""The resampler and the block queue on synthetic signals: no devices needed."""

from __future__ import annotations

import numpy as np

from app.audio.blockqueue import BlockQueue
from app.audio.level import SILENCE_DBFS, rms_dbfs
from app.audio.resample import TARGET_RATE, StreamResampler


def tone(frequency: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def feed(resampler: StreamResampler, signal: np.ndarray) -> np.ndarray:
    """In uneven pieces, as PortAudio delivers them, then flushed."""
    sizes = [441, 1000, 17, 4410, 2205]
    pieces, offset, i = [], 0, 0
    while offset < len(signal):
        pieces.append(resampler.process(signal[offset: offset + sizes[i % len(sizes)]]))
        offset += sizes[i % len(sizes)]
        i += 1
    pieces.append(resampler.flush())
    return np.concatenate(pieces)


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def test_stereo_44k1_tone_becomes_16k_mono_at_the_same_pitch() -> None:
    left = tone(440.0, 2.0, 44_100)
    stereo = np.stack((left, left), axis=1)
    out = feed(StreamResampler(44_100, 2), stereo)
    assert out.dtype == np.float32 and out.ndim == 1
    assert abs(len(out) - 2.0 * TARGET_RATE) <= 1
    assert abs(dominant_frequency(out, TARGET_RATE) - 440.0) < 1.0
    steady = out[1600:-1600]
    assert abs(np.sqrt(np.mean(steady ** 2)) - 0.5 / np.sqrt(2)) < 0.01  # amplitude kept


def test_channels_are_averaged() -> None:
    left = tone(1000.0, 0.5, 48_000)
    out = feed(StreamResampler(48_000, 2), np.stack((left, -left), axis=1))
    assert np.max(np.abs(out)) < 1e-4


def test_content_above_8_khz_is_filtered_not_aliased() -> None:
    out = feed(StreamResampler(48_000, 1), tone(11_000.0, 1.0, 48_000))
    assert rms_dbfs(out[1600:-1600]) < -60  # dropping samples would fold it to 5 kHz at full level


def test_int16_blocks_and_16k_input_pass_through() -> None:
    samples = (tone(300.0, 0.2, TARGET_RATE) * 32767).astype(np.int16).reshape(-1, 1)
    out = feed(StreamResampler(TARGET_RATE, 1), samples)
    np.testing.assert_allclose(out, samples[:, 0] / 32768.0, atol=1e-6)


def test_queue_drops_the_oldest_block_and_counts() -> None:
    queue = BlockQueue(3)
    for value in range(5):
        queue.put(np.full(2, value, dtype=np.float32))
    assert queue.drops == 2
    kept = []
    while (block := queue.get_nowait()) is not None:
        kept.append(int(block[0]))
    assert kept == [2, 3, 4]


def test_level_is_dbfs_with_a_floor() -> None:
    assert rms_dbfs(np.zeros(100, np.float32)) == SILENCE_DBFS
    assert abs(rms_dbfs(np.ones(100, np.float32)) - 0.0) < 1e-9
    assert abs(rms_dbfs(tone(440.0, 1.0, TARGET_RATE)) - 20 * np.log10(0.5 / np.sqrt(2))) < 0.1
