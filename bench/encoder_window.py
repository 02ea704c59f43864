"""How short an encoder window Whisper tolerates: WER and decode time per window rule.

Each clip of the set is decoded whole, greedily, with word timestamps (as the live
engine decodes a buffer), once with faster-whisper's full 30 s window and once per
``margin:min_window`` rule of :class:`app.core.whisper_model.ShortWindowWhisper`.

    .venv/bin/python -m bench.encoder_window --model base --rules 1:0,4:0,4:10,6:10 --limit 40
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from app.core.decoding import decode_file
from app.core.models import resolve_model
from app.core.whisper_model import ShortWindowWhisper
from bench.metrics import align, normalize_text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "eval" / "en"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--rules", default="4:10", help="margin_s:min_window_s pairs, comma-separated")
    parser.add_argument("--max-seconds", type=float, default=25.0, help="only clips up to this long")
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips (0: all)")
    args = parser.parse_args()

    rows = [json.loads(line) for line in (args.set / "manifest.jsonl").read_text().splitlines() if line]
    rows = [r for r in rows if r["text"] and r["duration"] <= args.max_seconds]
    rows = rows[: args.limit or None]
    clips = [(decode_file(args.set / r["audio"]), normalize_text(r["text"])) for r in rows]
    model = ShortWindowWhisper(str(resolve_model(args.model)), device="cpu", compute_type="int8")
    options = {"language": "en", "beam_size": 1, "word_timestamps": True, "condition_on_previous_text": False}

    def score(transcribe) -> tuple[float, float]:
        edits = words = 0
        seconds = 0.0
        for audio, reference in clips:
            started = time.perf_counter()
            segments, _ = transcribe(audio, **options)
            text = " ".join(s.text for s in segments)  # the full-window call decodes lazily, here
            seconds += time.perf_counter() - started
            alignment = align(reference, normalize_text(text))
            edits, words = edits + alignment.edits, words + alignment.ref_words
        return edits / words, seconds

    print(f"{args.model}: {len(clips)} clips of {args.set.name}, greedy, word timestamps")
    print(f"{'window':<22} {'WER':>7} {'decode s':>9}")
    wer, seconds = score(model.transcribe_full_window)
    print(f"{'full 30 s':<22} {wer:>7.2%} {seconds:>9.1f}")
    for rule in args.rules.split(","):
        margin, floor = (float(x) for x in rule.split(":"))
        model.margin_s, model.min_window_s = margin, floor
        wer, seconds = score(model.transcribe)
        print(f"{f'audio + {margin:g} s, ≥ {floor:g} s':<22} {wer:>7.2%} {seconds:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
