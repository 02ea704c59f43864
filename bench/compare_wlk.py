"""Sayline against WhisperLiveKit, side by side: same model folder, same clips, same /asr client.

    python -m bench.compare_wlk --model base --set ../shared/eval/en --min-seconds 5

WhisperLiveKit 0.2.26 goes into its own venv (``bench/.venv-wlk``, git-ignored) with
``torch==2.13.0`` installed first, so nothing pulls a CUDA build. Each system runs as its
own server process on loopback, one after the other (never at once: they would share the
cores), on the model folder Sayline itself uses. Every clip is one `/asr` session streamed
in real time by bench.load's client; the reference word times come from one offline
faster-whisper decode of each clip on the same model, as in bench.stream and bench.load.
WhisperLiveKit's SimulStreaming backend needs PyTorch ``.pt`` Whisper weights that no
package ships, so it runs its faster-whisper backend with its LocalAgreement policy.
See bench/README.md for every number's definition.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from app.core.decoding import SAMPLE_RATE, float_to_pcm16
from app.core.models import resolve_model
from app.core.policy import POLICIES
from bench.load import (
    ROOT,
    ServerMonitor,
    StreamAudio,
    add_reference_timings,
    free_port,
    open_client,
    run_client,
    score_stream,
    start_server,
    stats,
    stop_server,
    wait_healthy,
    warm_up,
)
from bench.metrics import align, normalize_text
from bench.output import write_results
from bench.stream import Clip, load_clips, read_audio, vad_onset

WLK_VERSION = "0.2.26"
TORCH_VERSION = "2.13.0"
WLK_VENV = ROOT / "bench" / ".venv-wlk"
DEFAULT_SET = ROOT.parent / "shared" / "eval" / "en"


# -- WhisperLiveKit's venv ------------------------------------------------------------------


def ensure_wlk(venv: Path = WLK_VENV) -> Path:
    """The ``wlk`` command, installing WhisperLiveKit first if its venv lacks it.

    torch goes in alone and first, pinned: whisperlivekit's own torch requirement is then
    already met, where an unpinned one would fetch a multi-GB CUDA build.
    """
    wlk = venv / "bin" / "wlk"
    python = venv / "bin" / "python"
    if wlk.exists() and _installed(python, "whisperlivekit") == WLK_VERSION:
        return wlk
    print(f"install  whisperlivekit=={WLK_VERSION} into {venv} (a few minutes)", file=sys.stderr, flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, f"torch=={TORCH_VERSION}"], check=True)
    subprocess.run([*pip, f"whisperlivekit=={WLK_VERSION}"], check=True)
    torch = _installed(python, "torch")
    if not (torch or "").startswith(TORCH_VERSION):
        raise RuntimeError(f"{venv} has torch {torch}, not {TORCH_VERSION}: delete it and run again")
    return wlk


def _installed(python: Path, package: str) -> str | None:
    """A package's version in another interpreter, or None."""
    if not python.exists():
        return None
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


# -- the systems ----------------------------------------------------------------------------


@dataclass(frozen=True)
class System:
    name: str
    command: list[str]
    note: str


def sayline_system(folder: Path, port: int, policy: str) -> System:
    command = [
        sys.executable, str(ROOT / "main.py"), "serve", "--model", str(folder), "--host", "127.0.0.1",
        "--port", str(port), "--pcm-input", "--language", "en", "--policy", policy,
    ]
    return System(f"sayline-{policy}", command, f"Sayline, {policy}, beam 1, int8")


def before_system(checkout: Path, folder: Path, port: int) -> System:
    """Sayline's code from another checkout (say, main before a change) on this venv's packages.

    ``python DIR/main.py`` puts DIR first on sys.path, so its ``app`` package is the one imported.
    """
    command = [
        sys.executable, str(checkout / "main.py"), "serve", "--model", str(folder),
        "--host", "127.0.0.1", "--port", str(port), "--pcm-input", "--language", "en",
    ]
    return System("sayline-before", command, f"Sayline as checked out in {checkout}, its default policy")


def wlk_system(wlk: Path, folder: Path, port: int) -> System:
    command = [
        str(wlk), "serve", "--backend", "faster-whisper", "--model_dir", str(folder),
        "--backend-policy", "localagreement", "--pcm-input", "--warmup-file", "", "--lan", "en",
        "--host", "127.0.0.1", "--port", str(port),
    ]
    return System("whisperlivekit", command, f"WhisperLiveKit {WLK_VERSION}, faster-whisper, localagreement")


# -- one system, every clip -----------------------------------------------------------------


class MachineLoad:
    """How busy the whole machine was, to judge the noise: other users share these cores."""

    def __init__(self) -> None:
        self._cpu0 = psutil.cpu_times()
        self._wall0 = time.monotonic()
        self.loadavg_start = os.getloadavg()

    def report(self, server_cpu_s: float, client_cpu_s: float) -> dict[str, Any]:
        cpu1 = psutil.cpu_times()
        wall = time.monotonic() - self._wall0
        busy = (cpu1.user + cpu1.system + cpu1.nice) - (self._cpu0.user + self._cpu0.system + self._cpu0.nice)
        cores = psutil.cpu_count() or 1
        return {
            "wall_s": round(wall, 1),
            "machine_busy_percent_of_all_cores": round(100 * busy / (wall * cores), 1),
            "others_busy_percent_of_all_cores": round(
                100 * max(0.0, busy - server_cpu_s - client_cpu_s) / (wall * cores), 1
            ),
            "loadavg_start": [round(x, 2) for x in self.loadavg_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        }


def client_cpu_s() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


async def stream_clips(system: System, clips: list[StreamAudio], port: int, log_path: Path) -> dict[str, Any]:
    """Start the system's server, warm it up, stream each clip as its own session, stop it."""
    print(f"server   {system.name}: {' '.join(system.command)}", file=sys.stderr, flush=True)
    started = time.monotonic()
    proc = start_server(system.command, log_path)
    try:
        await asyncio.to_thread(wait_healthy, proc, port, log_path)
        startup_s = time.monotonic() - started
        monitor = ServerMonitor(proc.pid)
        monitor.begin()
        url = f"ws://127.0.0.1:{port}/asr"
        try:
            await warm_up(url, clips[0].samples[: 5 * SAMPLE_RATE])
            idle = monitor.sample()
            load, client0, t0 = MachineLoad(), client_cpu_s(), monitor.mark()
            rows = []
            for audio in clips:
                label = f"{system.name} {audio.clips[0]} ({audio.seconds:.1f} s)"
                print(f"stream   {label}", file=sys.stderr, flush=True)
                ws = await open_client(url)
                record = await run_client(ws, audio.index, float_to_pcm16(audio.samples), time.monotonic())
                rows.append(score_clip(record, audio))
            t1 = monitor.mark()
        finally:
            await monitor.end()
        inside = [s for s in monitor.samples if t0 <= s[0] <= t1]
        server_cpu = inside[-1][2] - inside[0][2] if len(inside) > 1 else 0.0
        machine = load.report(server_cpu, client_cpu_s() - client0)
    finally:
        stop_server(proc)
    return {
        "system": system.name,
        "note": system.note,
        "command": system.command,
        "startup_s": round(startup_s, 1),
        "idle_rss_mb": idle[1] if idle else None,
        "peak_rss_mb": max((s[1] for s in monitor.samples), default=None),
        "server_cpu_s": round(server_cpu, 2),
        "machine": machine,
        "clips": rows,
    }


def score_clip(record: Any, audio: StreamAudio) -> dict[str, Any]:
    """bench.load's per-stream score, plus first-text latency against the speech onset."""
    row = score_stream(record, audio)
    row["clip"] = audio.clips[0]
    first = next((u["t"] for u in record.updates if u["committed_words"] or u["buffer"].strip()), None)
    onset = audio.words[0][1] if audio.words else None
    vad = vad_onset(audio.samples)
    row["first_text_s"] = first
    row["first_text_latency_s"] = None if first is None or onset is None else round(first - onset, 3)
    row["first_text_latency_vad_s"] = None if first is None or vad is None else round(first - vad, 3)
    row["edits"] = align(normalize_text(audio.text), normalize_text(record.final_text)).edits
    return row


def summarize_system(run: dict[str, Any], audio_s: float) -> dict[str, Any]:
    rows = run["clips"]
    ref_words = sum(r["ref_words"] for r in rows)
    firsts = [r["first_text_latency_s"] for r in rows if r["first_text_latency_s"] is not None]
    firsts_vad = [r["first_text_latency_vad_s"] for r in rows if r["first_text_latency_vad_s"] is not None]
    drains = [r["drain_s"] for r in rows if r["drain_s"] is not None]
    return {
        "system": run["system"],
        "wer": round(sum(r["edits"] for r in rows) / ref_words, 4) if ref_words else None,
        "first_text_latency_s": stats(firsts),
        "first_text_latency_vad_s": stats(firsts_vad),
        "clips_without_text": sum(r["first_text_s"] is None for r in rows),
        "commit_latency_s": stats([d for r in rows for d in r["commit_delays_s"]]),
        "max_lag_s": max((r["max_lag_s"] for r in rows), default=None),
        "drain_s": stats(drains),
        "cpu_rtf": round(run["server_cpu_s"] / audio_s, 3) if audio_s else None,
        "idle_rss_mb": run["idle_rss_mb"],
        "peak_rss_mb": run["peak_rss_mb"],
        "revisions": sum(len(r["revisions"]) for r in rows),
        "clips_with_revisions": sum(bool(r["revisions"]) for r in rows),
        "errors": [f"{r['clip']}: {r['error']}" for r in rows if r["error"]],
        "machine": run["machine"],
    }


# -- output ---------------------------------------------------------------------------------


def _f(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def markdown_table(model: str, summaries: list[dict[str, Any]], offline_wer: float | None, info: str) -> str:
    lines = [
        f"### {model}: {info}",
        "",
        f"Offline faster-whisper WER on the same clips and model (beam 5): {_f(offline_wer, '.2%')}",
        "",
        "| system | WER | first text p50 / p90 (s) | commit p50 / p90 (s) | max lag (s) "
        "| final lag p50 / max (s) | CPU s per audio s | RSS idle / peak (MB) | committed text changed "
        "| other load on the CPU |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        first, commit, drain = s["first_text_latency_s"], s["commit_latency_s"], s["drain_s"]
        m = s["machine"]
        lines.append(
            f"| {s['system']} | {_f(s['wer'], '.2%')} | {_f(first['p50'])} / {_f(first['p90'])} | "
            f"{_f(commit['p50'])} / {_f(commit['p90'])} | {_f(s['max_lag_s'])} | "
            f"{_f(drain['p50'])} / {_f(drain['max'])} | {_f(s['cpu_rtf'], '.3f')} | "
            f"{_f(s['idle_rss_mb'], '.0f')} / {_f(s['peak_rss_mb'], '.0f')} | "
            f"{s['revisions']} in {s['clips_with_revisions']} clips | "
            f"{_f(m['others_busy_percent_of_all_cores'], '.0f')} % (load {m['loadavg_start'][0]:.1f}) |"
        )
    base = next((s for s in summaries if s["system"] == "whisperlivekit"), None)
    if base and base["commit_latency_s"]["p50"]:
        lines.append("")
        for s in summaries:
            if s is not base and s["commit_latency_s"]["p50"] is not None:
                ratio = s["commit_latency_s"]["p50"] / base["commit_latency_s"]["p50"]
                lines.append(f"- {s['system']}: median commit latency {ratio:.2f}x WhisperLiveKit's")
        for s in summaries:
            if s["errors"]:
                lines.append(f"- {s['system']} errors: {'; '.join(s['errors'])}")
    return "\n".join(lines) + "\n"


# -- the run --------------------------------------------------------------------------------


def pick_clips(set_dir: Path, min_seconds: float, limit: int | None) -> list[Clip]:
    """Scored clips of at least ``min_seconds``: short prompts end before streaming matters."""
    clips = [c for c in load_clips(set_dir, None) if c.kind == "wer" and c.duration >= min_seconds]
    return clips[:limit] if limit else clips


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.compare_wlk", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="base", help="tiny.en or base: both systems get its folder")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="eval set with manifest.jsonl")
    parser.add_argument("--min-seconds", type=float, default=0.0, help="only clips at least this long")
    parser.add_argument("--limit", type=int, default=None, help="only the first N of those clips")
    parser.add_argument(
        "--policies", default="localagreement,alignatt",
        help=f"Sayline policies to run, comma-separated (of {', '.join(sorted(POLICIES))})",
    )
    parser.add_argument("--skip-wlk", action="store_true", help="Sayline only (no WhisperLiveKit venv)")
    parser.add_argument(
        "--before", type=Path, default=None,
        help="also run Sayline's code from this folder (e.g. `git archive main`): the 'before' row",
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON results; the table goes beside it (.md)")
    args = parser.parse_args(argv)
    args.policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = [p for p in args.policies if p not in POLICIES]
    if unknown:
        parser.error(f"unknown policy {unknown[0]!r}")
    return args


async def run_all(
    systems: list[System], clips: list[StreamAudio], port: int, out: Path
) -> list[dict[str, Any]]:
    """One system after the other, never two at once: they would fight over the cores."""
    return [
        await stream_clips(system, clips, port, out.with_name(f"{out.stem}.{system.name}.log"))
        for system in systems
    ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    has_manifest = (args.set / "manifest.jsonl").is_file()
    clips = pick_clips(args.set, args.min_seconds, args.limit) if has_manifest else []
    if not clips:
        print(f"{args.set} has no transcribed clips of at least {args.min_seconds} s", file=sys.stderr)
        return 2
    wlk = None if args.skip_wlk else ensure_wlk()
    folder = resolve_model(args.model)
    out = args.out or ROOT / "bench" / "results" / f"compare-wlk-{args.model}.json"
    audios = [
        StreamAudio(i, [clip.name], read_audio(clip.path), clip.text) for i, clip in enumerate(clips)
    ]
    add_reference_timings(str(folder), audios)  # offline first, before any server is loaded
    port = free_port()
    systems = [before_system(args.before, folder, port)] if args.before else []
    systems += [sayline_system(folder, port, policy) for policy in args.policies]
    if wlk is not None:
        systems.append(wlk_system(wlk, folder, port))
    runs = asyncio.run(run_all(systems, audios, port, out))

    audio_s = sum(a.seconds for a in audios)
    summaries = [summarize_system(run, audio_s) for run in runs]
    ref_words = sum(len(normalize_text(a.text)) for a in audios)
    offline_edits = sum(align(normalize_text(a.text), normalize_text(a.offline_text)).edits for a in audios)
    offline_wer = offline_edits / ref_words if ref_words else None
    info = (
        f"{len(audios)} clips, {audio_s:.0f} s of {args.set.name}/ (clips >= {args.min_seconds:g} s), "
        f"{os.cpu_count()} cores, model folder {folder}"
    )
    table = markdown_table(args.model, summaries, offline_wer, info)
    print("\n" + table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(table, encoding="utf-8")
    results = {
        "config": {
            "model": args.model,
            "model_folder": str(folder),
            "set": str(args.set),
            "min_seconds": args.min_seconds,
            "clips": [a.clips[0] for a in audios],
            "audio_s": round(audio_s, 2),
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
        "offline_wer": None if offline_wer is None else round(offline_wer, 4),
        "summary": summaries,
        "runs": runs,
        "references": [
            {"clip": a.clips[0], "offline_text": a.offline_text, "words": a.words} for a in audios
        ],
    }
    return write_results(out, results)


if __name__ == "__main__":
    sys.exit(main())
