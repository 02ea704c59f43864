"""Audio that decodes to far more than it weighs: caps, backpressure and prompt cleanup.

The attack: FLAC stores digital silence as one constant per block, so an hour of it takes
about 20 KB, and decodes to 230 MB of float32 at 16 kHz. Everything here uses real PyAV
and, where a stream needs an engine, the real tiny.en engine.
"""

import asyncio
import io
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import BinaryIO

import av
import numpy as np
import pytest

from app.core import processor as processor_module
from app.core.decoding import (
    SAMPLE_RATE,
    STREAM_PROBE_BYTES,
    AudioDecodeError,
    AudioTooLongError,
    StreamDecoder,
    decode_file,
    decode_into,
    duration_words,
    float_to_pcm16,
)
from app.core.frontdata import STATUS_ERROR
from app.core.processor import MAX_UNREAD_BYTES, AudioProcessor, ProcessorConfig
from tests.conftest import clip, run
from tests.test_decoding import collect_stream, encode

HOUR = 3600
MIB = 1 << 20
# 30 s of float32 at 16 kHz is 1.9 MB: the processor's whole decoded backlog. A bounded
# stream holds that, a 5 s step (0.3 MB) and its concatenation, the transcriber's window
# (at most Whisper's 30 s, 1.9 MB) and the decoder's block of 4 s: under 8 MB, 5 MiB
# measured. 32 MiB leaves room for interpreter noise; one hour of the bomb decodes to
# 230 MB, and the unbounded decoder peaked at 400 MiB in this test.
BOUNDED_PEAK = 32 * MIB


def silence_flac(seconds: int) -> bytes:
    """Digital silence as FLAC with the largest block FLAC allows: a few bytes per 4 s."""
    buf = io.BytesIO()
    block = 65535
    with av.open(buf, "w", format="flac") as out:
        stream = out.add_stream("flac", rate=SAMPLE_RATE, options={"frame_size": str(block)})
        stream.layout = "mono"
        stream.format = "s16"
        zeros = np.zeros((1, block), np.int16)
        for pts in range(0, seconds * SAMPLE_RATE, block):
            frame = av.AudioFrame.from_ndarray(zeros, format="s16", layout="mono")
            frame.sample_rate, frame.pts = SAMPLE_RATE, pts
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = silence_flac(HOUR)
    assert len(data) < 64 * 1024, f"the hour of silence takes {len(data)} bytes: no longer a bomb"
    return data


@pytest.fixture
def traced() -> Iterator[None]:
    """tracemalloc on for one test; numpy registers its buffers, so decoded audio is counted."""
    tracemalloc.start()
    yield
    tracemalloc.stop()


def peak_since_reset() -> int:
    return tracemalloc.get_traced_memory()[1]


def decoder_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sayline-decoder" and t.is_alive()]


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# -- whole files --------------------------------------------------------------------


def test_duration_words_reads_like_a_person_wrote_it():
    assert duration_words(45) == "45 seconds"
    assert duration_words(60) == "1 minute"
    assert duration_words(90) == "1.5 minutes"
    assert duration_words(2 * HOUR) == "2 hours"


def decode_all(data: bytes | BinaryIO, label: str, **limits) -> np.ndarray:
    """What the server's upload path decodes, gathered instead of streamed."""
    blocks: list[np.ndarray] = []
    decode_into(io.BytesIO(data) if isinstance(data, bytes) else data, label, blocks.append, **limits)
    return np.concatenate(blocks)


def test_decoding_stops_at_the_cap_without_decoding_the_rest(bomb, traced):
    tracemalloc.reset_peak()
    started = time.perf_counter()
    with pytest.raises(AudioTooLongError) as caught:
        decode_all(bomb, "bomb.flac", max_seconds=60)
    took = time.perf_counter() - started
    assert str(caught.value) == "bomb.flac is longer than 1 minute, the most this server takes."
    assert isinstance(caught.value, AudioDecodeError)  # callers catching that keep working
    # A minute is 3.8 MB of float32; the whole hour would be 230 MB.
    assert peak_since_reset() < 16 * MIB, peak_since_reset()
    assert took < 5.0, f"{took:.1f} s: the hour was decoded before the cap was applied"


def test_audio_under_the_cap_decodes_in_full():
    speech = clip("en", "jfk.wav")
    flac = encode(speech, "flac", "flac", rate=16000)
    decoded = decode_all(flac, "jfk.flac", max_seconds=len(speech) / SAMPLE_RATE + 1)
    assert abs(len(decoded) - len(speech)) < 160


def test_decoding_takes_a_spooled_file(bomb):
    """The server hands over an upload spooled to disk, not its bytes."""
    speech = clip("en", "jfk.wav")[: SAMPLE_RATE * 3]
    with tempfile.SpooledTemporaryFile(max_size=1024) as spooled:
        spooled.write(encode(speech, "ogg", "libopus"))
        spooled.seek(0)
        decoded = decode_all(spooled, "speech.ogg")
    assert abs(len(decoded) - len(speech)) < SAMPLE_RATE * 0.1
    with tempfile.SpooledTemporaryFile(max_size=1024) as spooled:
        spooled.write(bomb)
        spooled.seek(0)
        with pytest.raises(AudioTooLongError, match="longer than 10 minutes"):
            decode_all(spooled, "bomb.flac", max_seconds=600)
    with tempfile.SpooledTemporaryFile() as empty, pytest.raises(AudioDecodeError, match="is empty"):
        decode_all(empty, "nothing.wav")


def test_decoding_stops_when_asked(bomb):
    """A server shutting down asks its upload decodes to stop, rather than wait for each."""
    asked = 0

    def after_ten_packets() -> bool:
        nonlocal asked
        asked += 1
        return asked > 10

    with pytest.raises(AudioDecodeError, match=r"^Decoding bomb\.flac was stopped\.$"):
        decode_all(bomb, "bomb.flac", should_stop=after_ten_packets)
    assert asked == 11


def test_decode_file_takes_the_same_cap(bomb, tmp_path):
    path = tmp_path / "bomb.flac"
    path.write_bytes(bomb)
    with pytest.raises(AudioTooLongError, match="longer than 30 seconds"):
        decode_file(path, max_seconds=30)


# -- the stream decoder on its own --------------------------------------------------


class Consumer:
    """What a StreamDecoder's owner sees, from its thread."""

    def __init__(self) -> None:
        self.samples = 0
        self.outcome: list[str | None] = []

    def on_audio(self, samples: np.ndarray) -> None:
        self.samples += samples.size

    def on_error(self, message: str) -> None:
        self.outcome.append(message)

    def on_end(self) -> None:
        self.outcome.append(None)


def test_the_decoder_waits_for_its_consumer_and_goes_on_when_it_takes(bomb):
    consumer = Consumer()
    limit = 10 * SAMPLE_RATE
    decoder = StreamDecoder(consumer.on_audio, consumer.on_error, consumer.on_end, max_backlog=limit)
    decoder.feed(bomb)
    decoder.finish()
    assert wait_until(lambda: consumer.samples > limit, 5.0)
    time.sleep(0.3)  # an unbounded decoder gets through the hour in about a second
    held = consumer.samples
    assert held <= limit + 65535 * 2, f"{held / SAMPLE_RATE:.0f} s decoded while nothing was taken"
    decoder.consumed(held)
    assert wait_until(lambda: consumer.samples > held + limit, 5.0), "the decoder did not go on"
    started = time.perf_counter()
    decoder.close()
    assert time.perf_counter() - started < 1.0
    assert not decoder.alive
    assert consumer.outcome == [], "a closed decoder reported an outcome"


# -- the processor ------------------------------------------------------------------


def test_a_flac_bomb_stream_keeps_memory_bounded(tiny_engine, bomb, traced):
    """The hour of silence arrives in one frame; the decoder keeps pace with the worker."""

    async def scenario() -> tuple[float, int]:
        processor = AudioProcessor(tiny_engine, ProcessorConfig(pcm_input=False))
        tracemalloc.reset_peak()
        await processor.process_audio(bomb)
        await asyncio.sleep(2.0)  # an unbounded decoder gets through the hour in a second or two
        # Past the 30 s backlog, so the bound has been reached, on a slow machine too.
        await asyncio.wait_for(_until(lambda: processor.received_seconds > 60), 60.0)
        peak = peak_since_reset()
        received = processor.received_seconds
        await asyncio.wait_for(processor.cleanup(), 2.0)
        return received, peak

    received, peak = run(scenario())
    assert peak < BOUNDED_PEAK, f"{peak / MIB:.0f} MiB held after {received:.0f} s of audio"
    assert wait_until(lambda: not decoder_threads(), 1.0)


def test_a_stream_past_its_cap_fails_with_a_sentence(tiny_engine, bomb):
    async def scenario() -> tuple[list, float, bool]:
        processor = AudioProcessor(tiny_engine, ProcessorConfig(pcm_input=False, max_audio_s=60))
        await processor.process_audio(bomb)
        updates = await asyncio.wait_for(_collect(processor), 30.0)
        received = processor.received_seconds
        stopped = await asyncio.to_thread(wait_until, lambda: not decoder_threads(), 1.0)
        await processor.cleanup()
        return updates, received, stopped

    updates, received, stopped = run(scenario())
    final = updates[-1]
    assert final.status == STATUS_ERROR
    assert final.error == "This server takes at most 1 minute of audio per stream."
    assert received <= 60
    assert stopped, "the decoder thread went on after the stream failed"


def test_a_pcm_stream_past_its_cap_fails_too(tiny_engine):
    pcm = float_to_pcm16(clip("en", "jfk.wav"))

    async def scenario() -> list:
        processor = AudioProcessor(tiny_engine, ProcessorConfig(live=False, max_audio_s=5))
        collector = asyncio.create_task(_collect(processor))
        for offset in range(0, len(pcm), 6400):
            await processor.process_audio(pcm[offset:offset + 6400])
        updates = await asyncio.wait_for(collector, 30.0)
        await processor.cleanup()
        return updates

    final = run(scenario())[-1]
    assert final.status == STATUS_ERROR
    assert final.error == "This server takes at most 5 seconds of audio per stream."


def test_cleanup_releases_a_decoder_waiting_for_room(tiny_engine, bomb, monkeypatch):
    """A worker stuck on one step leaves the decoder waiting; cleanup must not wait with it."""

    async def never(*args):
        await asyncio.Event().wait()

    monkeypatch.setattr(tiny_engine, "speech_probabilities", never)

    async def scenario() -> tuple[float, float]:
        processor = AudioProcessor(tiny_engine, ProcessorConfig(pcm_input=False, max_backlog_s=5.0))
        feeding = asyncio.create_task(processor.process_audio(bomb))  # it waits too: backlog full
        await asyncio.sleep(1.0)  # an unbounded decoder gets through the hour in about a second
        received = processor.received_seconds
        started = time.perf_counter()
        await asyncio.wait_for(processor.cleanup(), 2.0)
        took = time.perf_counter() - started
        await asyncio.wait_for(feeding, 1.0)
        return received, took

    received, took = run(scenario())
    assert received <= 5.0 + 0.1 + 65535 * 2 / SAMPLE_RATE, f"decoded {received:.0f} s with nothing taken"
    assert took < 1.0, f"cleanup took {took:.1f} s"
    assert wait_until(lambda: not decoder_threads(), 0.5), "the decoder thread outlived cleanup"


def test_a_client_sending_faster_than_the_decoder_reads_is_held_back(tiny_engine, monkeypatch):
    """Decoded audio is bounded; so are the bytes behind it, or a fast client fills memory with them."""
    reading = threading.Event()

    class BusyDecoder(StreamDecoder):
        """A decoder busy elsewhere (a slow packet, a starved thread) until ``reading`` is set."""

        def _decode(self) -> str | None:
            reading.wait(10.0)
            return super()._decode()

    monkeypatch.setattr(processor_module, "StreamDecoder", BusyDecoder)
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, SAMPLE_RATE * 80).astype(np.float32)
    flac = encode(noise, "flac", "flac", rate=SAMPLE_RATE)
    assert len(flac) > 2 * MAX_UNREAD_BYTES

    async def scenario() -> tuple[bool, int]:
        processor = AudioProcessor(tiny_engine, ProcessorConfig(pcm_input=False))
        feeding = asyncio.create_task(processor.process_audio(flac))
        await asyncio.sleep(0.3)
        held_back = not feeding.done()
        reading.set()
        await asyncio.wait_for(feeding, 5.0)
        unread = processor._decoder.unread_bytes
        await processor.cleanup()
        return held_back, unread

    held_back, unread = run(scenario())
    assert held_back, "process_audio returned with 2 MiB not yet read by the decoder"
    assert unread <= MAX_UNREAD_BYTES


def test_undecodable_bytes_without_an_end_frame_fail_within_a_second(tiny_engine):
    """A client that sent garbage and waits hears back without sending the end frame.

    FFmpeg's own format probe would wait for 1 MiB of a stream before giving up; the
    stream probe stops at STREAM_PROBE_BYTES. Below that the decoder cannot know yet.
    """
    garbage = np.random.default_rng(0).bytes(64_000)  # seeded: 1 in 200 random inputs probes as video
    assert len(garbage) > STREAM_PROBE_BYTES

    async def scenario() -> tuple[list, float]:
        processor = AudioProcessor(tiny_engine, ProcessorConfig(pcm_input=False))
        started = time.perf_counter()
        await processor.process_audio(garbage)
        updates = await asyncio.wait_for(_collect(processor), 5.0)
        took = time.perf_counter() - started
        await processor.cleanup()
        return updates, took

    updates, took = run(scenario())
    assert updates[-1].status == STATUS_ERROR
    assert "could not be decoded" in updates[-1].error
    assert took < 1.0, f"the error took {took:.1f} s"


def test_the_short_probe_still_finds_mp3_behind_a_large_id3_tag():
    """Cover art puts hundreds of KB before the first MP3 frame, far past the stream probe."""
    speech = clip("en", "jfk.wav")[: SAMPLE_RATE * 3]
    art = b"APIC" + (200_000).to_bytes(4, "big") + b"\0\0" + bytes(200_000)
    size = len(art)
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    tagged = b"ID3\x03\x00\x00" + syncsafe + art + encode(speech, "mp3", "libmp3lame")
    audio, error = collect_stream(tagged, piece=997)
    assert error is None
    assert abs(len(audio) - len(speech)) < SAMPLE_RATE * 0.1


async def _collect(processor: AudioProcessor) -> list:
    return [update async for update in processor.results()]


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.05)
