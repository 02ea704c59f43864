"""Abuse bench: a live captioning stream while hostile clients hit the same server.

    python -m bench.abuse --model tiny.en --seconds 60 --hostile 20

The server runs as its own process as the desktop app runs it (loopback, no token, encoded
input as browsers send). One client streams real speech in real time, twice: alone, then
while N hostile clients attack it from loopback until the live stream ends. The report gives
the live stream's commit latency p50/p90 both times, its transcript both times, the server's
peak RSS, and what each attacker was answered. Loopback only; every attacker stops by itself.

Attackers (cycled to N): a web page opening the WebSocket (foreign Origin); a DNS-rebinding
page (foreign Host); a page posting a form cross-site with a FLAC bomb; a native client
sending a FLAC bomb over /asr, or uploading one; a body trickled a byte at a time; a request
head that never ends; a flood of connects; a frame over the size limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import signal
import socket
import struct
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import websockets
from websockets.asyncio.client import connect

from app.core.decoding import SAMPLE_RATE, float_to_pcm16
from bench.load import (
    DEFAULT_SET,
    ROOT,
    ServerMonitor,
    StreamAudio,
    StreamLog,
    add_reference_timings,
    build_streams,
    free_port,
    receive,
    score_stream,
    scored_clips,
    send_paced,
    start_server,
    stop_server,
    wait_healthy,
)
from bench.metrics import align, normalize_text
from bench.output import write_results
from bench.stream import load_clips

FOREIGN = "https://evil.example"
PAUSE_S = 0.2  # between one attacker's attempts: a flood, not a busy loop in this process


def server_command(model: str, port: int) -> list[str]:
    return [sys.executable, str(ROOT / "main.py"), "serve", "--model", model, "--port", str(port),
            "--language", "en"]


def streaming_wav_header() -> bytes:
    """A WAV header with an open-ended length, as a recorder streaming to a pipe writes it."""
    data = 0xFFFFFFFF - 36
    return (
        b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16)
        + b"data" + struct.pack("<I", data)
    )


def silence_flac(seconds: float) -> bytes:
    """FLAC of digital silence (8 kHz, 32768-sample frames): about 19 KB per hour, which
    decodes to 230 MB of 16 kHz float32 per hour. What an attacker sends."""
    out_buf = io.BytesIO()
    with av.open(out_buf, "w", format="flac") as out:
        stream = out.add_stream("flac", rate=8000, options={"frame_size": "32768"})
        stream.layout = "mono"
        block = np.zeros((1, 8000 * 60), dtype=np.int16)
        for minute in range(max(1, round(seconds / 60))):
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
            frame.sample_rate, frame.pts = 8000, minute * block.shape[1]
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return out_buf.getvalue()


# -- the live stream -------------------------------------------------------------------------


async def live_stream(url: str, audio: StreamAudio) -> StreamLog:
    """Speech in real time as a streaming WAV, then the end frame; every update recorded."""
    record = StreamLog(0, audio.seconds)
    async with connect(url, max_size=None, ping_interval=None) as ws:
        json.loads(await ws.recv())
        await ws.send(streaming_wav_header())
        start = time.monotonic()
        receiver = asyncio.create_task(receive(ws, start, record))
        await send_paced(ws, float_to_pcm16(audio.samples), start, record)
        await ws.send(b"")
        record.end_sent_s = time.monotonic() - start
        try:
            await asyncio.wait_for(receiver, 60)
        except TimeoutError:
            record.error = "no ready_to_stop within 60 s"
    return record


# -- the attackers ---------------------------------------------------------------------------


def raw_exchange(
    port: int, data: bytes, trickle: bytes = b"", every_s: float = 0.5, limit_s: float = 30
) -> str:
    """Send ``data``, then ``trickle`` a byte at a time; return the status line or how it ended."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=limit_s) as sock:
        sock.sendall(data)
        sock.settimeout(every_s)
        for byte in trickle:
            with contextlib.suppress(TimeoutError):
                reply = sock.recv(256)
                return reply.split(b"\r\n", 1)[0].decode("latin-1") if reply else "closed"
            if time.monotonic() - started > limit_s:
                return "still open"
            sock.sendall(bytes([byte]))
        sock.settimeout(limit_s)
        reply = sock.recv(256)
    return reply.split(b"\r\n", 1)[0].decode("latin-1") if reply else "closed"


def form_post(port: int, body: bytes, extra: str = "") -> bytes:
    boundary = "abuse"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.flac"\r\n\r\n'.encode()
        + body + f"\r\n--{boundary}--\r\n".encode()
    )
    head = (
        f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(form)}\r\n\r\n"
    )
    return head.encode() + form


async def ws_attempt(
    url: str, send: bytes | None = None, origin: str | None = None, hold_s: float = 0
) -> str:
    try:
        async with connect(url, origin=origin, max_size=None, open_timeout=10, ping_interval=None) as ws:
            await ws.recv()
            if send is not None:
                await ws.send(send)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(hold_s):
                    async for _ in ws:
                        pass
            await ws.close()
            return f"close {ws.close_code}" if ws.close_code not in (None, 1000) else "served"
    except websockets.InvalidStatus as exc:
        return f"HTTP {exc.response.status_code}"
    except websockets.ConnectionClosed as exc:
        return f"close {exc.rcvd.code if exc.rcvd else 'none'}"
    except OSError as exc:
        return type(exc).__name__


def attackers(port: int, bomb: bytes) -> list[tuple[str, Callable[[], Awaitable[str]]]]:
    url = f"ws://127.0.0.1:{port}/asr"

    def blocking(*args: Any, **kwargs: Any) -> Callable[[], Awaitable[str]]:
        return lambda: asyncio.to_thread(raw_exchange, port, *args, **kwargs)

    slow_body_head = (
        f"POST /v1/audio/transcriptions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000\r\n\r\n"
    ).encode()
    return [
        ("page opens /asr", lambda: ws_attempt(url, origin=FOREIGN)),
        ("rebinding page", blocking(b"GET /health HTTP/1.1\r\nHost: evil.example\r\n\r\n")),
        ("page posts a bomb", blocking(form_post(port, bomb, f"Origin: {FOREIGN}\r\n"))),
        ("bomb over /asr", lambda: ws_attempt(url, send=bomb, hold_s=5)),
        ("bomb upload", blocking(form_post(port, bomb))),
        ("byte-a-second body", blocking(slow_body_head, trickle=b"-" * 60, every_s=1.0)),
        ("endless head", blocking(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", trickle=b"X" * 60, every_s=1.0)),
        ("connect flood", lambda: ws_attempt(url)),
        ("oversized frame", lambda: ws_attempt(url, send=b"\x00" * (2 * 1024 * 1024), hold_s=2)),
    ]


async def attack(
    kind: str, attempt: Callable[[], Awaitable[str]], stop: asyncio.Event, seen: Counter
) -> None:
    while not stop.is_set():
        try:
            outcome = await attempt()
        except Exception as exc:  # an attacker's own failure is an outcome too
            outcome = type(exc).__name__
        seen[(kind, outcome)] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PAUSE_S)


async def under_attack(url: str, audio: StreamAudio, port: int, hostile: int) -> tuple[StreamLog, Counter]:
    kinds = attackers(port, silence_flac(3600))
    stop, seen = asyncio.Event(), Counter()
    tasks = [
        asyncio.create_task(attack(*kinds[i % len(kinds)], stop, seen)) for i in range(hostile)
    ]
    try:
        record = await live_stream(url, audio)
    finally:
        stop.set()
        await asyncio.wait(tasks, timeout=40)
    return record, seen


# -- the run ---------------------------------------------------------------------------------


def summarize(record: StreamLog, audio: StreamAudio) -> dict[str, Any]:
    row = score_stream(record, audio)
    return {
        "commit_p50_s": row["commit_latency_s"]["p50"],
        "commit_p90_s": row["commit_latency_s"]["p90"],
        "wer": row["wer"],
        "max_lag_s": row["max_lag_s"],
        "error": row["error"],
        "final_text": row["final_text"],
    }


async def run(port: int, audio: StreamAudio, hostile: int, monitor: ServerMonitor) -> dict[str, Any]:
    url = f"ws://127.0.0.1:{port}/asr"
    monitor.begin()
    try:
        await live_stream(url, StreamAudio(-1, [], audio.samples[: 5 * SAMPLE_RATE], ""))  # warm-up
        t0 = monitor.mark()
        alone = await live_stream(url, audio)
        t1 = monitor.mark()
        print(f"alone    done; now with {hostile} hostile clients", file=sys.stderr, flush=True)
        attacked, seen = await under_attack(url, audio, port, hostile)
        t2 = monitor.mark()
    finally:
        await monitor.end()
    quiet, busy = summarize(alone, audio), summarize(attacked, audio)
    quiet_words, busy_words = normalize_text(quiet["final_text"]), normalize_text(busy["final_text"])
    return {
        "alone": {**quiet, **monitor.window(t0, t1)},
        "attacked": {**busy, **monitor.window(t1, t2)},
        "transcript_unchanged": quiet_words == busy_words,
        "words_changed_wer": align(quiet_words, busy_words).wer,
        "attacks": sorted(
            ({"attacker": k, "answer": o, "count": n} for (k, o), n in seen.items()),
            key=lambda row: (row["attacker"], -row["count"]),
        ),
        "server_peak_rss_mb": max((s[1] for s in monitor.samples), default=None),
    }


def print_report(result: dict[str, Any], hostile: int) -> None:
    alone, attacked = result["alone"], result["attacked"]
    growth = attacked["commit_p50_s"] / alone["commit_p50_s"] - 1 if alone["commit_p50_s"] else None
    print(f"\n{'':22} {'commit p50':>10} {'p90':>6} {'WER':>6} {'max lag':>7} {'peak RSS':>9} {'CPU %':>6}")
    for name, row in (("alone", alone), (f"{hostile} hostile clients", attacked)):
        print(
            f"{name:22} {row['commit_p50_s']:>10.2f} {row['commit_p90_s']:>6.2f} {row['wer']:>6.3f} "
            f"{row['max_lag_s']:>7.2f} {row['peak_rss_mb']:>9.0f} {row['cpu_percent']:>6.0f}"
        )
    print(f"median commit grew {100 * growth:+.0f} %" if growth is not None else "")
    print(f"transcript unchanged: {result['transcript_unchanged']} (WER between the two: "
          f"{result['words_changed_wer']:.3f}); server peak RSS {result['server_peak_rss_mb']:.0f} MB")
    for row in result["attacks"]:
        print(f"  {row['attacker']:<20} {row['answer']:<28} x{row['count']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.abuse", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--seconds", type=float, default=60.0, help="live speech per run")
    parser.add_argument("--hostile", type=int, default=20, help="attacking clients at once")
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM as Ctrl+C: the server is stopped
    audio = build_streams(scored_clips(load_clips(args.set, None)), 1, args.seconds)[0]
    add_reference_timings(args.model, [audio])
    port = free_port()
    out = args.out or Path(__file__).parent / "results" / f"abuse-{args.model}.json"
    server_log = out.with_suffix(".server.log")
    proc = start_server(server_command(args.model, port), server_log)
    try:
        wait_healthy(proc, port, server_log)
        result = asyncio.run(run(port, audio, args.hostile, ServerMonitor(proc.pid)))
    except KeyboardInterrupt:
        return 130
    finally:
        stop_server(proc)
    print_report(result, args.hostile)
    write_results(out, {"config": {**vars(args), "set": str(args.set), "out": str(out),
                                   "cpu_count": os.cpu_count()}, **result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
