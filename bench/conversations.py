"""Held-out conversations for the diarization bench, built from eval voices it was never tuned on.

    python -m bench.conversations                      # -> bench/results/conversations/
    python -m bench.diarize --set bench/results/conversations --model base

``../shared/eval/multi`` (four clips) is what the streaming rules were tuned on. This builds
other conversations from the single-speaker recordings of ``eval/xx`` and ``eval/en``: the
voices Allison, June, Carlo and a Russian IVR voice (IvrvoiceRU), plus a LibriVox reader and
JFK. Two kinds, each with an RTTM whose boundaries are exact by construction:

- ``short_*``: 2-4 speakers (men together on purpose: Carlo, the Russian voice, the reader,
  JFK) taking turns of 1.5-2 s most of the time, cut from longer recordings at their quietest
  20 ms, with 0.15-0.6 s between turns: the fast exchanges where streaming diarization merges
  people and gives a turn's first word to the previous speaker;
- ``session_20min``: four speakers in whole-recording turns for 20 minutes, recordings
  reused once a voice runs out: whether anyone is ever split in two over a long session.

Each part is trimmed of leading and trailing silence at -40 dBFS, as multi's clips were.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.decoding import SAMPLE_RATE, decode_file, float_to_pcm16

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
OUT = Path(__file__).resolve().parent / "results" / "conversations"
FRAME = SAMPLE_RATE // 100  # 10 ms
MEN = ("Carlo", "IvrvoiceRU", "reader", "JFK")
WOMEN = ("Allison", "June")
SHORT_CASTS = (
    ("Carlo", "IvrvoiceRU"),
    ("Allison", "Carlo", "IvrvoiceRU"),
    ("reader", "Carlo", "June"),
    ("IvrvoiceRU", "reader", "Allison"),
    ("Allison", "June", "Carlo", "IvrvoiceRU"),
    ("JFK", "reader", "June"),
)
SESSION_CAST = ("Allison", "June", "Carlo", "IvrvoiceRU")


@dataclass(frozen=True)
class Part:
    speaker: str
    audio: np.ndarray


def voices() -> dict[str, list[Path]]:
    """Every single-speaker recording per voice."""
    found: dict[str, list[Path]] = {}
    for set_name in ("xx", "en"):
        for line in (EVAL / set_name / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            entry = json.loads(line) if line.strip() else {}
            speaker = entry.get("speaker")
            if entry.get("audio", "").startswith("librivox_sense"):
                speaker = "reader"
            elif entry.get("audio") == "jfk.wav":
                speaker = "JFK"
            if speaker:
                found.setdefault(speaker, []).append(EVAL / set_name / entry["audio"])
    return found


def trimmed(audio: np.ndarray, floor_db: float = -40.0) -> np.ndarray:
    frames = audio[: len(audio) // FRAME * FRAME].reshape(-1, FRAME)
    loud = np.flatnonzero(20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-10) > floor_db)
    return audio[loud[0] * FRAME : (loud[-1] + 1) * FRAME] if loud.size else audio[:0]


def short_piece(audio: np.ndarray, rng: random.Random) -> np.ndarray:
    """1.5-2 s from a random place, ending at the quietest 20 ms near the target length."""
    length = rng.uniform(1.5, 2.0)
    if len(audio) < (length + 0.3) * SAMPLE_RATE:
        return audio
    start = rng.randrange(0, len(audio) - round((length + 0.3) * SAMPLE_RATE))
    lo, hi = start + round((length - 0.2) * SAMPLE_RATE), start + round((length + 0.2) * SAMPLE_RATE)
    energy = [float((audio[i : i + 2 * FRAME] ** 2).sum()) for i in range(lo, hi, FRAME)]
    return trimmed(audio[start : lo + FRAME * int(np.argmin(energy))])


def join(
    parts: list[Part], rng: random.Random, pause_s: tuple[float, float]
) -> tuple[np.ndarray, list[tuple]]:
    pieces, turns, now = [np.zeros(SAMPLE_RATE // 2, dtype=np.float32)], [], 0.5
    for part in parts:
        turns.append((now, len(part.audio) / SAMPLE_RATE, part.speaker))
        gap = np.zeros(round(rng.uniform(*pause_s) * SAMPLE_RATE), dtype=np.float32)
        pieces += [part.audio, gap]
        now += (len(part.audio) + len(gap)) / SAMPLE_RATE
    return np.concatenate(pieces), turns


def conversation(cast: tuple[str, ...], pool: dict[str, list[np.ndarray]], rng: random.Random, seconds: float,
                 short_share: float) -> list[Part]:
    parts: list[Part] = []
    total, previous = 0.0, None
    while total < seconds:
        speaker = rng.choice([s for s in cast if s != previous])
        audio = trimmed(rng.choice(pool[speaker]))
        if rng.random() < short_share:
            audio = short_piece(audio, rng)
        if len(audio) < 0.5 * SAMPLE_RATE:
            continue
        parts.append(Part(speaker, audio))
        total += len(audio) / SAMPLE_RATE
        previous = speaker
    return parts


def write(folder: Path, name: str, audio: np.ndarray, turns: list[tuple], meta: dict) -> dict:
    with wave.open(str(folder / f"{name}.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(float_to_pcm16(audio))
    (folder / f"{name}.rttm").write_text(
        "".join(f"SPEAKER {name} 1 {start:.3f} {length:.3f} <NA> <NA> {who} <NA> <NA>\n"
                for start, length, who in turns),
        encoding="utf-8",
    )
    return {"audio": f"{name}.wav", "rttm": f"{name}.rttm", "duration": round(len(audio) / SAMPLE_RATE, 2),
            "speakers": len({who for _, _, who in turns}), "turns": len(turns), "text": "", **meta}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.conversations", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--session-min", type=float, default=20.0, help="length of the long session")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    paths = voices()
    needed = set(SESSION_CAST).union(*SHORT_CASTS)
    pool = {speaker: [decode_file(path) for path in paths[speaker]] for speaker in sorted(needed)}
    args.out.mkdir(parents=True, exist_ok=True)
    entries = []
    for index, cast in enumerate(SHORT_CASTS):
        audio, turns = join(conversation(cast, pool, rng, 40.0, 0.7), rng, (0.15, 0.6))
        entries.append(write(args.out, f"short_{index}", audio, turns, {"cast": list(cast)}))
    audio, turns = join(conversation(SESSION_CAST, pool, rng, args.session_min * 60, 0.0), rng, (0.3, 1.0))
    entries.append(write(args.out, "session_20min", audio, turns, {"cast": list(SESSION_CAST)}))
    (args.out / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    for entry in entries:
        print(f"{entry['audio']}: {entry['duration']:.0f} s, {entry['speakers']} speakers, "
              f"{entry['turns']} turns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
