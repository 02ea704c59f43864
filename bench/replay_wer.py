"""Deterministic streaming WER: every clip fed as a file (``live=False``), decoded every 0.3 s.

    python -m bench.replay_wer --model base --set ../shared/eval/en
    python -m bench.replay_wer --model base --set ../shared/eval/en --sure-probability 0.5

A real-time run (bench.stream) moves with the machine's load: the cadence stretches when
decodes are slow, so two runs of the same code differ by a word or two. Fed as a file, the
processor decodes every ``--step`` of audio whatever the clock says, so the same code gives
the same text, and a rule's effect on WER can be told from noise. Latency is read in audio
time: for each committed word, the audio the committing decode had heard past the word's
end (the policy's share of commit latency, without decode time or cadence jitter).

``--sure-probability`` and ``--tail-guard`` override LocalAgreement's ``SURE_PROBABILITY``
and ``TAIL_GUARD_S`` for this process only, to sweep them; the engine's code is not changed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.core.choices import StreamChoices
from app.core.decoding import decode_file
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.feed import stream_samples
from app.core.policy import DEFAULT_POLICY, POLICIES, local_agreement
from app.core.transcriber import DecodeRequest, StreamTranscriber
from bench.load import ROOT
from bench.metrics import align, normalize_text, summarize
from bench.output import write_results
from bench.stream import Clip, load_clips


@contextlib.contextmanager
def recording_commit_delays(into: list[float]) -> Iterator[None]:
    """While the block runs, record ``request.end - word.end`` for every committed word."""
    original = StreamTranscriber.apply

    def apply(self: StreamTranscriber, request: DecodeRequest, decoded: Any) -> Any:
        committed = original(self, request, decoded)
        into.extend(request.end - word.end for word in committed)
        return committed

    StreamTranscriber.apply = apply  # type: ignore[method-assign]
    try:
        yield
    finally:
        StreamTranscriber.apply = original  # type: ignore[method-assign]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.replay_wer", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="base", help="tiny.en or base")
    parser.add_argument("--set", required=True, type=Path, help="an eval set folder with manifest.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips")
    parser.add_argument("--policy", choices=sorted(POLICIES), default=DEFAULT_POLICY)
    parser.add_argument("--step", type=float, default=0.3, help="audio between decodes (s)")
    parser.add_argument("--sure-probability", type=float, default=None, help="LocalAgreement override")
    parser.add_argument("--tail-guard", type=float, default=None, help="LocalAgreement override (s)")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    return parser.parse_args(argv)


def replay_clips(
    engine: TranscriptionEngine, clips: list[Clip], policy: str, step_s: float
) -> tuple[list[dict[str, Any]], list[float]]:
    """Each clip's text and word errors, and every committed word's delay in audio time."""
    delays: list[float] = []
    rows = []
    with recording_commit_delays(delays):
        for clip in clips:
            choices = StreamChoices(policy=policy)
            final = asyncio.run(stream_samples(engine, decode_file(clip.path), choices, step_s=step_s))
            text = final.text
            alignment = align(normalize_text(clip.text), normalize_text(text))
            rows.append(
                {"clip": clip.name, "edits": alignment.edits, "ref_words": alignment.ref_words, "text": text}
            )
            print(f"{clip.name}: {alignment.edits} errors  {text}", file=sys.stderr, flush=True)
    return rows, delays


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.sure_probability is not None:
        local_agreement.SURE_PROBABILITY = args.sure_probability
    if args.tail_guard is not None:
        local_agreement.TAIL_GUARD_S = args.tail_guard
    clips = [c for c in load_clips(args.set, args.limit) if c.kind == "wer"]
    engine = TranscriptionEngine(EngineConfig(model=args.model, language="en"))
    started = time.perf_counter()
    rows, delays = replay_clips(engine, clips, args.policy, args.step)
    edits = sum(r["edits"] for r in rows)
    ref_words = sum(r["ref_words"] for r in rows)
    summary = {
        "model": args.model,
        "policy": args.policy,
        "step_s": args.step,
        "sure_probability": local_agreement.SURE_PROBABILITY,
        "tail_guard_s": local_agreement.TAIL_GUARD_S,
        "clips": len(rows),
        "wer": round(edits / ref_words, 4) if ref_words else None,
        "errors": edits,
        "ref_words": ref_words,
        "commit_delay_audio_s": summarize(delays),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    print("\n" + "\n".join(f"  {key:<22} {value}" for key, value in summary.items()))
    out = args.out or ROOT / "bench" / "results" / f"replay-wer-{args.model}-{args.policy}.json"
    return write_results(out, {"summary": summary, "clips": rows})


if __name__ == "__main__":
    sys.exit(main())
