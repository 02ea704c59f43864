"""Translation benchmarks: Whisper's translation quality, and what translating costs a live stream.

``quality``: Whisper (base) translates each clip of ``../shared/eval/xx`` into English,
scored with chrF against the clip's ``text_en`` (the English script of the same prompt, a
parallel reference rather than a literal translation). The untranslated transcript is
scored the same way as a floor.

``latency``: clips are streamed in real time through the app's AudioProcessor twice, with
translation off and on (interleaved clip by clip), and every update is timed. For each
committed line: how long after its sentence was final did its translation arrive. For the
run: process CPU seconds with and without translation, and the transcription lag.
``--backend argos`` uses a random-weight pair with the dimensions of Argos's published
models (bench/argos_model.py, ``--size base``); its decodes run to the length cap (3x the
source + 10 tokens) where a trained model stops at about the source's length, so its CPU
figures are an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil

from app.core.choices import StreamChoices
from app.core.decoding import decode_file
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.feed import feed_samples
from app.core.frontdata import FrontData
from app.core.processor import AudioProcessor, ProcessorConfig
from app.core.words import join_words
from bench.chrf import corpus_chrf
from bench.metrics import normalize_text
from bench.output import write_results

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
_FINAL = (".", "!", "?", "…")


def manifest(set_name: str) -> list[dict[str, Any]]:
    path = EVAL / set_name / "manifest.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pick(rows: list[dict[str, Any]], per_language: int | None) -> list[dict[str, Any]]:
    if per_language is None:
        return rows
    seen: dict[str, int] = {}
    chosen = []
    for row in rows:
        if seen.get(row["language"], 0) < per_language:
            seen[row["language"]] = seen.get(row["language"], 0) + 1
            chosen.append(row)
    return chosen


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


# -- quality --------------------------------------------------------------------------------


def quality(args: argparse.Namespace) -> dict[str, Any]:
    engine = TranscriptionEngine(EngineConfig(model="base"))
    rows = pick(manifest("xx"), args.per_language)
    clips = []
    for row in rows:
        audio = decode_file(EVAL / "xx" / row["audio"])
        started = time.perf_counter()
        translation = engine.decode_translation(audio, row["language"])
        seconds = time.perf_counter() - started
        decoded = engine.decode(audio, 0.0, row["language"], "")
        transcript = join_words([w for s in decoded.segments for w in s.words]).strip()
        clips.append({
            "audio": row["audio"], "language": row["language"], "duration": row["duration"],
            "text_en": row["text_en"], "translation": translation, "transcript": transcript,
            "translate_seconds": _r(seconds), "translate_rtf": _r(seconds / row["duration"]),
        })
        print(f"{row['audio']:45s} {seconds:5.2f}s  {translation[:70]}", flush=True)
    engine.close()

    def score(group: list[dict[str, Any]], field: str, normalised: bool) -> float:
        def norm(text: str) -> str:
            return " ".join(normalize_text(text)) if normalised else text

        return _r(corpus_chrf([norm(c[field]) for c in group], [norm(c["text_en"]) for c in group]), 2)

    by_language: dict[str, Any] = {}
    for language in [*sorted({c["language"] for c in clips}), "all"]:
        group = [c for c in clips if language in ("all", c["language"])]
        by_language[language] = {
            "clips": len(group),
            "chrf": score(group, "translation", normalised=True),
            "chrf_raw": score(group, "translation", normalised=False),
            "floor_chrf_untranslated": score(group, "transcript", normalised=True),
            "translate_rtf": _r(
                sum(c["translate_seconds"] for c in group) / sum(c["duration"] for c in group)
            ),
        }
    print(json.dumps(by_language, indent=1))
    return {"bench": "translate-quality", "model": "base", "per_language": args.per_language,
            "summary": by_language, "clips": clips}


# -- latency and CPU --------------------------------------------------------------------------


async def stream_clip(engine, audio, config: ProcessorConfig) -> tuple[list[tuple[float, FrontData]], float]:
    """Every update with its wall time, and how long the final update came after the audio's end."""
    processor = AudioProcessor(engine, config)
    fed_at: list[float] = []
    feeder = asyncio.create_task(feed_samples(processor, audio, realtime=True))
    feeder.add_done_callback(lambda _: fed_at.append(time.monotonic()))
    timed = []
    async for update in processor.results():
        timed.append((time.monotonic(), update))
    await feeder
    await processor.cleanup()
    return timed, timed[-1][0] - fed_at[0]


def line_delays(timed: list[tuple[float, FrontData]]) -> list[float]:
    """Per committed line: wall time from its sentence being final to its translation arriving.

    Lines that only become final in the stream's last update (its last sentence, when it has
    no full stop) have no such moment on the wire: the stream-end delay measures them.
    """
    final_at: dict[int, float] = {}
    translated_at: dict[int, float] = {}
    for when, update in timed:
        for i, line in enumerate(update.lines):
            if line.is_silence or not line.text.strip():
                continue
            if i not in final_at and (i < len(update.lines) - 1 or line.text.rstrip().endswith(_FINAL)):
                final_at[i] = when
            if i not in translated_at and line.translation:
                translated_at[i] = when
    last = timed[-1][0]
    return [translated_at[i] - final_at[i] for i in sorted(final_at) if final_at[i] < last]


def _cpu() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


async def latency_run(engine, clips, config_off, config_on) -> dict[str, Any]:
    await stream_clip(engine, clips[0][1][: 16000 * 2], config_off)  # warm-up
    totals = {"off": 0.0, "on": 0.0}
    end_delays: dict[str, list[float]] = {"off": [], "on": []}
    lags: dict[str, list[float]] = {"off": [], "on": []}
    delays: list[float] = []
    per_clip = []
    for row, audio in clips:
        for mode, config in (("off", config_off), ("on", config_on)):
            config = replace(config, choices=config.choices.replace(language=row["language"]))
            before = _cpu()
            timed, end_delay = await stream_clip(engine, audio, config)
            totals[mode] += _cpu() - before
            end_delays[mode].append(end_delay)
            lags[mode].extend(update.remaining_time_transcription for _, update in timed)
            if mode == "on":
                clip_delays = line_delays(timed)
                delays.extend(clip_delays)
                final = timed[-1][1]
                per_clip.append({
                    "audio": row["audio"], "delays_s": [_r(d) for d in clip_delays],
                    "lines": [(line.text, line.translation) for line in final.lines if not line.is_silence],
                })
        print(f"{row['audio']:45s} lines {len(per_clip[-1]['delays_s'])}  delays {per_clip[-1]['delays_s']}",
              flush=True)
    audio_s = sum(len(audio) for _, audio in clips) / 16000
    ordered = sorted(delays)
    return {
        "audio_seconds": _r(audio_s, 1),
        "lines_timed": len(delays),
        "added_latency_s": {
            "median": _r(statistics.median(ordered)) if ordered else None,
            "p90": _r(ordered[int(0.9 * (len(ordered) - 1))]) if ordered else None,
            "max": _r(ordered[-1]) if ordered else None,
        },
        "stream_end_delay_s": {mode: _r(statistics.fmean(values)) for mode, values in end_delays.items()},
        "cpu_seconds": {"off": _r(totals["off"]), "on": _r(totals["on"])},
        "cpu_per_audio_second": {"off": _r(totals["off"] / audio_s), "on": _r(totals["on"] / audio_s)},
        "translation_cpu_share": _r((totals["on"] - totals["off"]) / max(totals["on"], 1e-9)),
        "transcription_lag_s": {
            mode: {"mean": _r(statistics.fmean(values)), "max": _r(max(values))}
            for mode, values in lags.items()
        },
        "clips": per_clip,
    }


def latency(args: argparse.Namespace) -> dict[str, Any]:
    if args.backend == "argos":
        from app.core.translation.argos_install import install_file
        from bench.argos_model import build_argosmodel

        scratch = Path(tempfile.mkdtemp(prefix="sayline-bench-"))
        os.environ["SAYLINE_DATA_DIR"] = str(scratch)
        install_file(build_argosmodel(scratch / "en_de.argosmodel", "en", "de", size=args.size))
        engine = TranscriptionEngine(EngineConfig(model="tiny.en", language="en"))
        rows, target = manifest("en")[: args.clips], "de"
        set_name = "en"
    else:
        engine = TranscriptionEngine(EngineConfig(model="base"))
        rows, target = pick(manifest("xx"), args.per_language or 1)[: args.clips], "en"
        set_name = "xx"
    clips = [(row, decode_file(EVAL / set_name / row["audio"])) for row in rows]
    off = ProcessorConfig(live=True)
    translation = StreamChoices(
        target_language=target, translator=args.backend, translate_buffer=not args.no_buffer
    )
    on = ProcessorConfig(choices=translation, live=True)
    result = asyncio.run(latency_run(engine, clips, off, on))
    engine.close()
    summary = {k: v for k, v in result.items() if k != "clips"}
    print(json.dumps(summary, indent=1))
    return {"bench": "translate-latency", "backend": args.backend, "size": args.size, "target": target,
            "cores": os.cpu_count(), **result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    q = commands.add_parser("quality", help="Whisper translation chrF on eval/xx")
    q.add_argument("--per-language", type=int, help="only the first N clips of each language")
    q.add_argument("--out", type=Path, default=Path("bench/results/translate-quality.json"))
    lat = commands.add_parser("latency", help="added latency per committed line and CPU cost, real time")
    lat.add_argument("--backend", choices=("argos", "whisper"), default="argos")
    lat.add_argument("--size", choices=("tiny", "base"), default="base", help="argos: random pair's size")
    lat.add_argument("--clips", type=int, default=6)
    lat.add_argument("--per-language", type=int, help="whisper: clips per language before --clips")
    lat.add_argument("--no-buffer", action="store_true", help="do not translate the live text")
    lat.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "quality":
        return write_results(args.out, quality(args))
    out = args.out or Path(f"bench/results/translate-latency-{args.backend}.json")
    return write_results(out, latency(args))


if __name__ == "__main__":
    raise SystemExit(main())
