"""Remembered voices: how often a remembered speaker is named right, and a stranger named at all.

    python -m bench.profiles --sessions 30 --seed 5

Voices: Allison, June, Carlo and the Russian IVR voice (eval/xx, eval/en) can be
remembered; the LibriVox reader, JFK and the two women of multi/pyannote_sample (a real
call) are only ever strangers. Each rememberable voice's recordings are split in two:
every other one enrols it (streamed through the StreamingDiarizer as the app hears a
session; the profile is the speaker's centroid, as "Remember this voice" stores it), the
rest make the sessions, so no session contains enrolment audio.

Each session is a conversation of 2-3 voices (about 40 s, some turns cut short), streamed
in 0.5 s chunks with a pass whenever one is due. Half the sessions forget one of their
rememberable voices first, so a real person the store does not know is in the room. After
every pass each speaker is named by app.core.diarization.profiles.names_for at each
threshold of the sweep, and the session speaker is mapped to the voice it spoke most of.

Reported per threshold, once per person in a session: named right at the end (their biggest
session speaker; remembered voices), wrongly named (another remembered name on any of their
session speakers, at any pass), never named, and strangers given a name at any pass.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from app.core.decoding import SAMPLE_RATE, decode_file
from app.core.diarization import DiarizationSettings, load_models
from app.core.diarization.outputs import unit_length
from app.core.diarization.profiles import MatchSettings, VoiceProfile, names_for
from app.core.diarization.streaming import StreamingDiarizer
from bench.conversations import EVAL, Part, conversation, join, trimmed, voices
from bench.der import read_rttm
from bench.output import write_results

REMEMBERED = ("Allison", "June", "Carlo", "IvrvoiceRU")
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.40, 0.86, 0.05))
ENROL_AUDIO_S = 15.0
CHUNK = SAMPLE_RATE // 2


@dataclass
class Outcome:
    right: int = 0
    wrong_name: int = 0
    never_named: int = 0
    strangers: int = 0
    stranger_named: int = 0
    remembered: int = 0

    def row(self, threshold: float) -> dict[str, float]:
        return {
            "threshold": threshold,
            "named_right_rate": round(self.right / max(self.remembered, 1), 4),
            "wrong_name_rate": round(self.wrong_name / max(self.remembered, 1), 4),
            "false_reject_rate": round(self.never_named / max(self.remembered, 1), 4),
            "stranger_named_rate": round(self.stranger_named / max(self.strangers, 1), 4),
            **asdict(self),
        }


@dataclass
class SessionSpeaker:
    voice: str
    ever: dict[float, set[str]] = field(default_factory=dict)  # threshold -> names given at any pass
    final: dict[float, str | None] = field(default_factory=dict)


def stream(models, audio: np.ndarray, on_pass=None) -> StreamingDiarizer:
    diarizer = models.stream(DiarizationSettings(keep_turns_s=1e9))
    for offset in range(0, len(audio), CHUNK):
        diarizer.accept(audio[offset : offset + CHUNK])
        if diarizer.due():
            diarizer.run_pass()
            if on_pass:
                on_pass(diarizer)
    diarizer.run_pass(final=True)
    if on_pass:
        on_pass(diarizer)
    return diarizer


def enrol(models, name: str, recordings: list[np.ndarray]) -> VoiceProfile:
    pieces, total = [], 0.0
    for audio in recordings:
        pieces += [trimmed(audio), np.zeros(SAMPLE_RATE * 2 // 5, dtype=np.float32)]
        total += len(audio) / SAMPLE_RATE
        if total >= ENROL_AUDIO_S:
            break
    heard = max(stream(models, np.concatenate(pieces)).voices(), key=lambda v: v.seconds)
    return VoiceProfile(name, unit_length(heard.vector), heard.seconds, "")


def call_voices() -> dict[str, list[np.ndarray]]:
    """Each woman's turns of multi/pyannote_sample (a real call), cut by its RTTM."""
    audio = decode_file(EVAL / "multi" / "pyannote_sample.wav")
    turns: dict[str, list[np.ndarray]] = {}
    for turn in read_rttm(EVAL / "multi" / "pyannote_sample.rttm"):
        piece = audio[round(turn.start * SAMPLE_RATE) : round(turn.end * SAMPLE_RATE)]
        if len(piece) > SAMPLE_RATE // 2:
            turns.setdefault(f"call_{turn.speaker}", []).append(piece)
    return turns


def main_voice(diarizer: StreamingDiarizer, spans: list[tuple[float, float, str]]) -> dict[int, str]:
    """Session speaker -> the voice it labelled most of."""
    overlap: dict[int, Counter] = {}
    for turn in diarizer.turns:
        for start, length, voice in spans:
            shared = min(turn.end, start + length) - max(turn.start, start)
            if shared > 0:
                overlap.setdefault(turn.speaker, Counter())[voice] += shared
    return {speaker: counts.most_common(1)[0][0] for speaker, counts in overlap.items()}


def observe(
    diarizer: StreamingDiarizer,
    spans: list[tuple[float, float, str]],
    profiles: list[VoiceProfile],
    speakers: dict[int, SessionSpeaker],
    min_seconds: float,
) -> None:
    """After a pass: the names each session speaker would be shown with, at every threshold."""
    who = main_voice(diarizer, spans)
    heard = diarizer.voices()
    for threshold in THRESHOLDS:
        names = names_for(heard, profiles, MatchSettings(threshold=threshold, min_seconds=min_seconds))
        for voice in heard:
            if voice.speaker not in who:
                continue
            entry = speakers.setdefault(voice.speaker, SessionSpeaker(who[voice.speaker]))
            entry.voice = who[voice.speaker]
            name = names.get(voice.speaker)
            entry.final[threshold] = name
            if name:
                entry.ever.setdefault(threshold, set()).add(name)


def run(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    models = load_models("default")
    paths = voices()
    enrol_pool: dict[str, list[np.ndarray]] = {}
    session_pool: dict[str, list[np.ndarray]] = {}
    for voice in (*REMEMBERED, "reader", "JFK"):
        recordings = [decode_file(p) for p in sorted(paths[voice])]
        if voice in REMEMBERED:
            enrol_pool[voice], session_pool[voice] = recordings[::2], recordings[1::2]
        else:
            session_pool[voice] = recordings
    session_pool.update(call_voices())
    print("enrolling…", file=sys.stderr, flush=True)
    store = {voice: enrol(models, voice, enrol_pool[voice]) for voice in REMEMBERED}
    enrolled_seconds = {voice: round(p.seconds, 1) for voice, p in store.items()}
    outcomes = {t: Outcome() for t in THRESHOLDS}
    similarities: list[dict] = []
    everyone = sorted(session_pool)
    for index in range(args.sessions):
        cast = tuple(rng.sample(everyone, rng.choice((2, 3))))
        known_in_cast = [v for v in cast if v in REMEMBERED]
        forgotten = rng.choice(known_in_cast) if known_in_cast and rng.random() < 0.5 else None
        profiles = [p for v, p in store.items() if v != forgotten]
        parts: list[Part] = conversation(cast, session_pool, rng, args.seconds, 0.3)
        audio, spans = join(parts, rng, (0.2, 0.8))
        speakers: dict[int, SessionSpeaker] = {}

        on_pass = functools.partial(observe, spans=spans, profiles=profiles, speakers=speakers,
                                    min_seconds=args.min_seconds)
        diarizer = stream(models, audio, on_pass)
        known = {p.name for p in profiles}
        for voice in diarizer.voices():
            entry = speakers.get(voice.speaker)
            if entry is None:
                continue
            unit = unit_length(voice.vector)
            sims = {p.name: round(float(p.vector @ unit), 3) for p in profiles}
            similarities.append({"session": index, "voice": entry.voice, "seconds": voice.seconds,
                                 "to": sims})
        print(f"session {index}: cast {cast}, forgotten {forgotten}, speakers "
              f"{ {s: e.voice for s, e in speakers.items()} }", file=sys.stderr, flush=True)
        # One outcome per person: named right is their biggest session speaker's name at the end;
        # a wrong name or a stranger's name counts on any of their session speakers, at any pass.
        biggest: dict[str, tuple[float, SessionSpeaker]] = {}
        ever: dict[str, dict[float, set[str]]] = {}
        for voice in diarizer.voices():
            entry = speakers.get(voice.speaker)
            if entry is None:
                continue
            for threshold, names in entry.ever.items():
                ever.setdefault(entry.voice, {}).setdefault(threshold, set()).update(names)
            if voice.seconds > biggest.get(entry.voice, (-1.0, None))[0]:
                biggest[entry.voice] = (voice.seconds, entry)
        for voice, (_, entry) in biggest.items():
            for threshold, outcome in outcomes.items():
                given = ever.get(voice, {}).get(threshold, set())
                if voice in known:
                    outcome.remembered += 1
                    outcome.right += entry.final.get(threshold) == voice
                    outcome.wrong_name += bool(given - {voice})
                    outcome.never_named += not given
                else:
                    outcome.strangers += 1
                    outcome.stranger_named += bool(given)
    return {
        "config": {"sessions": args.sessions, "seed": args.seed, "seconds": args.seconds,
                   "min_seconds": args.min_seconds, "enrolled_seconds": enrolled_seconds},
        "table": [outcomes[t].row(t) for t in THRESHOLDS],
        "similarities": similarities,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profiles", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=40.0, help="length of a session")
    parser.add_argument("--min-seconds", type=float, default=MatchSettings().min_seconds)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "profiles.json")
    args = parser.parse_args(argv)
    results = run(args)
    write_results(args.out, results)
    print("\n| threshold | named right | wrong name | never named | stranger named | people |")
    print("|---|---|---|---|---|---|")
    for row in results["table"]:
        print(f"| {row['threshold']:.2f} | {row['named_right_rate']:.1%} | {row['wrong_name_rate']:.1%} | "
              f"{row['false_reject_rate']:.1%} | {row['stranger_named_rate']:.1%} ({row['stranger_named']}"
              f"/{row['strangers']}) | {row['remembered']} + {row['strangers']} |")
    print(json.dumps(results["config"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
