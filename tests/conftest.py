"""Shared fixtures: the real tiny.en engine, real speech from ../shared/eval, streaming helpers."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.core.decoding import decode_file
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.frontdata import FrontData
from app.core.processor import AudioProcessor, ProcessorConfig
from bench.metrics import align, normalize_text
from tests.pulse import PACKAGES, PulseServer, missing_tools, private_pulse_server

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"


def eval_dir(name: str) -> Path:
    folder = EVAL / name
    if not (folder / "manifest.jsonl").is_file():
        pytest.fail(
            f"Test audio is missing: {folder}/manifest.jsonl. The tests need the project's "
            "shared/ folder beside the checkout (../shared/eval)."
        )
    return folder


def manifest(name: str) -> dict[str, dict]:
    folder = eval_dir(name)
    rows = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line]
    return {row["audio"]: row for row in rows}


def clip(set_name: str, audio: str) -> np.ndarray:
    return decode_file(eval_dir(set_name) / audio)


@pytest.fixture(autouse=True, scope="session")
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory):
    """Prepared models and logs go to a temp dir, never the developer's real data dir."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SAYLINE_DATA_DIR", str(tmp_path_factory.mktemp("sayline-data")))
    yield
    mp.undo()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty data dir for one test (models, language pairs, sessions, logs)."""
    monkeypatch.setenv("SAYLINE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(scope="session")
def tiny_engine() -> TranscriptionEngine:
    engine = TranscriptionEngine(EngineConfig(model="tiny.en", language="en"))
    yield engine
    engine.close()


async def stream_bytes(
    engine: TranscriptionEngine,
    data: bytes,
    chunk: int = 3200,
    config: ProcessorConfig | None = None,
) -> list[FrontData]:
    """Feed ``data`` in ``chunk``-byte pieces as fast as accepted; return every update."""
    processor = AudioProcessor(engine, config or ProcessorConfig(live=False))
    updates: list[FrontData] = []

    async def feed() -> None:
        for offset in range(0, len(data), chunk):
            await processor.process_audio(data[offset:offset + chunk])
        await processor.process_audio(b"")

    feeder = asyncio.create_task(feed())
    async for update in processor.results():
        updates.append(update)
    await feeder
    await processor.cleanup()
    return updates


def corpus_wer(references: list[str], hypotheses: list[str]) -> float:
    """Edits over reference words across clips, normalised as the bench scores them."""
    pairs = zip(references, hypotheses, strict=True)
    alignments = [align(normalize_text(ref), normalize_text(hyp)) for ref, hyp in pairs]
    return sum(a.edits for a in alignments) / max(1, sum(a.ref_words for a in alignments))


@pytest.fixture(scope="session")
def pulse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    if not sys.platform.startswith("linux"):
        pytest.skip("the real-audio tests need Linux with PulseAudio")
    missing = missing_tools()
    if missing:
        pytest.fail(f"{', '.join(missing)} not found; install the Debian packages {PACKAGES}.")
    with private_pulse_server(tmp_path_factory.mktemp("pulse")) as server:
        yield server


@pytest.fixture
def pulse(pulse_server: PulseServer) -> PulseServer:
    pulse_server.reset()
    return pulse_server


@pytest.fixture
def players(pulse: PulseServer) -> Iterator[list]:
    """Real players (tests/audio/players.py) a test starts by ``players.append``, stopped after it."""
    started: list = []
    yield started
    for player in started:
        player.stop()


@pytest.fixture(scope="session")
def speech_file() -> Path:
    """Real speech to play through the sound server (JFK, 11 s, speaking from the start)."""
    return eval_dir("en") / "jfk.wav"


def run(coro):
    return asyncio.run(coro)
