"""``sayline --selftest``: prove an installed build can caption real speech, offline.

An installer can look complete and still miss a shared library, the VAD model or the speech
model; only running the whole path shows it. This decodes the bundled JFK sample, streams it
through the same engine the app uses (model, Silero VAD, streaming policy) and checks that
the words he said come out. Exit 0 only then, so a build script or a user can trust it.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

from app.core.choices import StreamChoices
from app.core.decoding import decode_file
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.feed import stream_samples
from app.paths import demo_sample

EXPECTED = ("what your country can do for you", "what you can do for your country")
"""What JFK says in the bundled sample, in words every working model gets right.

The famous "ask not" is left out on purpose: base, streamed, hears "asked not" there.
"""


class SelftestFailed(Exception):
    """The build could not caption the sample; ``str()`` is one sentence saying what went wrong."""


def normalize(text: str) -> str:
    """Lower case, punctuation dropped, single spaces: so "Ask not, what…" matches the phrase."""
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def transcribe_sample(model: str, sample: Path) -> str:
    """The committed text for ``sample``, streamed as fast as the engine allows."""
    samples = decode_file(sample)
    engine = TranscriptionEngine(EngineConfig(model=model, language="en"))
    try:
        final = asyncio.run(stream_samples(engine, samples, StreamChoices(language="en")))
    finally:
        engine.close()
    if final.error:
        raise SelftestFailed(f"Streaming the sample failed: {final.error}")
    return final.text


def run_selftest(model: str, sample: Path | None = None, expected: tuple[str, ...] = EXPECTED) -> str:
    """Transcribe ``sample`` (default: the bundled JFK clip) with ``model``; return the text.

    Raises :class:`SelftestFailed` unless every expected phrase is in it.
    """
    sample = sample or demo_sample()
    if not sample.is_file():
        raise SelftestFailed(f"The bundled speech sample is missing ({sample}); reinstall Sayline.")
    started = time.monotonic()
    text = transcribe_sample(model, sample)
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
    try:
        run_selftest(model)
    except SelftestFailed as exc:
        print(f"sayline: selftest failed: {exc}", file=sys.stderr)
        return 1
    return 0
