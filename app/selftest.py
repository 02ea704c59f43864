"""``sayline --selftest``: prove an installed build can caption real speech, offline.

An installer can look complete and still miss a shared library, the VAD model, the speech
model or the speaker models; only running the whole path shows it. This decodes the bundled
JFK sample, streams it through the same engine the app uses (model, Silero VAD, streaming
policy) and checks that the words he said come out; then it streams the bundled two-voice
sample with speakers on and checks that the two voices get two labels, each on its own
words. Exit 0 only then, so a build script or a user can trust it.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

from app.core.choices import StreamChoices
from app.core.decoding import decode_file
from app.core.diarization import DiarizationOptions, unavailable_reason
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.feed import stream_samples
from app.core.frontdata import FrontData
from app.paths import demo_sample, resources_dir

EXPECTED = ("what your country can do for you", "what you can do for your country")
"""What JFK says in the bundled sample, in words every working model gets right.

The famous "ask not" is left out on purpose: base, streamed, hears "asked not" there.
"""

TWO_VOICES = ("phone number", "leisure to consider", "unidentified calls")
"""One phrase from each part of two_voices.wav: a woman, a man, the woman again."""


class SelftestFailed(Exception):
    """The build could not caption the sample; ``str()`` is one sentence saying what went wrong."""


def normalize(text: str) -> str:
    """Lower case, punctuation dropped, single spaces: so "Ask not, what…" matches the phrase."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def stream_sample(engine: TranscriptionEngine, sample: Path, choices: StreamChoices) -> FrontData:
    """The final update for ``sample``, streamed as fast as the engine allows."""
    final = asyncio.run(stream_samples(engine, decode_file(sample), choices))
    if final.error:
        raise SelftestFailed(f"Streaming {sample.name} failed: {final.error}")
    return final


def speaker_of_phrases(final: FrontData, phrases: tuple[str, ...]) -> dict[str, int]:
    """The speaker of each phrase's first word, from the committed lines; phrases not heard are left out."""
    words = [(word, line.speaker) for line in final.lines for word in normalize(line.text).split()]
    found = {}
    for phrase in phrases:
        wanted = normalize(phrase).split()
        for index in range(len(words) - len(wanted) + 1):
            if [word for word, _ in words[index : index + len(wanted)]] == wanted:
                found[phrase] = words[index][1]
                break
    return found


def check_speakers(engine: TranscriptionEngine) -> dict[str, int]:
    """Stream the two-voice sample with speakers on; the two voices must get two labels."""
    if reason := unavailable_reason():
        raise SelftestFailed(reason)
    sample = resources_dir() / "samples" / "two_voices.wav"
    if not sample.is_file():
        raise SelftestFailed(f"The bundled two-voice sample is missing ({sample}); reinstall Sayline.")
    final = stream_sample(engine, sample, StreamChoices(language="en", diarization=DiarizationOptions()))
    speakers = speaker_of_phrases(final, TWO_VOICES)
    labels = {line.speaker for line in final.lines if not line.is_silence}
    print(f"selftest: {sample.name} with speakers: {len(labels)} speaker(s); {speakers}", flush=True)
    if missing := [phrase for phrase in TWO_VOICES if phrase not in speakers]:
        raise SelftestFailed(f"The {engine.config.model} model did not hear {missing[0]!r} in {sample.name}.")
    woman, man, woman_again = (speakers[phrase] for phrase in TWO_VOICES)
    if len(labels) != 2 or woman != woman_again or woman == man:
        raise SelftestFailed(
            f"Speaker diarization did not tell the two voices of {sample.name} apart "
            f"({len(labels)} labels: {speakers}), so this build's speaker models are not working."
        )
    return speakers


def run_selftest(
    engine: TranscriptionEngine, sample: Path | None = None, expected: tuple[str, ...] = EXPECTED
) -> str:
    """Transcribe ``sample`` (default: the bundled JFK clip) with ``engine``; return the text.

    Raises :class:`SelftestFailed` unless every expected phrase is in it.
    """
    model = engine.config.model
    sample = sample or demo_sample()
    if not sample.is_file():
        raise SelftestFailed(f"The bundled speech sample is missing ({sample}); reinstall Sayline.")
    started = time.monotonic()
    text = stream_sample(engine, sample, StreamChoices(language="en")).text
    elapsed = time.monotonic() - started
    print(f"selftest: {sample.name} with the {model} model in {elapsed:.1f} s:", flush=True)
    print(text or "(no words)", flush=True)
    missing = [phrase for phrase in expected if normalize(phrase) not in normalize(text)]
    if missing:
        raise SelftestFailed(
            f"The {model} model did not hear {missing[0]!r} in {sample.name}, so this build is not working."
        )
    print("selftest: OK", flush=True)
    return text


def main(model: str) -> int:
    """The CLI's entry: 0 when the sample comes out right, 1 with one sentence on stderr if not."""
    engine = TranscriptionEngine(EngineConfig(model=model, language="en"))  # one load serves both checks
    try:
        run_selftest(engine)
        check_speakers(engine)
        print("selftest: speakers OK", flush=True)
    except SelftestFailed as exc:
        print(f"sayline: selftest failed: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    return 0
