import io
import threading
import time
import wave

import av
import numpy as np
import pytest

from app.core.decoding import AudioDecodeError, PcmDecoder, StreamDecoder, decode_file, float_to_pcm16
from tests.conftest import clip


def encode(samples: np.ndarray, fmt: str, codec: str, rate: int = 48000) -> bytes:
    """Encode 16 kHz float samples with PyAV, as a browser or a phone would send them."""
    out_buf = io.BytesIO()
    with av.open(out_buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            (np.clip(samples, -1, 1) * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = 16000
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=rate)
        for converted in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(converted):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return out_buf.getvalue()


def write_wav(path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(float_to_pcm16(samples))


def test_pcm_odd_bytes_are_carried_not_dropped():
    samples = np.linspace(-0.5, 0.5, 101, dtype=np.float32)
    data = float_to_pcm16(samples)
    decoder = PcmDecoder()
    pieces = [decoder.decode(data[i:i + 3]) for i in range(0, len(data), 3)]
    assert not decoder.has_leftover
    np.testing.assert_allclose(np.concatenate(pieces), samples, atol=1 / 32768 * 2)


def test_wav_at_another_rate_is_resampled(tmp_path):
    speech = clip("en", "jfk.wav")[: 16000 * 3]
    resampled_44k = np.interp(np.arange(0, len(speech), 16000 / 44100), np.arange(len(speech)), speech)
    path = tmp_path / "speech44k.wav"
    write_wav(path, resampled_44k.astype(np.float32), 44100)
    decoded = decode_file(path)
    assert abs(len(decoded) - len(speech)) < 400
    assert np.corrcoef(decoded[1000:40000], speech[1000:40000])[0, 1] > 0.95


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        (b"", "is empty"),
        (b"this is plainly not audio, just some text\n" * 50, "not an audio file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not an audio file|has no audio track"),
    ],
)
def test_bad_files_give_one_clear_sentence(tmp_path, content, message):
    path = tmp_path / "input.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioDecodeError, match=message):
        decode_file(path)


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(AudioDecodeError, match="folder"):
        decode_file(tmp_path)


def test_truncated_wav_decodes_what_is_there(tmp_path):
    speech = clip("en", "jfk.wav")[: 16000 * 2]
    path = tmp_path / "full.wav"
    write_wav(path, speech, 16000)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(data[: len(data) // 2 + 1])
    decoded = decode_file(truncated)
    assert 0.4 * len(speech) < len(decoded) <= len(speech)
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(data[:44])
    with pytest.raises(AudioDecodeError):
        decode_file(header_only)


def collect_stream(data: bytes, piece: int) -> tuple[np.ndarray, str | None]:
    blocks: list[np.ndarray] = []
    outcome: list[str | None] = []
    done = threading.Event()
    decoder = StreamDecoder(
        blocks.append,
        lambda msg: (outcome.append(msg), done.set()),
        lambda: (outcome.append(None), done.set()),
    )
    for offset in range(0, len(data), piece):
        decoder.feed(data[offset:offset + piece])
    decoder.finish()
    assert done.wait(20), "the decoder never reported an end"
    decoder.close()
    assert not decoder.alive
    audio = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    return audio, outcome[0]


@pytest.mark.parametrize(("fmt", "codec"), [("webm", "libopus"), ("ogg", "libopus"), ("mp3", "libmp3lame")])
def test_encoded_streams_decode_incrementally(fmt, codec):
    speech = clip("en", "jfk.wav")[: 16000 * 3]
    audio, error = collect_stream(encode(speech, fmt, codec), piece=997)
    assert error is None
    assert abs(len(audio) - len(speech)) < 16000 * 0.1


def test_garbage_stream_reports_an_error_and_leaves_no_thread():
    before = threading.active_count()
    audio, error = collect_stream(b"\x00garbage\xff" * 500, piece=100)
    assert error and "could not be decoded" in error
    assert audio.size == 0
    time.sleep(0.05)
    assert threading.active_count() == before
