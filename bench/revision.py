"""Revision bench: what a reader gets live before and after utterance-final revision, against a file run.

    python -m bench.revision --model base --set ../shared/eval/en --half held-out --runs
    python -m bench.revision --model base --set ../shared/eval/en --no-revise --runs

Each stream is replayed in real time through a fresh AudioProcessor (bench/replay.py).
``--runs`` joins the half's clips with 1 s pauses into streams of up to ``--run-minutes``
(captions are used on long streams, and that is where live decoding lost most words);
without it each clip is its own stream. One run gives, for the same decodes:

- **live before revision**: every word as the live policy first committed it (the class's
  ``_commit`` is wrapped, so revisions, which bypass it, do not show), with the wall time it
  was committed: commit latency against the offline words' end times, as bench.stream does;
- **live after revision**: the final transcript the stream ends with;
- **offline**: the same model decoding the whole stream at once, beam 5 (a file run);
- revision counts, how late each revision landed after its utterance ended (wall clock),
  lines revised, and the recogniser's time per audio second (compare with ``--no-revise``).

Halves: clips alternate between ``tune`` (even manifest positions, what revision was
developed on) and ``held-out`` (odd positions, kept for the final check).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.core.choices import StreamChoices
from app.core.decoding import SAMPLE_RATE
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.processor import ProcessorConfig
from app.core.transcriber import StreamTranscriber
from bench.metrics import align, matched_delays, normalize_text, summarize
from bench.output import write_results
from bench.replay import AsrTimer, peak_rss_mb, replay
from bench.stream import Clip, load_clips, offline_pass, read_audio

HALVES = ("tune", "held-out", "all")
GAP_S = 1.0


@dataclass
class Stream:
    name: str
    audio: np.ndarray
    text: str  # the reference


@dataclass
class Recorder:
    """What the live path committed and what revision did during one replay, with wall times."""

    started: float = 0.0
    committed: list[tuple[str, float]] = field(default_factory=list)  # word, seconds since start
    late_s: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=lambda: {"revised": 0, "unchanged": 0, "rejected": 0})
    skipped: int = 0


@contextlib.contextmanager
def recording(recorder: Recorder) -> Iterator[None]:
    """Wrap the transcriber's commit and revision steps on the class while one replay runs."""
    commit, apply, skip = (
        StreamTranscriber._commit,
        StreamTranscriber.apply_revision,
        StreamTranscriber.skip_revision,
    )

    def recorded_commit(self: StreamTranscriber, words: list) -> None:
        now = time.monotonic() - recorder.started
        recorder.committed.extend((word.text, now) for word in words)
        commit(self, words)

    def recorded_apply(self: StreamTranscriber, job: Any, decoded: Any, received_until: float) -> bool:
        stats = self.revision_stats
        before = (stats.revised, stats.unchanged, stats.rejected)
        changed = apply(self, job, decoded, received_until)
        recorder.late_s.append(time.monotonic() - recorder.started - job.end)
        after = (stats.revised, stats.unchanged, stats.rejected)
        for name, old, new in zip(("revised", "unchanged", "rejected"), before, after, strict=True):
            recorder.outcomes[name] += new - old
        return changed

    def recorded_skip(self: StreamTranscriber, job: Any) -> None:
        recorder.skipped += 1
        skip(self, job)

    StreamTranscriber._commit = recorded_commit  # type: ignore[method-assign]
    StreamTranscriber.apply_revision = recorded_apply  # type: ignore[method-assign]
    StreamTranscriber.skip_revision = recorded_skip  # type: ignore[method-assign]
    try:
        yield
    finally:
        StreamTranscriber._commit = commit  # type: ignore[method-assign]
        StreamTranscriber.apply_revision = apply  # type: ignore[method-assign]
        StreamTranscriber.skip_revision = skip  # type: ignore[method-assign]


def pick_half(clips: list[Clip], half: str) -> list[Clip]:
    scored = [clip for clip in clips if clip.kind == "wer"]
    if half == "all":
        return scored
    return scored[0 if half == "tune" else 1::2]


def join_runs(clips: list[Clip], run_minutes: float) -> list[Stream]:
    """Consecutive clips joined with 1 s of silence, each run at most ``run_minutes`` long."""
    gap = np.zeros(round(GAP_S * SAMPLE_RATE), dtype=np.float32)
    runs: list[Stream] = []
    parts: list[np.ndarray] = []
    texts: list[str] = []
    for clip in clips:
        audio = read_audio(clip.path)
        if parts and (sum(len(p) for p in parts) + len(audio)) / SAMPLE_RATE > run_minutes * 60:
            runs.append(Stream(f"run{len(runs) + 1}", np.concatenate(parts), " ".join(texts)))
            parts, texts = [], []
        parts += [audio, gap]
        texts.append(clip.text)
    if parts:
        runs.append(Stream(f"run{len(runs) + 1}", np.concatenate(parts), " ".join(texts)))
    return runs


def edits(reference: str, hypothesis: str) -> int:
    return align(normalize_text(reference), normalize_text(hypothesis)).edits


async def measure(
    engine: TranscriptionEngine, timer: AsrTimer, stream: Stream, config: ProcessorConfig
) -> dict[str, Any]:
    offline = await asyncio.to_thread(offline_pass, engine, stream.audio, "en")
    recorder = Recorder()
    with recording(recorder):
        recorder.started = time.monotonic()
        result = await replay(engine, timer, stream.audio, config)
    before = "".join(text for text, _ in recorder.committed)
    reference_times = [(word, end) for word, _, end in offline["words"]]
    lines = [line for line in result.final_lines if not line.is_silence]
    return {
        "stream": stream.name,
        "seconds": round(result.duration_s, 1),
        "ref_words": len(normalize_text(stream.text)),
        "edits_before": edits(stream.text, before),
        "edits_after": edits(stream.text, result.final_text),
        "edits_offline": edits(stream.text, offline["text"]),
        "commit_delays_s": [round(d, 3) for d in matched_delays(reference_times, recorder.committed)],
        "late_s": [round(t, 3) for t in recorder.late_s],
        "outcomes": recorder.outcomes,
        "skipped": recorder.skipped,
        "lines": len(lines),
        "lines_revised": sum(line.revised for line in lines),
        "asr_s": round(result.asr_s, 2),
        "cpu_s": round(result.cpu_s, 2),
        "text_before": before.strip(),
        "text_after": result.final_text,
        "text_offline": offline["text"],
    }


def summarize_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    words = sum(r["ref_words"] for r in rows)
    seconds = sum(r["seconds"] for r in rows)
    outcomes = {name: sum(r["outcomes"][name] for r in rows) for name in ("revised", "unchanged", "rejected")}
    lines = sum(r["lines"] for r in rows)
    return {
        "streams": len(rows),
        "audio_minutes": round(seconds / 60, 2),
        "ref_words": words,
        "wer_live_before": round(sum(r["edits_before"] for r in rows) / words, 4),
        "wer_live_after": round(sum(r["edits_after"] for r in rows) / words, 4),
        "wer_offline": round(sum(r["edits_offline"] for r in rows) / words, 4),
        "commit_latency_s": summarize([d for r in rows for d in r["commit_delays_s"]]),
        "revision_late_s": summarize([t for r in rows for t in r["late_s"]]),
        "revisions": outcomes,
        "skipped_under_load": sum(r["skipped"] for r in rows),
        "revised_per_minute": round(outcomes["revised"] / (seconds / 60), 2) if seconds else None,
        "share_of_lines_revised": round(sum(r["lines_revised"] for r in rows) / lines, 3) if lines else None,
        "asr_s_per_audio_s": round(sum(r["asr_s"] for r in rows) / seconds, 4) if seconds else None,
        "cpu_s_per_audio_s": round(sum(r["cpu_s"] for r in rows) / seconds, 4) if seconds else None,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.revision", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--set", required=True, type=Path)
    parser.add_argument("--half", choices=HALVES, default="held-out")
    parser.add_argument("--runs", action="store_true", help="join the clips into long streams")
    parser.add_argument("--run-minutes", type=float, default=4.5)
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips of the half")
    parser.add_argument("--no-revise", action="store_true", help="the live path alone, for CPU and latency")
    parser.add_argument("--policy", default=None, help="streaming policy (default: the app's)")
    parser.add_argument("--out", type=Path, default=None)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    clips = pick_half(load_clips(args.set, None), args.half)[: args.limit]
    streams = (
        join_runs(clips, args.run_minutes)
        if args.runs
        else [Stream(clip.name, read_audio(clip.path), clip.text) for clip in clips]
    )
    engine = TranscriptionEngine(EngineConfig(model=args.model, language="en"))
    timer = AsrTimer(engine)
    choices = StreamChoices(revise=not args.no_revise, **({"policy": args.policy} if args.policy else {}))
    config = ProcessorConfig(choices=choices, live=True)
    await replay(engine, timer, np.zeros(SAMPLE_RATE, dtype=np.float32), config)  # warm up
    setup = {
        "model": args.model,
        "set": str(args.set),
        "half": args.half,
        "runs": args.runs,
        "run_minutes": args.run_minutes,
        "revise": not args.no_revise,
        "policy": choices.policy,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    rows = []
    for stream in streams:
        print(f"stream {stream.name} ({len(stream.audio) / SAMPLE_RATE:.0f} s)", file=sys.stderr, flush=True)
        rows.append(await measure(engine, timer, stream, config))
    engine.close()
    summary = {**summarize_rows(rows), "peak_rss_mb": round(peak_rss_mb(), 1)}
    return {"config": setup, "summary": summary, "streams": rows}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = asyncio.run(run(args))
    for key, value in results["summary"].items():
        print(f"  {key:<26} {value}")
    shape = "runs" if args.runs else "clips"
    name = f"revision-{args.model}-{args.half}-{shape}-{'off' if args.no_revise else 'on'}.json"
    return write_results(args.out or Path(__file__).parent / "results" / name, results)


if __name__ == "__main__":
    sys.exit(main())
