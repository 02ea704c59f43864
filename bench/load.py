"""Load bench: how many concurrent real-time `/asr` streams one server keeps up with.

    python -m bench.load --model tiny.en --streams 1,2,4,6 --seconds 60

The server runs as its own process (``main.py serve --pcm-input``), so its RSS and CPU
are the server's alone, not the clients'. For each N in --streams, N WebSocket clients
stream different concatenations of real speech at the speed of speech, as PCM, and the
bench records every message with its wall time. An N "stays real-time" when, for every
stream, the lag (``remaining_time_transcription``) never exceeds 3 s, does not grow (mean
over the last 20 % of the audio at most 2 s), and the drain after the end of audio takes
at most 3 s. The reference word times for commit latency come from one offline decode
of each stream's audio, made in this process before the server is loaded with work.
See bench/README.md for every definition.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import logging
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from websockets.asyncio.client import ClientConnection, connect

from app.core.decoding import SAMPLE_RATE, float_to_pcm16
from app.core.engine import EngineConfig, TranscriptionEngine
from bench.metrics import align, matched_delays, normalize_text
from bench.output import write_results
from bench.stream import Clip, load_clips, read_audio

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SET = ROOT.parent / "shared" / "eval" / "en"
SILENCE_SPEAKER = -2  # a `lines` entry with this speaker is a pause, not words

CHUNK_S = 0.1  # what a browser's AudioWorklet client sends per frame
GAP_S = 1.0  # silence between concatenated clips
MAX_LAG_S = 3.0  # real-time criteria (see the module docstring)
TAIL_LAG_S = 2.0
MAX_DRAIN_S = 3.0
TAIL_FRACTION = 0.2
SAMPLE_EVERY_S = 0.5  # server RSS / CPU sampling period

HEALTH_TIMEOUT_S = 300.0  # the server loads its model before /health answers
IDLE_TIMEOUT_S = 30.0  # for the previous level's sessions to be cleaned up
CONNECT_TIMEOUT_S = 15.0
DRAIN_TIMEOUT_S = 60.0  # a drain longer than this is recorded as a failure, not waited for
STOP_TIMEOUT_S = 15.0

log = logging.getLogger("bench.load")


# -- test material ------------------------------------------------------------------------


@dataclass
class StreamAudio:
    """One client's audio and what it should produce: the references it is scored against."""

    index: int
    clips: list[str]
    samples: np.ndarray
    text: str
    words: list[tuple[str, float, float]] = field(default_factory=list)  # offline decode, timed
    offline_text: str = ""

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def scored_clips(clips: list[Clip]) -> list[Clip]:
    """Only clips with a reference text: an untranscribed clip would count as insertions."""
    return [clip for clip in clips if clip.kind == "wer"]


def pick_clips(
    order: Sequence[Clip], lengths: dict[str, int], start: int, budget: int, gap: int
) -> list[Clip]:
    """Clips from ``order`` (cyclically, from ``start``) that fit ``budget`` samples whole.

    Whole clips only, because a clip cut in half has no reference text for its half.
    Each round adds a clip or counts a miss, and a full round of misses ends it: bounded.
    """
    chosen: list[Clip] = []
    total = misses = 0
    i = start
    while misses < len(order):
        clip = order[i % len(order)]
        i += 1
        need = lengths[clip.name] + (gap if chosen else 0)
        if total + need <= budget:
            chosen.append(clip)
            total += need
            misses = 0
        else:
            misses += 1
    return chosen


def build_streams(clips: list[Clip], count: int, seconds: float, seed: int = 0) -> list[StreamAudio]:
    """``count`` different concatenations, each exactly ``seconds`` long.

    One seeded shuffle, and stream i starts reading it at i/count of the way round, so
    streams share as few clips, and never the same order, as the set allows. Silence pads
    the end to the full length, so every stream of a level ends at the same moment.
    """
    audios = {clip.name: read_audio(clip.path) for clip in clips}
    lengths = {name: len(a) for name, a in audios.items()}
    order = list(clips)
    random.Random(seed).shuffle(order)
    budget = round(seconds * SAMPLE_RATE)
    gap = np.zeros(round(GAP_S * SAMPLE_RATE), dtype=np.float32)
    streams = []
    for index in range(count):
        chosen = pick_clips(order, lengths, index * len(order) // count, budget, len(gap))
        parts: list[np.ndarray] = []
        for n, clip in enumerate(chosen):
            parts += [gap, audios[clip.name]] if n else [audios[clip.name]]
        joined = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        samples = np.concatenate([joined, np.zeros(budget - len(joined), dtype=np.float32)])
        text = " ".join(clip.text.strip() for clip in chosen)
        streams.append(StreamAudio(index, [clip.name for clip in chosen], samples, text))
    return streams


def add_reference_timings(model_name: str, streams: list[StreamAudio]) -> None:
    """Decode every stream's audio offline once, with word times: the manifests carry none.

    Same model and decode as bench.stream's word-timed reference (beam 5), so commit
    latencies from both benches mean the same thing. Done before the load runs, and the
    model is dropped afterwards, so it neither competes for CPU nor is mistaken for load.
    """
    engine = TranscriptionEngine(EngineConfig(model=model_name, language="en"))
    try:
        model = engine._model  # the engine's loaded WhisperModel: same weights, same compute type
        for stream in streams:
            print(f"offline  stream {stream.index} ({stream.seconds:.0f} s)", file=sys.stderr, flush=True)
            segments, _ = model.transcribe_full_window(
                stream.samples, language="en", beam_size=5, word_timestamps=True
            )
            segments = list(segments)
            stream.words = [
                (w.word, round(w.start, 3), round(w.end, 3)) for s in segments for w in s.words or ()
            ]
            stream.offline_text = "".join(s.text for s in segments).strip()
    finally:
        engine.close()
        del engine
        gc.collect()


# -- the server process ----------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it), on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(model: str, port: int) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "main.py"),
        "serve",
        "--model",
        model,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--pcm-input",
        "--language",
        "en",
    ]


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: ask the kernel to SIGTERM the server if this bench dies without its finally.

    try/finally covers Ctrl+C and SIGTERM; this covers SIGKILL. libc is loaded here, in
    the parent, so the child only makes one call between fork and exec.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    pr_set_pdeathsig = 1

    def set_death_signal() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return set_death_signal


def start_server(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """The server as a child process; its output goes to a file so a full pipe never stalls it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent(),  # one libc call between fork and exec, nothing else
        )


def stop_server(proc: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM (the server closes its sessions and frees the port), then SIGKILL if it hangs."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)
    return proc.returncode


def health(port: int) -> dict[str, Any] | None:
    """The server's /health answer, or None while it cannot answer yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return None


def wait_healthy(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> dict[str, Any]:
    """Poll /health until it says ok; fail fast when the server exits instead."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}; see {log_path}")
        answer = health(port)
        if answer and answer.get("status") == "ok":
            return answer
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer /health within {HEALTH_TIMEOUT_S:.0f} s; see {log_path}")


async def wait_idle(proc: subprocess.Popen[bytes], port: int) -> None:
    """Wait until the last level's sessions are gone, so levels do not overlap."""
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        answer = await asyncio.to_thread(health, port)
        if answer and answer.get("sessions", 0) == 0:
            return
        await asyncio.sleep(0.25)
    log.warning("sessions still open after %.0f s; going on", IDLE_TIMEOUT_S)


class ServerMonitor:
    """Samples the server process's RSS and CPU time every 0.5 s on the bench's own loop.

    getrusage cannot see another process's peak, so the peak is the highest sample: a
    spike shorter than the period can be missed, which is the price of measuring from
    outside. CPU is exact: cumulative CPU time read at both ends of a window.
    """

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.start = time.monotonic()
        self.samples: list[tuple[float, float, float]] = []  # (t, rss MB, cumulative CPU s)
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> tuple[float, float, float] | None:
        try:
            with self.process.oneshot():
                rss = self.process.memory_info().rss / 2**20
                times = self.process.cpu_times()
        except psutil.Error:
            return None  # the server is gone; the bench notices through proc.poll()
        row = (round(time.monotonic() - self.start, 3), round(rss, 1), times.user + times.system)
        self.samples.append(row)
        return row

    async def _run(self) -> None:
        while self.sample() is not None:
            await asyncio.sleep(SAMPLE_EVERY_S)

    def begin(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def end(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def mark(self) -> float:
        """Take a sample now and return its time: the exact edge of a measured window."""
        row = self.sample()
        return row[0] if row else time.monotonic() - self.start

    def window(self, t0: float, t1: float) -> dict[str, Any]:
        """Peak RSS and CPU % (of one core) between two ``sample()`` times."""
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if len(inside) < 2:
            return {"peak_rss_mb": None, "cpu_percent": None}
        cpu = 100.0 * (inside[-1][2] - inside[0][2]) / (inside[-1][0] - inside[0][0])
        return {"peak_rss_mb": max(s[1] for s in inside), "cpu_percent": round(cpu, 1)}


# -- one client ------------------------------------------------------------------------------


def committed_text(lines: list[dict[str, Any]]) -> str:
    """The committed transcript of an update, silence lines left out (as FrontData.text)."""
    return " ".join(
        line["text"] for line in lines if line.get("speaker") != SILENCE_SPEAKER and line.get("text")
    )


@dataclass
class StreamLog:
    """Everything one client saw; times are seconds since its first sample was "spoken"."""

    index: int
    audio_s: float
    updates: list[dict[str, Any]] = field(default_factory=list)
    commit_times: list[float] = field(default_factory=list)  # per committed word index
    revisions: list[dict[str, Any]] = field(default_factory=list)  # committed text that changed
    final_text: str = ""
    end_sent_s: float | None = None
    ready_s: float | None = None
    max_send_late_s: float = 0.0
    error: str | None = None

    def on_update(self, t: float, message: dict[str, Any]) -> None:
        """Committed text only grows, so a word index seen for the first time was just committed."""
        words = committed_text(message.get("lines") or []).split()
        self._note_revision(t, words)
        self.commit_times.extend([t] * (len(words) - len(self.commit_times)))
        self.final_text = " ".join(words)
        status = message.get("status")
        if status == "error" and self.error is None:
            self.error = f"server error: {message.get('error', '')}"
        self.updates.append(
            {
                "t": round(t, 3),
                "committed_words": len(words),
                "remaining_s": message.get("remaining_time_transcription"),
                "buffer": message.get("buffer_transcription", ""),
                "status": status,
            }
        )

    def _note_revision(self, t: float, words: list[str]) -> None:
        """Committed text must only grow: record any committed word that was later rewritten.

        Words are compared normalised, so a full stop or capital added later is no change,
        while a word replaced, split, glued to another or withdrawn is.
        """
        before = normalize_text(self.final_text)
        after = normalize_text(" ".join(words))
        if after[: len(before)] != before:
            keep = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), None)
            keep = min(len(before), len(after)) if keep is None else keep
            self.revisions.append(
                {"t": round(t, 3), "was": " ".join(before[keep:]), "now": " ".join(after[keep:])}
            )

    @property
    def drain_s(self) -> float | None:
        if self.end_sent_s is None or self.ready_s is None:
            return None
        return self.ready_s - self.end_sent_s

    @property
    def committed(self) -> list[tuple[str, float]]:
        """Final words with the time each index first appeared; a word extended later keeps it."""
        return list(zip(self.final_text.split(), self.commit_times, strict=False))


async def open_client(url: str) -> ClientConnection:
    """Connect and read the config message: a server not expecting PCM would mis-decode it all."""
    ws = await connect(url, open_timeout=CONNECT_TIMEOUT_S, close_timeout=5, ping_interval=None)
    try:
        config = json.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT_S))
        if config.get("type") != "config" or not config.get("useAudioWorklet"):
            raise RuntimeError(f"unexpected first message {config!r} (is the server in --pcm-input mode?)")
    except BaseException:
        await ws.close()
        raise
    return ws


async def sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def send_paced(ws: ClientConnection, pcm: bytes, start: float, record: StreamLog) -> None:
    """Chunk k leaves at start + (k+1)·0.1 s, when a microphone could first deliver it.

    Deadlines are absolute, so a late chunk does not delay the ones after it; how late
    the worst one was is kept, to show whether the client itself kept up.
    """
    chunk_bytes = round(CHUNK_S * SAMPLE_RATE) * 2
    for k, offset in enumerate(range(0, len(pcm), chunk_bytes)):
        deadline = start + (k + 1) * CHUNK_S
        await sleep_until(deadline)
        record.max_send_late_s = max(record.max_send_late_s, time.monotonic() - deadline)
        await ws.send(pcm[offset : offset + chunk_bytes])


async def receive(ws: ClientConnection, start: float, record: StreamLog) -> None:
    """Record every update until ready_to_stop; the server closing first is an error."""
    async for raw in ws:
        t = time.monotonic() - start
        if isinstance(raw, bytes):
            continue
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "ready_to_stop":
            record.ready_s = t
            return
        if kind is None:  # full mode: an update has no type
            record.on_update(t, message)
    if record.error is None:
        record.error = "the server closed before ready_to_stop"


async def run_client(ws: ClientConnection, index: int, pcm: bytes, start: float) -> StreamLog:
    """Stream ``pcm`` in real time, send the empty frame, read until ready_to_stop (bounded)."""
    record = StreamLog(index, len(pcm) / 2 / SAMPLE_RATE)
    receiver = asyncio.create_task(receive(ws, start, record))
    try:
        await send_paced(ws, pcm, start, record)
        await ws.send(b"")
        record.end_sent_s = time.monotonic() - start
        await asyncio.wait_for(asyncio.shield(receiver), DRAIN_TIMEOUT_S)
    except asyncio.TimeoutError:
        record.error = f"no ready_to_stop within {DRAIN_TIMEOUT_S:.0f} s of the end of audio"
    except Exception as exc:  # a closed socket, bad JSON: this stream failed, the level goes on
        record.error = record.error or f"{type(exc).__name__}: {exc}"
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # already recorded above
            await receiver
        await ws.close()
    return record


async def run_level(url: str, streams: list[StreamAudio]) -> list[StreamLog]:
    """Connect every client first, then start them all on one clock: the worst case for overlap."""
    pcms = [float_to_pcm16(s.samples) for s in streams]
    clients: list[ClientConnection] = []
    try:
        for _ in streams:
            clients.append(await open_client(url))
    except BaseException:
        for ws in clients:
            await ws.close()
        raise
    start = time.monotonic() + 0.05
    return list(
        await asyncio.gather(
            *(run_client(ws, s.index, pcm, start) for ws, s, pcm in zip(clients, streams, pcms, strict=True))
        )
    )


async def warm_up(url: str, samples: np.ndarray) -> None:
    """One short stream sent at once, so the first level does not pay for a cold decode path."""
    ws = await open_client(url)

    async def until_ready() -> None:
        async for raw in ws:
            if isinstance(raw, str) and json.loads(raw).get("type") == "ready_to_stop":
                return

    try:
        await ws.send(float_to_pcm16(samples))
        await ws.send(b"")
        await asyncio.wait_for(until_ready(), DRAIN_TIMEOUT_S)
    finally:
        await ws.close()


# -- scoring ---------------------------------------------------------------------------------


def stats(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, p50, p90, p95, mean and max; p95 is what the table shows for the slow words."""
    if not values:
        return {"n": 0, "p50": None, "p90": None, "p95": None, "mean": None, "max": None}
    arr = np.asarray(values, dtype=float)
    p50, p90, p95 = (round(float(np.percentile(arr, q)), 3) for q in (50, 90, 95))
    return {
        "n": int(arr.size),
        "p50": p50,
        "p90": p90,
        "p95": p95,
        "mean": round(float(arr.mean()), 3),
        "max": round(float(arr.max()), 3),
    }


def lag_report(record: StreamLog) -> dict[str, float | None]:
    """Max lag over every update, and the mean over the last 20 % of the audio.

    If no update fell in that window (a stalled server sends nothing new), the last lag
    the client was shown before the window ended stands in: that is what it displayed.
    """
    samples = [(u["t"], u["remaining_s"]) for u in record.updates if u["remaining_s"] is not None]
    lo, hi = (1 - TAIL_FRACTION) * record.audio_s, record.audio_s
    tail = [lag for t, lag in samples if lo <= t <= hi]
    if not tail:
        before = [lag for t, lag in samples if t <= hi]
        tail = before[-1:]
    return {
        "max_lag_s": round(max((lag for _, lag in samples), default=0.0), 3),
        "tail_mean_lag_s": round(sum(tail) / len(tail), 3) if tail else None,
    }


def realtime_failures(row: dict[str, Any]) -> list[str]:
    """Why a stream did not stay real-time; empty when it did."""
    reasons = []
    if row["error"]:
        reasons.append(row["error"])
    if row["max_lag_s"] > MAX_LAG_S:
        reasons.append(f"max lag {row['max_lag_s']:.2f} s > {MAX_LAG_S} s")
    tail = row["tail_mean_lag_s"]
    if tail is None or tail > TAIL_LAG_S:
        reasons.append(f"mean lag of the last 20 % {tail} s > {TAIL_LAG_S} s")
    drain = row["drain_s"]
    if drain is None or drain > MAX_DRAIN_S:
        reasons.append(f"drain {drain} s > {MAX_DRAIN_S} s")
    return reasons


def score_stream(record: StreamLog, audio: StreamAudio) -> dict[str, Any]:
    ref = normalize_text(audio.text)
    wer = align(ref, normalize_text(record.final_text)).wer
    delays = matched_delays([(w, end) for w, _, end in audio.words], record.committed)
    row: dict[str, Any] = {
        "stream": record.index,
        "audio_s": round(record.audio_s, 3),
        "error": record.error,
        "ref_words": len(ref),
        "wer": None if wer is None else round(wer, 4),
        "drain_s": None if record.drain_s is None else round(record.drain_s, 3),
        **lag_report(record),
        "commit_latency_s": stats(delays),
        "commit_delays_s": [round(d, 3) for d in delays],
        "max_send_late_s": round(record.max_send_late_s, 3),
        "revisions": record.revisions,
        "final_text": record.final_text,
        "updates": record.updates,
    }
    row["failures"] = realtime_failures(row)
    row["realtime"] = not row["failures"]
    return row


def summarize_level(
    n: int, rows: list[dict[str, Any]], server: dict[str, Any], client_cpu: float
) -> dict[str, Any]:
    wers = [r["wer"] for r in rows if r["wer"] is not None]
    drains = [r["drain_s"] for r in rows if r["drain_s"] is not None]
    tails = [r["tail_mean_lag_s"] for r in rows if r["tail_mean_lag_s"] is not None]
    return {
        "streams": n,
        "realtime": all(r["realtime"] for r in rows),
        "commit_latency_s": stats([d for r in rows for d in r["commit_delays_s"]]),
        "max_lag_s": max(r["max_lag_s"] for r in rows),
        "max_tail_mean_lag_s": max(tails) if tails else None,
        "max_drain_s": max(drains) if len(drains) == len(rows) else None,
        "mean_wer": round(sum(wers) / len(wers), 4) if wers else None,
        "errors": [r["error"] for r in rows if r["error"]],
        "max_send_late_s": max(r["max_send_late_s"] for r in rows),
        "server_peak_rss_mb": server["peak_rss_mb"],
        "server_cpu_percent": server["cpu_percent"],
        "client_cpu_percent": round(client_cpu, 1),
    }


def largest_realtime(levels: list[dict[str, Any]]) -> int | None:
    passing = [level["summary"]["streams"] for level in levels if level["summary"]["realtime"]]
    return max(passing) if passing else None


# -- the run -----------------------------------------------------------------------------------


def client_cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


async def measure_level(
    n: int,
    url: str,
    streams: list[StreamAudio],
    proc: subprocess.Popen[bytes],
    port: int,
    monitor: ServerMonitor,
) -> dict[str, Any]:
    """One level: N clients at once, the server sampled over exactly that window."""
    await wait_idle(proc, port)
    print(f"level    {n} stream(s) x {streams[0].seconds:.0f} s", file=sys.stderr, flush=True)
    t0 = monitor.mark()
    cpu0, wall0 = client_cpu_seconds(), time.monotonic()
    records = await run_level(url, streams[:n])
    client_cpu = 100.0 * (client_cpu_seconds() - cpu0) / (time.monotonic() - wall0)
    t1 = monitor.mark()
    rows = [score_stream(record, streams[record.index]) for record in records]
    summary = summarize_level(n, rows, monitor.window(t0, t1), client_cpu)
    return {"summary": summary, "streams": rows}


async def run_load(
    levels: list[int], streams: list[StreamAudio], proc: subprocess.Popen[bytes], port: int
) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{port}/asr"
    monitor = ServerMonitor(proc.pid)
    monitor.begin()
    try:
        await warm_up(url, streams[0].samples[: 5 * SAMPLE_RATE])
        await wait_idle(proc, port)
        idle = monitor.sample()  # after the model and the warm-up: the server's floor
        results = [await measure_level(n, url, streams, proc, port, monitor) for n in levels]
    finally:
        await monitor.end()
    return {
        "server_idle_rss_mb": idle[1] if idle else None,
        "server_peak_rss_mb": max((s[1] for s in monitor.samples), default=None),
        "levels": results,
        "server_samples": [[t, rss, round(cpu, 3)] for t, rss, cpu in monitor.samples],
    }


# -- output ------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def print_table(model: str, levels: list[dict[str, Any]], largest: int | None, cpu_count: int | None) -> None:
    print(f"\nmodel {model}, {cpu_count} CPU core(s); CPU % is of one core")
    header = (
        f"{'N':>3} | {'real-time?':<10} | {'commit p50 / p95 (s)':<20} | {'max lag (s)':>11} | "
        f"{'drain (s)':>9} | {'mean WER':>8} | {'peak RSS (MB)':>13} | {'CPU %':>6}"
    )
    print(header)
    print("-" * len(header))
    for level in levels:
        s = level["summary"]
        lat = s["commit_latency_s"]
        print(
            f"{s['streams']:>3} | {'yes' if s['realtime'] else 'no':<10} | "
            f"{_fmt(lat['p50']) + ' / ' + _fmt(lat['p95']):<20} | {_fmt(s['max_lag_s']):>11} | "
            f"{_fmt(s['max_drain_s']):>9} | {_fmt(s['mean_wer'], '.3f'):>8} | "
            f"{_fmt(s['server_peak_rss_mb'], '.0f'):>13} | {_fmt(s['server_cpu_percent'], '.0f'):>6}"
        )
    for level in levels:
        for row in level["streams"]:
            for reason in row["failures"]:
                print(f"  N={level['summary']['streams']} stream {row['stream']}: {reason}")
    print(f"\nlargest N that stays real-time: {largest if largest is not None else 'none'}")


def parse_streams(text: str) -> list[int]:
    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("stream counts must be 1 or more")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="tiny.en", help="tiny.en or base")
    parser.add_argument("--streams", type=parse_streams, default=[1, 2, 4, 6], help="e.g. 1,2,4,6")
    parser.add_argument("--seconds", type=float, default=60.0, help="audio per stream (default 60)")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="eval set with manifest.jsonl")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    args = parser.parse_args(argv)
    if args.seconds < 5:
        parser.error("--seconds must be at least 5")
    return args


def _raise_interrupt(signum: int, frame: object) -> None:
    """SIGTERM behaves like Ctrl+C, so the finally that stops the server runs."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    clips = scored_clips(load_clips(args.set, None)) if (args.set / "manifest.jsonl").is_file() else []
    if not clips:
        print(f"{args.set} has no manifest.jsonl with transcribed clips", file=sys.stderr)
        return 2
    out = args.out or Path(__file__).parent / "results" / f"load-{args.model}.json"
    server_log = out.with_suffix(".server.log")
    signal.signal(signal.SIGTERM, _raise_interrupt)

    streams = build_streams(clips, max(args.streams), args.seconds)
    add_reference_timings(args.model, streams)  # also prepares the model before the server needs it
    port = free_port()
    print(f"server   {' '.join(server_command(args.model, port))}", file=sys.stderr, flush=True)
    proc = start_server(server_command(args.model, port), server_log)
    try:
        server_health = wait_healthy(proc, port, server_log)
        load = asyncio.run(run_load(args.streams, streams, proc, port))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        code = stop_server(proc)
        print(f"server   stopped (exit {code}); log in {server_log}", file=sys.stderr, flush=True)

    levels = load["levels"]
    largest = largest_realtime(levels)
    print_table(args.model, levels, largest, os.cpu_count())
    results = {
        "config": {
            "model": args.model,
            "streams": args.streams,
            "seconds": args.seconds,
            "chunk_s": CHUNK_S,
            "gap_s": GAP_S,
            "set": str(args.set),
            "criteria": {
                "max_lag_s": MAX_LAG_S,
                "tail_mean_lag_s": TAIL_LAG_S,
                "tail_fraction": TAIL_FRACTION,
                "max_drain_s": MAX_DRAIN_S,
            },
            "server_command": server_command(args.model, port),
            "server_health": server_health,
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
        "summary": {
            "largest_realtime_streams": largest,
            "server_idle_rss_mb": load["server_idle_rss_mb"],
            "server_peak_rss_mb": load["server_peak_rss_mb"],
            "levels": [level["summary"] for level in levels],
        },
        "references": [
            {
                "stream": s.index,
                "seconds": round(s.seconds, 3),
                "clips": s.clips,
                "text": s.text,
                "offline_text": s.offline_text,
                "offline_wer": align(normalize_text(s.text), normalize_text(s.offline_text)).wer,
                "offline_words": s.words,
            }
            for s in streams
        ],
        "levels": levels,
        "server_samples": load["server_samples"],
    }
    return write_results(out, results)


if __name__ == "__main__":
    sys.exit(main())
