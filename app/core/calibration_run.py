"""Timing the installed speech models on live-sized buffers of the bundled sample.

Calibration must measure what live captioning will cost here, so each model is loaded by a
:class:`TranscriptionEngine` (the device a session would get, its GPU fallback, its thread
count) and decodes through :meth:`TranscriptionEngine.decode`, the live path's own call:
short encoder window, greedy, word timestamps, the token budget. The buffers are the first
20, 40, 60 and 80 % of the sample, as a live buffer grows: 2.2–8.8 s of JFK, 5.5 s on average,
like the buffers a stream decodes (bench.stream's 11 long English clips: 404 decodes, mean
5.6 s, quartiles 3.1 / 5.3 / 7.8 s). One warm-up decode, then each buffer twice: a few
seconds a model on two cores. Cheap models go first, and a model whose estimate
from those measured so far is hopeless is not loaded at all.

The last result is kept in the data dir, so the dialog can show it without measuring again.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import numpy as np

from app.core.calibration import Candidate, Choice, Timing, choose, clearly_too_slow
from app.core.decoding import SAMPLE_RATE, decode_file
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.model_catalog import CATALOG
from app.core.model_download import installed_models
from app.paths import data_dir, demo_sample
from app.private_files import private_dir, replace_private

log = logging.getLogger(__name__)

WINDOW_FRACTIONS = (0.2, 0.4, 0.6, 0.8)
REPEATS = 2
FILE_NAME = "calibration.json"

Progress = Callable[[float, str], None]
"""Called with (fraction done, 0–1; a sentence saying what is being timed)."""


class CalibrationCancelled(Exception):
    """The user cancelled; nothing was saved."""


@dataclass(frozen=True)
class Measurement:
    timings: tuple[Timing, ...]
    measured_at: str  # ISO 8601, local time with its offset
    skipped: tuple[str, ...] = ()  # installed, but estimated too slow to be worth loading


def live_windows(audio: np.ndarray) -> list[np.ndarray]:
    """The sample as a live buffer sees it while it grows: cut at each of WINDOW_FRACTIONS."""
    return [audio[: round(len(audio) * fraction)] for fraction in WINDOW_FRACTIONS]


def time_decodes(
    decode: Callable[[np.ndarray], object],
    windows: Sequence[np.ndarray],
    repeats: int = REPEATS,
    after_each: Callable[[], None] = lambda: None,
) -> list[float]:
    """Seconds one decode of each window takes: its median over ``repeats``.

    The first decode of a freshly loaded model allocates its buffers (and on a GPU may
    compile kernels), so one warm-up decode of the longest window goes untimed.
    """
    decode(windows[-1])
    after_each()
    per_window: list[list[float]] = [[] for _ in windows]
    for _ in range(repeats):
        for took, window in zip(per_window, windows, strict=True):
            started = time.perf_counter()
            decode(window)
            took.append(time.perf_counter() - started)
            after_each()
    return [statistics.median(took) for took in per_window]


def measure(
    candidates: Sequence[Candidate],
    *,
    device: str = "auto",
    cpu_threads: int = 0,
    repeats: int = REPEATS,
    sample: Path | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Measurement:
    """Time each candidate, cheapest first; raises CalibrationCancelled when ``cancelled()``.

    Blocking and CPU-heavy (it competes with a live session for the same cores, and anything
    else running slows it as it would slow live captions): run it on a worker thread, with no
    stream captioning. A model that cannot be loaded raises ModelError, a sentence to show.
    """
    audio = decode_file(sample or demo_sample())
    windows = live_windows(audio)
    ordered = sorted(candidates, key=lambda c: c.relative_cost)
    steps_per_model = 1 + repeats * len(windows)
    total = steps_per_model * len(ordered)
    done = 0
    timings: list[Timing] = []
    skipped: list[str] = []

    def advance(message: str, steps: int = 1) -> None:
        nonlocal done
        if cancelled and cancelled():
            raise CalibrationCancelled
        done += steps
        if progress:
            progress(done / total, message)

    for index, candidate in enumerate(ordered, 1):
        if clearly_too_slow(candidate, ordered, timings):
            skipped.append(candidate.name)
            advance(f"Skipping {candidate.name}: far too slow for live captions here.", steps_per_model)
            continue
        message = f"Timing {candidate.name} ({index} of {len(ordered)})…"
        advance(message, 0)  # before the load: a large model takes seconds to load
        config = EngineConfig(model=candidate.name, language="en", device=device, cpu_threads=cpu_threads)
        timings.append(time_engine(config, windows, repeats, partial(advance, message)))
    measured_at = datetime.now().astimezone().isoformat(timespec="seconds")
    return Measurement(tuple(timings), measured_at, tuple(skipped))


def time_engine(
    config: EngineConfig, windows: Sequence[np.ndarray], repeats: int = REPEATS,
    after_each: Callable[[], None] = lambda: None,
) -> Timing:
    """Load ``config``'s model as a session would and time its live decodes of ``windows``."""
    engine = TranscriptionEngine(config)
    try:
        took = time_decodes(lambda window: engine.decode(window, 0.0, "en", ""), windows, repeats, after_each)
    finally:
        engine.close()
    return timing(config.model, engine, windows, took)


def timing(
    model: str, engine: TranscriptionEngine, windows: Sequence[np.ndarray], took: Sequence[float]
) -> Timing:
    """The record of one model's decodes of ``windows``: mean buffer length, mean decode time."""
    audio_s = statistics.fmean(len(w) for w in windows) / SAMPLE_RATE
    return Timing(model, engine.device, engine.compute_type, audio_s, statistics.fmean(took))


def installed_candidates() -> list[Candidate]:
    """The catalogue's models that are on this machine, ready to load."""
    installed = set(installed_models())
    return [model for model in CATALOG if model.name in installed]


def calibrate(
    language: str | None,
    *,
    device: str = "auto",
    cpu_threads: int = 0,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[Measurement, Choice]:
    """Measure every installed model, keep the result, and choose for ``language``."""
    measurement = measure(
        installed_candidates(), device=device, cpu_threads=cpu_threads, progress=progress, cancelled=cancelled
    )
    save(measurement)
    return measurement, choose_from(measurement, language)


def choose_from(measurement: Measurement, language: str | None) -> Choice:
    """The choice over the whole catalogue: models not installed are estimated from those measured."""
    return choose(CATALOG, measurement.timings, language, installed_models())


def results_path() -> Path:
    return data_dir() / FILE_NAME


def save(measurement: Measurement, path: Path | None = None) -> Path:
    """Write the measurement as JSON, whole or not at all (a temp file renamed over the last)."""
    path = path or results_path()
    private_dir(path.parent, top=data_dir())
    replace_private(path, json.dumps(asdict(measurement), indent=1))
    return path


def load_last(path: Path | None = None) -> Measurement | None:
    """The last saved measurement; None when there is none or it cannot be read."""
    path = path or results_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Measurement(
            timings=tuple(Timing(**timing) for timing in raw["timings"]),
            measured_at=str(raw["measured_at"]),
            skipped=tuple(raw.get("skipped", ())),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        log.warning("the last calibration in %s could not be read (%s); measure again", path, exc)
        return None
