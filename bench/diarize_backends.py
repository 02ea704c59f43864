"""Diarization backends side by side, each measured in processes of its own.

    python -m bench.diarize_backends --set ../shared/eval/multi --model base

Per backend (default: ``default`` = ONNX Runtime, and ``torch``), two child processes:

1. ``python -m bench.diarize --backend B --no-baseline``: DER and speaker-count error per
   clip (streaming and offline), the diarization stage's CPU seconds per audio second on its
   own and inside the processor, word speaker accuracy and the first word of each turn;
2. ``sayline transcribe two_voices.wav --diarization --diarization-backend B --realtime
   --no-refine``: the command's peak RSS (``wait4``), the time from launch to its first
   caption line (lines wait for their speaker, so this is the first speaker-tagged caption),
   and the speakers of its transcript. The same command without ``--diarization`` is the
   baseline.

The table goes to stdout; every figure, with both bench.diarize JSON files, into one JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
SAMPLE = ROOT / "resources" / "samples" / "two_voices.wav"
CAPTION_LINE = re.compile(r"^[\d:]+\.\d{2}  \S")  # transcribe prints a line once the next begins


def run_diarize_bench(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    out = RESULTS / f"diarize-{backend}-{args.set.resolve().name}.json"
    command = [
        sys.executable, "-m", "bench.diarize", "--set", str(args.set), "--backend", backend,
        "--model", args.model, "--no-baseline", "--out", str(out),
    ]
    print(f"diarize_backends: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text(encoding="utf-8"))


def run_transcribe(backend: str | None, model: str) -> dict[str, Any]:
    """One ``sayline transcribe`` of the two-voice sample in real time: peak RSS, first caption."""
    command = [sys.executable, "-m", "app.cli", "transcribe", str(SAMPLE), "--model", model,
               "--language", "en", "--realtime", "--no-refine"]
    if backend:
        command += ["--diarization", "--diarization-backend", backend]
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first_caption = None
    for line in child.stderr:
        if first_caption is None and CAPTION_LINE.match(line):
            first_caption = time.perf_counter() - started
    transcript = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"diarize_backends: {' '.join(command[2:])} failed")
    return {
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "first_caption_s": round(first_caption, 2) if first_caption is not None else None,
        "wall_s": round(time.perf_counter() - started, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "speakers": sorted(set(re.findall(r"^(Speaker \d+):", transcript, flags=re.MULTILINE))),
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def figures(result: dict[str, Any], with_asr: bool) -> dict[str, str]:
    """One backend's column of the table: label -> formatted figure."""
    summary, clips = result["diarize"]["summary"], result["diarize"]["clips"]
    rss, transcribe = summary["rss_mb"], result["transcribe"]
    column = {
        "streaming DER (speech-weighted)": _pct(summary["streaming"]["der"]),
        "offline DER": _pct(summary["offline"]["der"]),
        "speaker-count error per clip (streaming)": ", ".join(
            f"{c['streaming']['speaker_count_error']:+d}" for c in clips
        ),
        "diarization CPU s per audio s, alone": f"{summary['streaming_rtf_cpu']:.3f}",
    }
    if with_asr:
        live, live_clips = summary["with_asr"], result["diarize"]["with_asr"]
        column |= {
            "processor DER (with ASR, real time)": _pct(live["processor_der"]["der"]),
            "speaker-count error per clip (processor)": ", ".join(
                f"{c['processor_der']['speaker_count_error']:+d}" for c in live_clips
            ),
            "word speaker accuracy": _pct(live["word_speaker_accuracy"]),
            "first word of a turn right": _pct(live["turn_start_accuracy"]),
            "diarization CPU s per audio s, in the processor": f"{live['rtf_diarization_cpu']:.3f}",
        }
    return column | {
        "models loaded (RSS growth, MB)": f"{rss['models_loaded'] - rss['before_models']:.0f}",
        "`sayline transcribe --diarization` peak RSS, MB": f"{transcribe['peak_rss_mb']:.0f}",
        "launch → first speaker-tagged caption, s": str(transcribe["first_caption_s"]),
        "speakers in its transcript": ", ".join(transcribe["speakers"]),
    }


def print_table(results: dict[str, Any]) -> None:
    columns = {b: figures(r, results["model"] != "none") for b, r in results["backends"].items()}
    print("\n| | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for label in next(iter(columns.values())):
        print(f"| {label} | " + " | ".join(column[label] for column in columns.values()) + " |")
    base = results["without_diarization"]
    print(
        f"\nwithout --diarization: peak RSS {base['peak_rss_mb']:.0f} MB, "
        f"first caption {base['first_caption_s']} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.diarize_backends", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--set", type=Path, default=ROOT.parent / "shared" / "eval" / "multi")
    parser.add_argument("--backends", default="default,torch", help="comma-separated backends")
    parser.add_argument("--model", default="base", help='ASR model; "none" skips the with-ASR runs')
    parser.add_argument("--out", type=Path, default=RESULTS / "diarize-backends.json")
    args = parser.parse_args(argv)
    transcribe_model = "tiny.en" if args.model == "none" else args.model
    results: dict[str, Any] = {"set": str(args.set), "model": args.model, "backends": {},
                               "load_average": os.getloadavg()}
    for backend in args.backends.split(","):
        results["backends"][backend] = {
            "diarize": run_diarize_bench(backend, args),
            "transcribe": run_transcribe(backend, transcribe_model),
        }
    results["without_diarization"] = run_transcribe(None, transcribe_model)
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
