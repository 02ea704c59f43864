"""Streaming bench: replay an eval set in real time and score what a caption reader gets.

    python -m bench.stream --model tiny.en --set ../shared/eval/en --limit 3

Each clip goes through a fresh AudioProcessor (one engine shared by all, as in the app)
at real-time pace, because latency and lag only mean something at the speed of speech.
The same model decoding the whole clip offline (beam 5) gives the accuracy streaming
is compared against and, with word timestamps, the reference times for the latencies:
the manifests carry no word timings. See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from app.core.choices import StreamChoices
from app.core.decoding import SAMPLE_RATE, decode_file
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.policy import DEFAULT_POLICY, POLICIES
from app.core.processor import ProcessorConfig
from bench.metrics import align, matched_delays, normalize_text, summarize
from bench.output import write_results
from bench.replay import AsrTimer, Replay, peak_rss_mb, replay

NON_SPEECH = "none"


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    text: str
    language: str
    duration: float

    @property
    def kind(self) -> str:
        """How the clip is scored: "wer", "hallucination" (non-speech) or "unscored" (no text)."""
        if self.language == NON_SPEECH:
            return "hallucination"
        return "wer" if self.text.strip() else "unscored"


def load_clips(set_dir: Path, limit: int | None) -> list[Clip]:
    clips: list[Clip] = []
    with (set_dir / "manifest.jsonl").open(encoding="utf-8") as manifest:
        for line in manifest:
            if line.strip():
                entry = json.loads(line)
                clips.append(
                    Clip(
                        entry["audio"],
                        set_dir / entry["audio"],
                        entry.get("text", ""),
                        entry.get("language", ""),
                        float(entry.get("duration", 0.0)),
                    )
                )
    return clips[:limit] if limit else clips


def read_audio(path: Path) -> np.ndarray:
    return decode_file(path)


def stream_language(mode: str, clip: Clip) -> str | None:
    """The language a stream is told: fixed, or the manifest's ("clip"); None detects."""
    if mode == "clip":
        return clip.language if len(clip.language) == 2 else None
    return None if mode == "auto" else mode


# -- offline reference ----------------------------------------------------------------


def offline_pass(engine: TranscriptionEngine, audio: np.ndarray, language: str | None) -> dict[str, Any]:
    """The model's plain whole-clip decode (for WER) and a word-timed one (for reference times).

    Two calls, because word timestamps move where faster-whisper starts its next 30 s
    window, and the WER baseline should be the untouched default decode.
    """
    model = engine._model  # the engine's own loaded WhisperModel: same weights, same compute type
    language = language if engine.is_multilingual else "en"
    started = time.perf_counter()
    segments, _ = model.transcribe_full_window(audio, language=language, beam_size=5)
    text = "".join(s.text for s in segments).strip()
    plain_s = time.perf_counter() - started
    segments, _ = model.transcribe_full_window(audio, language=language, beam_size=5, word_timestamps=True)
    words = [(w.word, round(w.start, 3), round(w.end, 3)) for s in segments for w in s.words or ()]
    return {
        "text": text,
        "words": words,
        "seconds": round(plain_s, 3),
        "onset_s": words[0][1] if words else None,
        "vad_onset_s": vad_onset(audio),
    }


def vad_onset(audio: np.ndarray) -> float | None:
    """Where Silero VAD (unpadded) first hears speech: a cross-check on the word-time onset.

    Whisper often starts a clip's first word at 0.0 s even after a pause, which makes
    first-text latency look worse by the length of that pause.
    """
    regions = get_speech_timestamps(audio, VadOptions(speech_pad_ms=0, min_silence_duration_ms=100))
    return round(regions[0]["start"] / SAMPLE_RATE, 3) if regions else None


# -- per clip ---------------------------------------------------------------------------


def score_clip(clip: Clip, streamed: Replay, offline: dict[str, Any]) -> dict[str, Any]:
    ref = normalize_text(clip.text)
    hyp = normalize_text(streamed.final_text)
    off = normalize_text(offline["text"])
    # Non-speech has no onset and no words to be late for: what the offline model
    # "hears" in noise is itself a hallucination, not a reference.
    speech = clip.kind != "hallucination"
    onset = offline["onset_s"] if speech else None
    vad = offline["vad_onset_s"] if speech else None
    reference = [(w, end) for w, _, end in offline["words"]] if speech else []
    delays = matched_delays(reference, streamed.committed)
    row: dict[str, Any] = {
        "clip": clip.name,
        "kind": clip.kind,
        "language": clip.language,
        "duration_s": round(streamed.duration_s, 3),
        "reference": clip.text,
        "ref_words": len(ref),
        "stream_text": streamed.final_text,
        "offline_text": offline["text"],
        "first_text_s": _r(streamed.first_text_s),
        "first_text_latency_s": _r(streamed.first_text_s - onset)
        if streamed.first_text_s is not None and onset is not None
        else None,
        "onset_s": onset,
        "vad_onset_s": vad,
        "first_text_latency_vad_s": _r(streamed.first_text_s - vad)
        if streamed.first_text_s is not None and vad is not None
        else None,
        "commit_delays_s": [round(d, 3) for d in delays],
        "commit_latency_s": summarize(delays),
        "final_update_s": _r(streamed.final_update_s),
        "asr_calls": streamed.asr_calls,
        "asr_s": _r(streamed.asr_s),
        "rtf": _r(streamed.rtf),
        "offline_seconds": offline["seconds"],
        "offline_words": offline["words"],
        "updates": streamed.updates,
    }
    if clip.kind == "wer":
        for prefix, words in (("stream", hyp), ("offline", off)):
            a = align(ref, words)
            row[f"{prefix}_edits"] = a.edits
            row[f"{prefix}_sdi"] = [a.substitutions, a.deletions, a.insertions]
            row[f"{prefix}_wer"] = _r(a.wer, 4)
    elif clip.kind == "hallucination":
        row["stream_hallucinated_words"] = len(hyp)
        row["offline_hallucinated_words"] = len(off)
    return row


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# -- set summary, silence and soak ------------------------------------------------------


def summarize_set(rows: list[dict[str, Any]]) -> dict[str, Any]:
    scored = [r for r in rows if r["kind"] == "wer"]
    noise = [r for r in rows if r["kind"] == "hallucination"]
    ref_words = sum(r["ref_words"] for r in scored)
    audio_s = sum(r["duration_s"] for r in rows)
    asr_s = sum(r["asr_s"] for r in rows)
    summary: dict[str, Any] = {
        "clips": len(rows),
        "audio_s": round(audio_s, 2),
        "scored_clips": len(scored),
        "unscored_clips": [r["clip"] for r in rows if r["kind"] == "unscored"],
        "ref_words": ref_words,
        "stream_wer": _r(sum(r["stream_edits"] for r in scored) / ref_words, 4) if ref_words else None,
        "offline_wer": _r(sum(r["offline_edits"] for r in scored) / ref_words, 4) if ref_words else None,
        "first_text_latency_s": summarize(
            [r["first_text_latency_s"] for r in rows if r["first_text_latency_s"] is not None]
        ),
        "first_text_latency_vad_s": summarize(
            [r["first_text_latency_vad_s"] for r in rows if r["first_text_latency_vad_s"] is not None]
        ),
        "commit_latency_s": summarize([d for r in rows for d in r["commit_delays_s"]]),
        "asr_calls": sum(r["asr_calls"] for r in rows),
        "asr_s": round(asr_s, 3),
        "rtf": _r(asr_s / audio_s) if audio_s else None,
    }
    if noise:
        summary["noise_clips"] = len(noise)
        summary["stream_hallucinated_words"] = sum(r["stream_hallucinated_words"] for r in noise)
        summary["offline_hallucinated_words"] = sum(r["offline_hallucinated_words"] for r in noise)
        summary["clips_with_stream_hallucination"] = sum(r["stream_hallucinated_words"] > 0 for r in noise)
    return summary


def silent_cpu(result: Replay) -> dict[str, Any]:
    return {
        "seconds": round(result.duration_s, 1),
        "wall_s": _r(result.wall_s),
        "cpu_s": _r(result.cpu_s),
        "cpu_percent_of_one_core": _r(result.cpu_percent, 2),
        "asr_calls": result.asr_calls,
        "hallucinated_words": len(normalize_text(result.final_text)),
    }


def soak_audio(clips: list[Clip], audios: dict[str, np.ndarray], minutes: float) -> np.ndarray:
    """The clips joined with 1 s of silence between, repeated as needed, cut to ``minutes``."""
    target = round(minutes * 60 * SAMPLE_RATE)
    gap = np.zeros(SAMPLE_RATE, dtype=np.float32)
    parts: list[np.ndarray] = []
    total = 0
    while total < target:
        for clip in clips:
            parts += [audios[clip.name], gap]
            total += len(audios[clip.name]) + len(gap)
            if total >= target:
                break
    return np.concatenate(parts)[:target]


def soak_report(result: Replay) -> dict[str, Any]:
    """Lag is remaining_time_transcription at each update: audio received but not yet decoded."""
    samples = [(u["t"], u["remaining_s"]) for u in result.updates]
    d = result.duration_s

    def mean_lag(lo: float, hi: float) -> float | None:
        window = [lag for t, lag in samples if lo <= t <= hi]
        return _r(sum(window) / len(window)) if window else None

    first, last = mean_lag(0.0, 0.1 * d), mean_lag(0.9 * d, d)
    return {
        "minutes": round(d / 60, 2),
        "updates": len(samples),
        "max_lag_s": _r(max((lag for _, lag in samples), default=0.0)),
        "mean_lag_first_10pct_s": first,
        "mean_lag_last_10pct_s": last,
        "lag_growth_s": _r(last - first) if first is not None and last is not None else None,
        "lag_trend_s_per_min": lag_trend(samples),
        "drain_s": _r(result.final_update_s - d),
        "asr_calls": result.asr_calls,
        "rtf": _r(result.rtf),
        "committed_words": len(result.committed),
        "lag_samples": [[t, lag] for t, lag in samples],
    }


def lag_trend(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of lag over the run, in seconds per minute.

    The first and last tenths alone depend on where the clip cycle happens to fall; a
    slope over every update shows whether the lag really grows.
    """
    times = [t / 60.0 for t, _ in samples]
    if len(set(times)) < 2:
        return None
    slope, _ = np.polyfit(times, [lag for _, lag in samples], 1)
    return _r(float(slope))


# -- output -------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    print(
        f"\n{'clip':<40} {'dur':>6} {'ref':>4} {'WER':>6} {'offWER':>6} {'first':>6} {'commit':>6} {'rtf':>5}"
    )
    for r in rows:
        if r["kind"] == "wer":
            wer, off = _fmt(r["stream_wer"]), _fmt(r["offline_wer"])
        elif r["kind"] == "hallucination":
            wer, off = f"h={r['stream_hallucinated_words']}", f"h={r['offline_hallucinated_words']}"
        else:
            wer = off = "n/a"
        first, commit = r["first_text_latency_s"], r["commit_latency_s"]["median"]
        print(
            f"{r['clip'][:40]:<40} {r['duration_s']:>6.1f} {r['ref_words']:>4} {wer:>6} {off:>6} "
            f"{_fmt(first):>6} {_fmt(commit):>6} {_fmt(r['rtf']):>5}"
        )
    print("\nsummary")
    for key, value in summary.items():
        if isinstance(value, dict) and "lag_samples" in value:
            value = {k: v for k, v in value.items() if k != "lag_samples"}
        print(f"  {key:<34} {value}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.stream", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="tiny.en", help="tiny.en or base")
    parser.add_argument("--set", required=True, type=Path, help="an eval set folder with manifest.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    parser.add_argument(
        "--language",
        default="en",
        help='language code, "auto" to detect, "clip" for each manifest language',
    )
    parser.add_argument("--soak-minutes", type=float, default=0.0, help="lag-growth run length; 0 skips")
    parser.add_argument("--silent-seconds", type=float, default=30.0, help="silent-CPU run; 0 skips")
    parser.add_argument("--chunk-s", type=float, default=0.1, help="audio per process_audio call")
    parser.add_argument("--policy", choices=sorted(POLICIES), default=DEFAULT_POLICY, help="streaming policy")
    parser.add_argument(
        "--decode-share", type=float, default=ProcessorConfig.decode_share,
        help="the most of the time mid-utterance decodes may keep the recogniser busy",
    )
    parser.add_argument(
        "--step", type=float, default=None,
        help="the least audio between live decodes, on the CPU and a GPU alike (default: "
        f"{ProcessorConfig.step_s} s on the CPU, {ProcessorConfig.gpu_step_s} s on a GPU)",
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    clips = load_clips(args.set, args.limit)
    engine_language = None if args.language in ("auto", "clip") else args.language
    print(f"loading {args.model}…", file=sys.stderr, flush=True)
    engine = TranscriptionEngine(EngineConfig(model=args.model, language=engine_language))
    timer = AsrTimer(engine)
    audios = {clip.name: read_audio(clip.path) for clip in clips}

    # Offline first, all of it, so no offline decode competes with a real-time stream.
    offline: dict[str, dict[str, Any]] = {}
    for clip in clips:
        print(f"offline  {clip.name}", file=sys.stderr, flush=True)
        offline[clip.name] = await asyncio.to_thread(
            offline_pass, engine, audios[clip.name], stream_language(args.language, clip)
        )

    # Warm the VAD and the decode path so the first clip's latency is not a cold start.
    steps = {} if args.step is None else {"step_s": args.step, "gpu_step_s": args.step}
    live = ProcessorConfig(
        choices=StreamChoices(policy=args.policy), live=True, decode_share=args.decode_share, **steps
    )
    await replay(engine, timer, np.zeros(SAMPLE_RATE, dtype=np.float32), live, args.chunk_s)

    rows = []
    for clip in clips:
        print(f"stream   {clip.name} ({clip.duration:.1f} s)", file=sys.stderr, flush=True)
        config = replace(live, choices=live.choices.replace(language=stream_language(args.language, clip)))
        streamed = await replay(engine, timer, audios[clip.name], config, args.chunk_s)
        rows.append(score_clip(clip, streamed, offline[clip.name]))
    summary = summarize_set(rows)

    if args.silent_seconds > 0:
        print(f"silence  {args.silent_seconds:.0f} s", file=sys.stderr, flush=True)
        zeros = np.zeros(round(args.silent_seconds * SAMPLE_RATE), dtype=np.float32)
        summary["silent_cpu"] = silent_cpu(
            await replay(engine, timer, zeros, live, args.chunk_s)
        )
    if args.soak_minutes > 0 and clips:
        print(f"soak     {args.soak_minutes} min", file=sys.stderr, flush=True)
        audio = soak_audio(clips, audios, args.soak_minutes)
        config = replace(live, language=stream_language(args.language, clips[0]))
        summary["soak"] = soak_report(await replay(engine, timer, audio, config, args.chunk_s))
    summary["peak_rss_mb"] = round(peak_rss_mb(), 1)
    engine.close()
    return {
        "config": {
            "model": args.model,
            "set": str(args.set),
            "limit": args.limit,
            "language": args.language,
            "chunk_s": args.chunk_s,
            "device": engine.device,
            "compute_type": engine.compute_type,
            "policy": args.policy,
            "processor": asdict(live),
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
        "summary": summary,
        "clips": rows,
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    if not (args.set / "manifest.jsonl").is_file():
        print(f"{args.set} has no manifest.jsonl", file=sys.stderr)
        return 2
    results = asyncio.run(run(args))
    print_table(results["clips"], results["summary"])
    name = f"stream-{args.model}-{args.set.resolve().name}-{args.policy}.json"
    out = args.out or Path(__file__).parent / "results" / name
    return write_results(out, results)


if __name__ == "__main__":
    sys.exit(main())
