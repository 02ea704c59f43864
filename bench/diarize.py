"""Diarization bench: streaming vs offline DER with the same models, cost, and cost next to ASR.

    python -m bench.diarize --set ../shared/eval/multi --backend default --model tiny.en

For every clip of the set that has an RTTM, three runs:

1. **streaming**: a StreamingDiarizer fed 0.5 s chunks as the processor feeds it, a pass
   whenever one is due and a final pass, timed on its own (no ASR running);
2. **offline**: the same models over the whole clip (app/core/diarization/offline.py);
3. **with ASR**: the clip through the whole engine in real time with diarization on
   (bench/diarize_live.py).

DER is our own (bench/der.py: 10 ms grid, 0.25 s collar, overlap counted). See
bench/README.md for every number.
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
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from app.core.choices import StreamChoices
from app.core.decoding import SAMPLE_RATE, decode_file
from app.core.diarization import (
    ClusterSettings,
    DiarizationError,
    DiarizationModels,
    DiarizationOptions,
    DiarizationSettings,
    SpeakerTurn,
    load_models,
)
from app.core.diarization.offline import OfflineSettings, diarize_offline
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.feed import stream_samples
from app.core.processor import ProcessorConfig
from bench.der import DerResult, Turn, diarization_error, read_rttm
from bench.diarize_live import AttributedWord, DiarizationTimer, LiveRun, run_live
from bench.diarize_report import print_tables
from bench.gate_replay import GateReplay, file_words, replay_gate
from bench.metrics import summarize
from bench.output import write_results
from bench.replay import AsrTimer, peak_rss_mb

COLLAR_S = 0.25


@dataclass(frozen=True)
class DiarizedClip:
    name: str
    path: Path
    rttm: Path
    duration: float


def load_clips(set_dir: Path, limit: int | None) -> list[DiarizedClip]:
    """The manifest's clips that have an RTTM (the others cannot be scored)."""
    if not (set_dir / "manifest.jsonl").is_file():
        raise SystemExit(f"{set_dir} has no manifest.jsonl.")
    clips = []
    for line in (set_dir / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line) if line.strip() else {}
        if entry.get("rttm"):
            clips.append(
                DiarizedClip(
                    entry["audio"],
                    set_dir / entry["audio"],
                    set_dir / entry["rttm"],
                    float(entry.get("duration", 0.0)),
                )
            )
    return clips[:limit] if limit else clips


def _turns(speaker_turns: Iterable[SpeakerTurn]) -> list[Turn]:
    return [Turn(t.start, t.end, str(t.speaker)) for t in speaker_turns]


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


# -- the three runs ---------------------------------------------------------------------


def run_streaming(
    models: DiarizationModels, audio: np.ndarray, settings: DiarizationSettings, chunk_s: float
) -> dict[str, Any]:
    """Feed the diarizer as the processor does (chunks, a pass when due, a final pass); time it."""
    diarizer = models.stream(settings)
    step = round(chunk_s * SAMPLE_RATE)
    passes = 0
    cpu, thread, wall = time.process_time(), time.thread_time(), time.perf_counter()
    for offset in range(0, len(audio), step):
        diarizer.accept(audio[offset : offset + step])
        if diarizer.due():
            diarizer.run_pass()
            passes += 1
    diarizer.run_pass(final=True)
    return {
        "turns": _turns(diarizer.turns),
        "passes": passes + 1,
        "cpu_s": time.process_time() - cpu,
        "thread_cpu_s": time.thread_time() - thread,
        "wall_s": time.perf_counter() - wall,
    }


def run_offline(models: DiarizationModels, audio: np.ndarray, settings: OfflineSettings) -> dict[str, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    turns = _turns(diarize_offline(models, audio, settings))
    return {"turns": turns, "cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}


# -- scoring ----------------------------------------------------------------------------


def der_row(result: DerResult) -> dict[str, Any]:
    return {
        "der": round(result.der, 4),
        "missed": round(result.missed, 4),
        "false_alarm": round(result.false_alarm, 4),
        "confusion": round(result.confusion, 4),
        "scored_speech_s": round(result.scored_speech, 2),
        "ref_speakers": result.reference_speakers,
        "hyp_speakers": result.hypothesis_speakers,
        "speaker_count_error": result.hypothesis_speakers - result.reference_speakers,
        "split_speakers": result.split_speakers,
        "merged_speakers": result.merged_speakers,
        "mapping": result.mapping,
    }


def word_accuracy(
    words: list[AttributedWord], reference: list[Turn], mapping: dict[str, str]
) -> dict[str, Any]:
    """Share of words whose speaker, mapped to the RTTM's, speaks at the word's midpoint.

    Words whose midpoint no reference speaker covers (a word time in a pause) are not
    scored; they are counted apart. A scored word whose reference speakers share none with
    the previous scored word's opens a turn: ``turn_start_accuracy`` is the share of those
    labelled right, where streaming diarization most often lags behind the voice.
    """
    correct = scored = turn_starts = turn_starts_right = 0
    previous: set[str] = set()
    for word in sorted(words, key=lambda w: w.start):
        middle = (word.start + word.end) / 2
        speaking = {t.speaker for t in reference if t.start <= middle <= t.end}
        if speaking:
            scored += 1
            right = mapping.get(str(word.speaker)) in speaking
            correct += right
            if not speaking & previous:
                turn_starts += 1
                turn_starts_right += right
            previous = speaking
    return {
        "accuracy": round(correct / scored, 4) if scored else None,
        "correct_words": correct,
        "scored_words": scored,
        "unscored_words": len(words) - scored,
        "turn_start_accuracy": round(turn_starts_right / turn_starts, 4) if turn_starts else None,
        "turn_starts": turn_starts,
        "turn_starts_right": turn_starts_right,
    }


def score_live(live: LiveRun, reference: list[Turn]) -> dict[str, Any]:
    processor_der = diarization_error(reference, _turns(live.turns), COLLAR_S)
    word_turns = [Turn(w.start, w.end, str(w.speaker)) for w in live.words]
    return {
        "duration_s": round(live.duration_s, 2),
        "processor_der": der_row(processor_der),
        "processor_turns": [asdict(t) for t in live.turns],
        "word_der": der_row(diarization_error(reference, word_turns, COLLAR_S)),
        "words": word_accuracy(live.words, reference, processor_der.mapping),
        "attribution_delay_s": summarize(live.attribution_delays_s),
        "speech_to_line_s": summarize([w.at_s - w.end for w in live.words]),
        "process_cpu_s": round(live.cpu_s, 3),
        "asr_wall_s": round(live.asr_s, 3),
        "diarization_cpu_s": round(live.diarization_cpu_s, 3),
        "rtf_process_cpu": round(live.cpu_s / live.duration_s, 3),
        "rtf_asr_wall": round(live.asr_s / live.duration_s, 3),
        "rtf_diarization_cpu": round(live.diarization_cpu_s / live.duration_s, 3),
        "diarization_passes": live.diarization_passes,
        "final_lag_s": round(live.final_lag_s, 2),
        "max_diarization_lag_s": live.max_diarization_lag_s,
        "max_transcription_lag_s": live.max_transcription_lag_s,
        "error": live.error,
        "text": live.final_text,
        "word_speakers": [asdict(w) for w in live.words],
    }


def speech_weighted(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """DER (and its parts) over the whole set: total error seconds over total scored speech."""
    parts = [row[key] for row in rows]
    speech = sum(p["scored_speech_s"] for p in parts)
    summary: dict[str, Any] = {
        name: round(sum(p[name] * p["scored_speech_s"] for p in parts) / speech, 4) if speech else None
        for name in ("der", "missed", "false_alarm", "confusion")
    }
    errors = [p["speaker_count_error"] for p in parts]
    summary["speaker_count_errors"] = errors
    summary["mean_abs_speaker_count_error"] = round(float(np.mean(np.abs(errors))), 2) if errors else None
    return summary


# -- the bench --------------------------------------------------------------------------


def score_replay(replay: GateReplay, reference: list[Turn], mapping: dict[str, str]) -> dict[str, Any]:
    return {
        "first_shown": word_accuracy(replay.first_shown, reference, mapping),
        "final": word_accuracy(replay.final, reference, mapping),
        "relabels": replay.relabels,
    }


def replay_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Word speaker accuracy over the set, as first shown and at the end, from the gate replays."""
    summary: dict[str, Any] = {}
    for when in ("first_shown", "final"):
        scores = [r["streaming"]["gate_words"][when] for r in rows]
        totals = {key: sum(s[key] for s in scores) for key in ("correct_words", "scored_words", "turn_starts",
                                                               "turn_starts_right")}
        summary[when] = {
            "accuracy": round(totals["correct_words"] / max(totals["scored_words"], 1), 4),
            "turn_start_accuracy": round(totals["turn_starts_right"] / max(totals["turn_starts"], 1), 4),
            **totals,
        }
    return summary


async def run_with_asr(
    args: argparse.Namespace,
    engine: TranscriptionEngine,
    options: DiarizationOptions,
    clips: list[DiarizedClip],
    audios: dict[str, np.ndarray],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    asr, diarization = AsrTimer(engine), DiarizationTimer(engine)
    # Warm the decode path and the diarization thread; not measured.
    await stream_samples(engine, audios[clips[0].name][: 3 * SAMPLE_RATE], StreamChoices(diarization=options))
    rows = []
    delays: list[float] = []
    to_line: dict[str, list[float]] = {"on": [], "off": []}  # word end -> in a line, diarization on/off
    for clip in clips:
        print(f"with ASR  {clip.name} ({clip.duration:.1f} s, real time)", file=sys.stderr, flush=True)
        baseline = {}
        if args.baseline:
            plain = await run_live(engine, asr, diarization, audios[clip.name], None)
            to_line["off"].extend(w.at_s - w.end for w in plain.words)
            baseline = {
                "baseline_rtf_process_cpu": round(plain.cpu_s / plain.duration_s, 3),
                "baseline_process_cpu_s": round(plain.cpu_s, 3),
                "baseline_final_lag_s": round(plain.final_lag_s, 2),
                "baseline_speech_to_line_s": summarize([w.at_s - w.end for w in plain.words]),
            }
        live = await run_live(engine, asr, diarization, audios[clip.name], options)
        delays.extend(live.attribution_delays_s)
        to_line["on"].extend(w.at_s - w.end for w in live.words)
        rows.append({"clip": clip.name, **score_live(live, read_rttm(clip.rttm)), **baseline})
    summary = {
        "model": args.model,
        "device": engine.device,
        "processor_der": speech_weighted(rows, "processor_der"),
        "word_der": speech_weighted(rows, "word_der"),
        "attribution_delay_s": summarize(delays),
        "speech_to_line_s": summarize(to_line["on"]),
        "rtf_process_cpu": _set_rtf(rows, "process_cpu_s"),
        "rtf_asr_wall": _set_rtf(rows, "asr_wall_s"),
        "rtf_diarization_cpu": _set_rtf(rows, "diarization_cpu_s"),
        "max_final_lag_s": max(r["final_lag_s"] for r in rows),
    }
    if args.baseline:
        summary["baseline_rtf_process_cpu"] = _set_rtf(rows, "baseline_process_cpu_s")
        summary["baseline_max_final_lag_s"] = max(r["baseline_final_lag_s"] for r in rows)
        summary["baseline_speech_to_line_s"] = summarize(to_line["off"])
    scored = sum(r["words"]["scored_words"] for r in rows)
    correct = sum(r["words"]["correct_words"] for r in rows)
    summary["word_speaker_accuracy"] = round(correct / scored, 4) if scored else None
    starts = sum(r["words"]["turn_starts"] for r in rows)
    starts_right = sum(r["words"]["turn_starts_right"] for r in rows)
    summary["turn_start_accuracy"] = round(starts_right / starts, 4) if starts else None
    return rows, summary


def _timing(measured: dict[str, Any], duration_s: float) -> dict[str, Any]:
    """Seconds rounded, plus each as a real-time factor (seconds per second of audio)."""
    seconds = {k: round(v, 3) for k, v in measured.items() if k.endswith("_s")}
    rtf = {f"rtf_{k[:-2]}": round(v / duration_s, 3) for k, v in measured.items() if k.endswith("_s")}
    return {**seconds, **rtf}


def _set_rtf(rows: list[dict[str, Any]], seconds: str, side: str | None = None) -> float | None:
    """Seconds over audio seconds for the whole set (long clips weigh more)."""
    total = sum(r["duration_s"] for r in rows)
    return round(sum((r[side] if side else r)[seconds] for r in rows) / total, 3) if total else None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    options = DiarizationOptions(args.backend, args.max_speakers)  # checks them before any work
    clips = load_clips(args.set, args.limit)
    if not clips:
        raise SystemExit(f"{args.set} has no clip with an RTTM.")
    audios = {clip.name: decode_file(clip.path) for clip in clips}
    rss_before = _rss_mb()
    models = load_models(args.backend)
    rss_models = _rss_mb()
    # Every turn is kept for scoring: the app forgets turns older than keep_turns_s (memory),
    # which would leave a long clip's beginning unscored.
    settings = DiarizationSettings(clusters=ClusterSettings(max_speakers=args.max_speakers), keep_turns_s=1e9)
    offline_settings = OfflineSettings(step_s=args.offline_step, threshold=args.threshold)
    models.segmenter(audios[clips[0].name][: 10 * SAMPLE_RATE])  # warm-up, not measured
    engine = None
    if args.model != "none":
        print(f"loading {args.model}…", file=sys.stderr, flush=True)
        engine = TranscriptionEngine(EngineConfig(model=args.model, language="en"))
    rows = []
    for clip in clips:
        print(f"diarize   {clip.name}", file=sys.stderr, flush=True)
        audio, reference = audios[clip.name], read_rttm(clip.rttm)
        streaming = run_streaming(models, audio, settings, args.chunk_s)
        offline = run_offline(models, audio, offline_settings)
        streaming_der = diarization_error(reference, streaming["turns"], COLLAR_S)
        gate_words = {}
        if engine is not None:
            replay = replay_gate(models, settings, audio, file_words(engine, audio), args.chunk_s)
            gate_words = {"gate_words": score_replay(replay, reference, streaming_der.mapping)}
        duration = len(audio) / SAMPLE_RATE
        rows.append(
            {
                "clip": clip.name,
                "duration_s": round(duration, 2),
                "ref_speakers": len({t.speaker for t in reference}),
                "streaming": {
                    **der_row(streaming_der),
                    **_timing(streaming, duration),
                    **gate_words,
                    "passes": streaming["passes"],
                    "turns": [asdict(t) for t in streaming["turns"]],
                },
                "offline": {
                    **der_row(diarization_error(reference, offline["turns"], COLLAR_S)),
                    **_timing(offline, duration),
                    "turns": [asdict(t) for t in offline["turns"]],
                },
                "rss_mb_after": round(_rss_mb(), 1),
            }
        )
    summary: dict[str, Any] = {
        "streaming": speech_weighted(rows, "streaming"),
        "offline": speech_weighted(rows, "offline"),
        "streaming_rtf_cpu": _set_rtf(rows, "cpu_s", "streaming"),
        "streaming_rtf_thread_cpu": _set_rtf(rows, "thread_cpu_s", "streaming"),
        "streaming_rtf_wall": _set_rtf(rows, "wall_s", "streaming"),
        "offline_rtf_cpu": _set_rtf(rows, "cpu_s", "offline"),
        "rss_mb": {
            "before_models": round(rss_before, 1),
            "models_loaded": round(rss_models, 1),
            "peak_diarization_only": round(peak_rss_mb(), 1),
        },
    }
    live_rows: list[dict[str, Any]] = []
    if engine is not None:
        summary["gate_words"] = replay_summary(rows)
        if args.live:
            live_rows, summary["with_asr"] = await run_with_asr(args, engine, options, clips, audios)
        engine.close()
        summary["rss_mb"]["peak_with_asr"] = round(peak_rss_mb(), 1)
    return {
        "config": {
            "set": str(args.set),
            "backend": args.backend,
            "model": args.model,
            "chunk_s": args.chunk_s,
            "collar_s": COLLAR_S,
            "streaming": asdict(settings),
            "offline": asdict(offline_settings),
            "processor": asdict(ProcessorConfig(choices=StreamChoices(diarization=options))),
            "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
        "summary": summary,
        "clips": rows,
        "with_asr": live_rows,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.diarize", description=__doc__.split("\n")[0])
    parser.add_argument("--set", required=True, type=Path, help="a set folder: manifest.jsonl, RTTMs")
    parser.add_argument("--backend", default="default", help="default (ONNX), torch or pyannote")
    parser.add_argument("--model", default="tiny.en", help='ASR model for the with-ASR run; "none" skips it')
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips with an RTTM")
    parser.add_argument("--chunk-s", type=float, default=0.5, help="audio per accept() in the streaming run")
    parser.add_argument("--max-speakers", type=int, default=DiarizationOptions().max_speakers)
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip the with-ASR run with diarization off (the cost baseline)",
    )
    parser.add_argument(
        "--no-live",
        dest="live",
        action="store_false",
        help="skip the real-time runs with ASR (the gate replay, which needs no clock, still runs)",
    )
    parser.add_argument("--offline-step", type=float, default=1.0, help="offline window step, seconds")
    parser.add_argument(
        "--threshold",
        type=float,
        default=OfflineSettings().threshold,
        help="offline clustering: cosine distance at which merging stops",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        results = asyncio.run(run(args))
    except DiarizationError as exc:
        print(exc, file=sys.stderr)
        return 2
    print_tables(results)
    out = args.out or (
        Path(__file__).parent / "results" / f"diarize-{args.backend}-{args.set.resolve().name}.json"
    )
    return write_results(out, results)


if __name__ == "__main__":
    sys.exit(main())
