"""Keyword alerts bench: how soon an alert fires, how often one fires falsely, what matching costs.

    python -m bench.keyword_alerts --model tiny.en

Three parts, one engine (see bench/README.md for the figures):

1. **Latency** (real time, as a microphone delivers audio): the en/ and multi/ clips whose
   reference says one of `PRESENT` (words and names really spoken there), streamed one by one
   at the speed of speech through a fresh AudioProcessor, each update fed to `AlertTracker` as
   the app does. An alert's latency is its wall time minus the end of the word in the same
   model's offline decode with word timestamps (as bench.stream times commits). Target: p90
   at most 1.5 s.
2. **False alerts** (faster than real time): every clip of en/, multi/ and xx/ streamed as a
   file (a decode per ``--file-step`` of audio, like ``sayline transcribe``), every update's
   text kept, plus the live run's updates. `ABSENT` (names said nowhere in those sets,
   checked against every reference) is then matched over all of them at each edit ratio of
   ``--ratios``. Target: at most one false alert per hour of audio, for the whole list.
   Recall on part 1's words is scored at each ratio too, so the chosen ratio is a trade-off
   on the page.
3. **Cost**: the tracker's time per update during part 1, and on a synthetic two-hour session
   (the matcher only searches what changed, so an update late in a session costs what an early
   one does). An idle stream sends no updates, so idle cost is none.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.core.choices import StreamChoices
from app.core.decoding import SAMPLE_RATE, decode_file
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.feed import END_OF_STREAM, drive, feed_samples, stream_samples
from app.core.frontdata import FrontData, Line
from app.core.keywords import DEFAULT_EDIT_RATIO, AlertTracker, Hit, KeywordMatcher
from app.core.processor import AudioProcessor, ProcessorConfig
from bench.metrics import summarize
from bench.output import write_results
from bench.stream import load_clips, offline_pass

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
# Said in the eval sets: names (multi/) and words a user might listen for (en/).
PRESENT = (
    "Diane", "Sheila", "Chicago", "New Jersey", "Texas", "Dashwood", "Digium", "Asterisk", "country",
    "Americans", "conference", "password", "extension", "leader", "directory", "voicemail",
    "representatives", "weasels", "monkeys",
)
# Said nowhere in en/, multi/, xx/ (checked against every reference, `check_absent`): long and short
# names, names from the sets' languages, multi-word entries.
ABSENT = (
    "Katherine", "Jennifer", "Michael", "Christopher", "Stephanie", "Jonathan", "Elizabeth", "Alexander",
    "Samantha", "Benjamin", "Priya", "Dana", "Marcus", "Olivia", "Sophia", "Daniel", "Rebecca", "Nicholas",
    "Jessica", "Matthew", "Andrew", "Emily", "Hannah", "Natalie", "Victoria", "Patrick", "Gregory",
    "Timothy", "Melissa", "Vanessa", "Brandon", "Kevin", "Ryan", "Tyler", "Amanda", "Rachel", "Laura",
    "Sarah", "Lucas", "Noah", "Ethan", "Chloe", "Aisha", "Mohammed", "Yuki", "Sven", "Ingrid", "Pedro",
    "Lucia", "Marco", "Giulia", "Pierre", "Camille", "Dmitri", "Natasha", "Dan", "Ann", "Tom", "Sam",
    "Max", "Eve", "Kim", "Ben", "Leo", "Ava", "Doctor Patel", "Dana Smith", "Mary Jane",
)
RATIOS = (0.0, 0.15, 0.2, 0.25, 0.34)
LATENCY_TARGET_S = 1.5
FALSE_PER_HOUR_TARGET = 1.0
PAIR_WINDOW_S = 4.0  # an alert more than this from every spoken occurrence of its word is a false one


# -- references ---------------------------------------------------------------------------


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def reference_words(set_dirs: Sequence[Path]) -> set[str]:
    """Every word of every reference (text, English script, speaker turns), folded."""
    words: set[str] = set()
    for folder in set_dirs:
        for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            texts = [entry.get("text", ""), entry.get("text_en", "")]
            texts += [turn.get("text", "") for turn in entry.get("segments") or ()]
            for text in texts:
                words.update(_fold(word) for word in re.findall(r"\w+", text))
    return words


def check_absent(words: set[str]) -> list[str]:
    """ABSENT entries whose every word is in some reference: none may be, or the list lies."""
    return [name for name in ABSENT if all(_fold(part) in words for part in re.findall(r"\w+", name))]


@dataclass(frozen=True)
class Occurrence:
    keyword: str
    start: float
    end: float


def spoken_occurrences(
    matcher: KeywordMatcher, words: Sequence[tuple[str, float, float]]
) -> list[Occurrence]:
    """Where the offline word-timed decode says each keyword: the times alerts are measured from."""
    text, spans = "", []
    for word, start, end in words:
        piece = word.strip()
        if text:
            text += " "
        spans.append((len(text), len(text) + len(piece), start, end))
        text += piece
    found = []
    for match in matcher.find(text):
        inside = [span for span in spans if span[1] > match.start and span[0] < match.end]
        if inside:
            found.append(Occurrence(match.keyword, inside[0][2], inside[-1][3]))
    return found


# -- streaming ------------------------------------------------------------------------------


@dataclass
class Stream:
    """One clip's updates, each with its wall time since the first sample was spoken."""

    clip: str
    duration_s: float
    updates: list[tuple[float, FrontData]] = field(default_factory=list)
    spoken: list[Occurrence] = field(default_factory=list)


async def stream_live(
    engine: TranscriptionEngine, samples: np.ndarray, config: ProcessorConfig
) -> list[tuple[float, FrontData]]:
    """Real time, as bench.replay does: chunk k leaves at (k + 1) * 0.1 s, once a microphone has it."""
    processor = AudioProcessor(engine, config)
    updates: list[tuple[float, FrontData]] = []
    start = time.monotonic()

    async def feed() -> None:
        await asyncio.sleep(0.1)
        await feed_samples(processor, samples, chunk_s=0.1, realtime=True, end=False)
        await processor.process_samples(END_OF_STREAM)

    await drive(processor, feed(), lambda update: updates.append((time.monotonic() - start, update)))
    return updates


async def stream_file(
    engine: TranscriptionEngine, samples: np.ndarray, choices: StreamChoices, step_s: float
) -> list[tuple[float, FrontData]]:
    """As fast as the recogniser goes, a decode per ``step_s`` of audio; wall times are not kept."""
    updates: list[tuple[float, FrontData]] = []
    record = lambda update: updates.append((0.0, update))  # noqa: E731
    await stream_samples(engine, samples, choices, step_s=step_s, on_update=record)
    return updates


# -- scoring --------------------------------------------------------------------------------


def run_tracker(
    matcher: KeywordMatcher, stream: Stream, timings: list[float] | None = None
) -> list[tuple[float, Hit]]:
    """Every alert over a stream's updates, with its wall time; ``timings`` gets each feed's cost."""
    tracker = AlertTracker(matcher)
    alerts = []
    for wall, update in stream.updates:
        started = time.perf_counter()
        hits = tracker.feed(update)
        if timings is not None:
            timings.append(time.perf_counter() - started)
        alerts.extend((wall, hit) for hit in hits)
    return alerts


def pair_alerts(alerts: list[tuple[float, Hit]], spoken: list[Occurrence]) -> dict[str, Any]:
    """Each alert paired with the nearest unpaired spoken occurrence of its keyword (within 4 s)."""
    free = list(spoken)
    latencies, unpaired, paired = [], [], []
    for wall, hit in alerts:
        near = [o for o in free if o.keyword == hit.keyword and abs(o.start - hit.time_s) <= PAIR_WINDOW_S]
        if not near:
            unpaired.append({"keyword": hit.keyword, "surface": hit.surface, "at_s": round(hit.time_s, 2)})
            continue
        best = min(near, key=lambda o: abs(o.start - hit.time_s))
        free.remove(best)
        latencies.append(wall - best.end)
        paired.append({
            "keyword": hit.keyword, "heard": hit.surface, "latency_s": round(wall - best.end, 2),
            "from_live_text": not hit.committed,
        })
    missed = [o.keyword for o in free]
    return {"latencies": latencies, "paired": paired, "unpaired": unpaired, "missed": missed}


def false_alerts(streams: Sequence[Stream], ratio: float) -> list[dict[str, Any]]:
    matcher = KeywordMatcher(ABSENT, ratio)
    found = []
    for stream in streams:
        for _, hit in run_tracker(matcher, stream):
            found.append({"clip": stream.clip, "keyword": hit.keyword, "heard": hit.surface})
    return found


def positive_scores(streams: Sequence[Stream], ratio: float) -> dict[str, Any]:
    matcher = KeywordMatcher(PRESENT, ratio)
    latencies, unpaired, spoken, missed, alerts = [], [], 0, [], []
    for stream in streams:
        paired = pair_alerts(run_tracker(matcher, stream), stream.spoken)
        latencies += paired["latencies"]
        alerts += [{"clip": stream.clip, **p} for p in paired["paired"]]
        unpaired += [{"clip": stream.clip, **u} for u in paired["unpaired"]]
        missed += [f"{stream.clip}: {word}" for word in paired["missed"]]
        spoken += len(stream.spoken)
    return {
        "spoken": spoken,
        "alerted": len(latencies),
        "recall": round(len(latencies) / spoken, 3) if spoken else None,
        "latency_s": summarize(latencies),
        "alerts": alerts,
        "extra_alerts": unpaired,
        "missed": missed,
    }


def synthetic_session_cost(keywords: Sequence[str], lines: int) -> dict[str, Any]:
    """Tracker time per update at the start and after ``lines`` committed lines (about 2 hours)."""
    tracker = AlertTracker(KeywordMatcher(keywords))
    sentence = "so we moved the review to Thursday and the budget numbers look fine to me"
    history: list[Line] = []

    def step(now: float, words: int) -> float:
        text = " ".join(sentence.split()[:words])
        update = FrontData(lines=(*history, Line(1, text, now, now + 0.3 * words)),
                           buffer_transcription=" ".join(sentence.split()[words:words + 4]))
        started = time.perf_counter()
        tracker.feed(update)
        return time.perf_counter() - started

    def utterance(now: float) -> list[float]:
        costs = [step(now, words) for words in range(1, 15)]
        history.append(Line(1, sentence, now, now + 4.5))
        return costs

    early = [cost for i in range(20) for cost in utterance(i * 5.0)]
    for i in range(20, lines):
        history.append(Line(1, sentence, i * 5.0, i * 5.0 + 4.5))
    step(lines * 5.0, 1)  # the 1,480 lines appended at once are searched once, untimed: a live one never is
    late = [cost for i in range(lines, lines + 20) for cost in utterance(i * 5.0)]
    return {
        "keywords": len(keywords),
        "early_us": _us(early),
        "after_lines": lines,
        "late_us": _us(late),
    }


def _us(seconds: Sequence[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "median": round(statistics.median(ordered) * 1e6, 1),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))] * 1e6, 1),
        "max": round(ordered[-1] * 1e6, 1),
    }


# -- the run --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.keyword_alerts", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", default="tiny.en", help="tiny.en or base")
    parser.add_argument("--eval", type=Path, default=EVAL, help="the eval folder (en/, multi/, xx/)")
    parser.add_argument("--live-seconds", type=float, default=150.0, help="most audio streamed in real time")
    parser.add_argument("--file-step", type=float, default=1.5, help="audio between decodes in part 2 (s)")
    parser.add_argument("--sets", default="en,multi,xx", help="sets streamed for false alerts")
    parser.add_argument("--limit", type=int, default=None, help="the first N clips of each set (a smoke run)")
    parser.add_argument("--ratios", default=",".join(str(r) for r in RATIOS), help="edit ratios to score")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    set_dirs = [args.eval / name for name in args.sets.split(",")]
    problems = check_absent(reference_words([*set_dirs, args.eval / "en", args.eval / "multi"]))
    if problems:
        raise SystemExit(f"ABSENT names said in the references: {problems}")
    engine = TranscriptionEngine(EngineConfig(model=args.model, language="en"))
    present = KeywordMatcher(PRESENT)
    choices = StreamChoices(language="en")

    # 1. Real time: clips whose reference says a PRESENT word, until --live-seconds of audio.
    live_config = ProcessorConfig(choices=choices, live=True)
    await stream_live(engine, np.zeros(SAMPLE_RATE, dtype=np.float32), live_config)  # warm-up
    # multi/ first: its names (Diane, Sheila) are what the feature is for.
    candidates = [c for name in ("multi", "en") for c in load_clips(args.eval / name, args.limit)]
    chosen, total = [], 0.0
    for clip in candidates:
        english = clip.language == "en"  # multi/'s code-switching clips go to part 2 only
        fits = total + clip.duration <= args.live_seconds
        if english and fits and clip.kind == "wer" and present.find(clip.text):
            chosen.append(clip)
            total += clip.duration
    live_streams = []
    for clip in chosen:
        audio = decode_file(clip.path)
        offline = await asyncio.to_thread(offline_pass, engine, audio, "en")
        log(f"live     {clip.name} ({clip.duration:.1f} s)")
        stream = Stream(clip.name, len(audio) / SAMPLE_RATE, await stream_live(engine, audio, live_config))
        stream.spoken = spoken_occurrences(present, offline["words"])
        live_streams.append(stream)

    # 2. Faster than real time: every clip of the sets, as a file.
    file_streams = []
    started = time.perf_counter()
    for folder in set_dirs:
        for clip in load_clips(folder, args.limit):
            log(f"file     {folder.name}/{clip.name} ({clip.duration:.1f} s)")
            updates = await stream_file(engine, decode_file(clip.path), choices, args.file_step)
            file_streams.append(Stream(f"{folder.name}/{clip.name}", clip.duration, updates))
    file_wall = time.perf_counter() - started
    engine.close()

    # 3. Scores at each ratio, and the cost.
    streams = [*live_streams, *file_streams]
    audio_h = sum(s.duration_s for s in streams) / 3600
    updates = sum(len(s.updates) for s in streams)
    sweep = []
    for ratio in (float(r) for r in args.ratios.split(",")):
        wrong = false_alerts(streams, ratio)
        sweep.append({
            "edit_ratio": ratio,
            "false_alerts": len(wrong),
            "false_alerts_per_hour": round(len(wrong) / audio_h, 2),
            "false_alerts_per_hour_per_word": round(len(wrong) / audio_h / len(ABSENT), 3),
            "false": wrong,
            "present": positive_scores(live_streams, ratio),
        })
    live_costs: list[float] = []
    both = KeywordMatcher([*PRESENT, *ABSENT[:4]])  # 20 words: a long list
    for stream in live_streams:
        run_tracker(both, stream, live_costs)
    chosen_row = next((row for row in sweep if row["edit_ratio"] == DEFAULT_EDIT_RATIO), sweep[-1])
    return {
        "config": {
            "model": args.model,
            "device": engine.device,
            "sets": args.sets,
            "file_step_s": args.file_step,
            "present": list(PRESENT),
            "absent": list(ABSENT),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
        "summary": {
            "default_edit_ratio": DEFAULT_EDIT_RATIO,
            "latency_p90_s": chosen_row["present"]["latency_s"].get("p90"),
            "latency_target_s": LATENCY_TARGET_S,
            "recall": chosen_row["present"]["recall"],
            "false_alerts_per_hour": chosen_row["false_alerts_per_hour"],
            "false_target_per_hour": FALSE_PER_HOUR_TARGET,
            "live_clips": len(live_streams),
            "live_audio_s": round(sum(s.duration_s for s in live_streams), 1),
            "false_alert_audio_h": round(audio_h, 3),
            "false_alert_clips": len(streams),
            "updates_checked": updates,
            "file_streaming_wall_s": round(file_wall, 1),
            "cost_per_update_live_us": _us(live_costs) if live_costs else None,
            "cost_synthetic_session": synthetic_session_cost([*PRESENT, *ABSENT[:4]], lines=1500),
        },
        "sweep": sweep,
    }


def print_sweep(results: dict[str, Any]) -> None:
    print(f"\n{'ratio':>6} {'false':>6} {'per h':>7} {'recall':>7} {'p50 s':>6} {'p90 s':>6}  false alerts")
    for row in results["sweep"]:
        lat = row["present"]["latency_s"]
        heard = ", ".join(f"{f['keyword']}<-{f['heard']}" for f in row["false"][:6])
        print(
            f"{row['edit_ratio']:>6.2f} {row['false_alerts']:>6} {row['false_alerts_per_hour']:>7.2f} "
            f"{row['present']['recall'] or 0:>7.3f} {lat.get('median') or 0:>6.2f} "
            f"{lat.get('p90') or 0:>6.2f}  {heard}"
        )
    print(json.dumps(results["summary"], indent=1))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = asyncio.run(run(args))
    print_sweep(results)
    out = args.out or Path(__file__).parent / "results" / f"keyword-alerts-{args.model}.json"
    return write_results(out, results)


if __name__ == "__main__":
    sys.exit(main())

