"""What a user with an NVIDIA GPU gets: which device the engine picks, and whether it decodes.

    python -m bench.cuda_path --model tiny.en --clip ../shared/eval/en/jfk.wav

Loads the engine as the app does (``device="auto"``), reports the device, compute type and
any notice (a GPU that cannot run the model falls back to the CPU), then decodes the clip
whole ``--repeat`` times and streams it once through an ``AudioProcessor`` as a file.
It is meant for a GPU machine lent for a few minutes, so it reads the WAV with the
standard library (such a machine may lack PyAV) and prints one JSON report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import wave
from pathlib import Path

import numpy as np

from app.core.decoding import SAMPLE_RATE, pcm16_to_float
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.feed import stream_samples


def read_wav(path: Path) -> np.ndarray:
    """A 16 kHz mono 16-bit WAV as float32 samples (the eval clips are all such files)."""
    with wave.open(str(path), "rb") as clip:
        if (clip.getframerate(), clip.getnchannels(), clip.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise SystemExit(f"{path}: need a {SAMPLE_RATE} Hz mono 16-bit WAV")
        return pcm16_to_float(clip.readframes(clip.getnframes()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cuda_path", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="tiny.en", help="a model name or folder")
    parser.add_argument("--clip", type=Path, required=True, help="a 16 kHz mono WAV")
    parser.add_argument("--repeat", type=int, default=5, help="whole-clip decodes to time")
    args = parser.parse_args(argv)

    samples = read_wav(args.clip)
    started = time.perf_counter()
    engine = TranscriptionEngine(EngineConfig(model=args.model, language="en"))
    load_s = time.perf_counter() - started
    try:
        decode_s, text = [], ""
        for _ in range(args.repeat):
            began = time.perf_counter()
            decoded = engine.decode(samples, 0.0, "en", "")
            decode_s.append(time.perf_counter() - began)
            text = "".join(w.text for segment in decoded.segments for w in segment.words).strip()
        began = time.perf_counter()
        streamed = asyncio.run(stream_samples(engine, samples, step_s=0.3))
        stream_s = time.perf_counter() - began
        report = {
            "device": engine.device,
            "compute_type": engine.compute_type,
            "notice": engine.notice,
            "load_s": round(load_s, 3),
            "clip_s": round(len(samples) / SAMPLE_RATE, 2),
            "first_decode_s": round(decode_s[0], 3),
            "median_decode_s": round(statistics.median(decode_s), 3),
            "decoded_text": text,
            "streamed_s": round(stream_s, 3),
            "streamed_text": streamed.text,
        }
    finally:
        engine.close()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
