"""Real-time factor per model on live-sized buffers here, and the model calibration picks.

    .venv/bin/python -m bench.calibration
    .venv/bin/python -m bench.calibration --repeats 5 --out /tmp/calibration.json

tiny.en and base decode what the app's calibration decodes, the way it does
(``app/core/calibration_run.py``: the first 20–80 % of the bundled sample, decoded through
``TranscriptionEngine.decode``, a warm-up, each window's median), the rows taking turns on
every window so that other load on the machine falls on all of them alike.

No real Whisper small is reachable offline (``../shared/models.md``), so small's *compute
cost* is measured on a small-shaped CTranslate2 model with random weights (transformers'
``WhisperConfig`` with small's dimensions, int8 like the app's CPU models, built once into
``build/calibration/``). Random weights would babble to the token budget, so that model is
forced to write exactly as many tokens as base wrote on each window (its end-of-text token
suppressed, its length capped), and base's tokens are handed on to the rest of
faster-whisper's path (segments, word alignment), so both do the same work. Base goes
through the same forced path as a control: if it matches base's real timing, the proxy
measures what a real small would cost. Building it needs the test venv's torch plus
transformers, which no extra installs (it would end up in installer builds made from the same
venv): ``.venv/bin/pip install transformers==5.25.0`` once, and uninstall it before packaging.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from app.core.calibration import Choice, Timing, caption_delay_s, choose
from app.core.calibration_run import REPEATS, live_windows, timing
from app.core.decoding import SAMPLE_RATE, decode_file
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.model_catalog import CATALOG
from app.core.models import resolve_model
from app.paths import demo_sample
from bench.output import write_results

ROOT = Path(__file__).resolve().parent.parent
SMALL_SHAPED = ROOT / "build" / "calibration" / "small-shaped"
# openai/whisper small: 768 wide, 12 + 12 layers of 12 heads, the multilingual vocabulary.
SMALL_DIMENSIONS = {
    "d_model": 768, "encoder_layers": 12, "decoder_layers": 12, "encoder_attention_heads": 12,
    "decoder_attention_heads": 12, "encoder_ffn_dim": 3072, "decoder_ffn_dim": 3072,
    "vocab_size": 51865, "num_mel_bins": 80, "max_source_positions": 1500, "max_target_positions": 448,
}
# small's word-timing heads (openai/whisper; CTranslate2's converter has the same table)
SMALL_ALIGNMENT_HEADS = [[5, 3], [5, 9], [8, 0], [8, 4], [8, 7], [8, 8], [9, 0], [9, 7], [9, 9], [10, 5]]
PROXY_LABEL = "small-shaped random weights: compute cost only"

Recorded = dict[int, list[list[int]]]  # window length in samples -> tokens of each generate call


def build_small_shaped(base: Path, target: Path = SMALL_SHAPED) -> Path:
    """A CTranslate2 model with small's shape and random weights, base's vocabulary and tokenizer."""
    if (target / "model.bin").is_file():
        return target
    import ctranslate2
    import torch

    try:
        from transformers import WhisperConfig, WhisperForConditionalGeneration
    except ImportError:
        sys.exit("bench.calibration: the small-shaped model needs transformers: "
                 ".venv/bin/pip install transformers==5.25.0 (see this module's docstring)")

    source = target.with_name(target.name + "-transformers")
    shutil.rmtree(source, ignore_errors=True)
    torch.manual_seed(0)
    WhisperForConditionalGeneration(WhisperConfig(**SMALL_DIMENSIONS)).save_pretrained(source)
    shutil.copy(base / "tokenizer.json", source / "tokenizer.json")
    (source / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "PreTrainedTokenizerFast"}))
    converter = ctranslate2.converters.TransformersConverter(str(source))
    converter.convert(str(target), quantization="int8", force=True)
    # Base's token lists (same vocabulary), small's alignment heads; faster-whisper reads the tokenizer here.
    config = json.loads((base / "config.json").read_text())
    config["alignment_heads"] = SMALL_ALIGNMENT_HEADS
    (target / "config.json").write_text(json.dumps(config))
    shutil.copy(base / "tokenizer.json", target / "tokenizer.json")
    shutil.rmtree(source)
    return target


def record_tokens(engine: TranscriptionEngine, windows: list[np.ndarray]) -> Recorded:
    """The tokens each of the model's generate calls wrote, for each window, greedy as live."""
    model = engine._model
    recorded: Recorded = {}
    calls: list[list[int]] = []

    def generate(*args: Any) -> Any:
        result = type(model).generate_with_fallback(model, *args)
        calls.append(list(result[0].sequences_ids[0]))
        return result

    model.generate_with_fallback = generate
    try:
        for window in windows:
            calls.clear()
            engine.decode(window, 0.0, "en", "")
            recorded[len(window)] = list(calls)
    finally:
        del model.generate_with_fallback
    return recorded


def forced_decoder(engine: TranscriptionEngine, recorded: Recorded) -> Callable[[np.ndarray], object]:
    """``engine.decode`` writing exactly the recorded number of tokens, handing on the recorded ones.

    One step more than the tokens, the step that wrote end-of-text, unless the recorded decode
    stopped at its cap. CTranslate2 4.8.5 writes at most ``max_length // 2`` tokens for Whisper
    (measured: 32 gave 16, 60 gave 30), and faster-whisper asks for the prompt plus
    ``max_new_tokens``, so the cap is set through that.
    """
    model = engine._model
    script: list[list[int]] = []

    def generate(encoder_output: Any, prompt: list[int], tokenizer: Any, options: Any) -> Any:
        tokens = script.pop(0)
        steps = min(len(tokens) + 1, (len(prompt) + options.max_new_tokens) // 2)
        suppress = [*options.suppress_tokens, tokenizer.eot]
        forced = replace(options, suppress_tokens=suppress, max_new_tokens=2 * steps - len(prompt))
        result, logprob, temperature, ratio = type(model).generate_with_fallback(
            model, encoder_output, prompt, tokenizer, forced
        )
        assert len(result.sequences_ids[0]) == steps, "the forced decode wrote another length"
        handed_on = SimpleNamespace(sequences_ids=[tokens], no_speech_prob=result.no_speech_prob)
        return handed_on, logprob, temperature, ratio

    def decode(window: np.ndarray) -> object:
        script[:] = recorded[len(window)]
        model.generate_with_fallback = generate
        try:
            return engine.decode(window, 0.0, "en", "")
        finally:
            del model.generate_with_fallback

    return decode


def time_interleaved(
    decoders: dict[str, Callable[[np.ndarray], object]], windows: list[np.ndarray], repeats: int
) -> dict[str, list[float]]:
    """Each decoder's median seconds per window, the decoders taking turns on every window.

    Taking turns spreads whatever else the machine does over every row alike, so the rows
    compare with each other even when the absolute figures move with the load.
    """
    for decode in decoders.values():
        decode(windows[-1])  # warm-up, as calibration's time_decodes
    took: dict[str, list[list[float]]] = {name: [[] for _ in windows] for name in decoders}
    for _ in range(repeats):
        for index, window in enumerate(windows):
            for name, decode in decoders.items():
                started = time.perf_counter()
                decode(window)
                took[name][index].append(time.perf_counter() - started)
    return {name: [statistics.median(t) for t in per_window] for name, per_window in took.items()}


def row(label: str, weights: str, result: Timing, took: list[float], tokens: list[int]) -> dict[str, Any]:
    return {
        "model": label, "weights": weights, **asdict(result), "rtf": result.rtf,
        "per_window_s": took, "tokens_per_window": tokens,
        "caption_delay_s": caption_delay_s(result.decode_s, result.device),
    }


def print_table(rows: list[dict[str, Any]], windows_s: list[float]) -> None:
    cuts = " / ".join(f"{w:.2f}" for w in windows_s)
    print(f"\nlive-sized buffers of {demo_sample().name}: {cuts} s (mean {rows[0]['audio_s']:.2f} s)")
    print(f"{'model':<8} {'weights':<62} {'device':<11} {'decode s':>8} {'RTF':>6} {'delay s':>7}  "
          "per window (s)")
    for r in rows:
        per = " / ".join(f"{t:.3f}" for t in r["per_window_s"])
        device = f"{r['device']} {r['compute_type']}"
        print(f"{r['model']:<8} {r['weights']:<62} {device:<11} {r['decode_s']:>8.3f} {r['rtf']:>6.3f} "
              f"{r['caption_delay_s']:>7.2f}  {per}")


def print_choice(title: str, choice: Choice) -> dict[str, Any]:
    print(f"\n{title}\n  pick: {choice.pick}{' (download)' if choice.download else ''}: {choice.summary}")
    for verdict in choice.verdicts:
        print(f"  - {verdict.why}")
    return {"pick": choice.pick, "download": choice.download, "summary": choice.summary,
            "why": [v.why for v in choice.verdicts]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calibration", description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto", help="auto (as the app), cpu or cuda")
    parser.add_argument("--repeats", type=int, default=REPEATS + 1, help="timed decodes of each window")
    parser.add_argument("--language", default="en", help="the captions' language, for the pick")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "calibration.json")
    args = parser.parse_args(argv)

    small_folder = build_small_shaped(resolve_model("base"))  # once; before the clock starts
    windows = live_windows(decode_file(demo_sample()))
    windows_s = [len(w) / SAMPLE_RATE for w in windows]
    config = EngineConfig(model="tiny.en", language="en", device=args.device)
    engines = {
        name: TranscriptionEngine(replace(config, model=model))
        for name, model in (("tiny.en", "tiny.en"), ("base", "base"), ("small", str(small_folder)))
    }
    try:
        recorded = record_tokens(engines["base"], windows)
        tokens = [sum(len(call) for call in recorded[len(w)]) for w in windows]
        load_before = os.getloadavg()
        took = time_interleaved({
            "tiny.en": partial(engines["tiny.en"].decode, offset=0.0, language="en", prompt=""),
            "base": partial(engines["base"].decode, offset=0.0, language="en", prompt=""),
            "base forced": forced_decoder(engines["base"], recorded),
            "small forced": forced_decoder(engines["small"], recorded),
        }, windows, args.repeats)
        load_after = os.getloadavg()
        tiny = timing("tiny.en", engines["tiny.en"], windows, took["tiny.en"])
        base = timing("base", engines["base"], windows, took["base"])
        control = timing("base", engines["base"], windows, took["base forced"])
        small = timing("small", engines["small"], windows, took["small forced"])
    finally:
        for engine in engines.values():
            engine.close()
    rows = [
        row("tiny.en", "real", tiny, took["tiny.en"], []),
        row("base", "real", base, took["base"], tokens),
        row("base", "real, forced length (control)", control, took["base forced"], tokens),
        row("small", f"{PROXY_LABEL}, forced length", small, took["small forced"], tokens),
    ]

    print_table(rows, windows_s)
    catalogue_cost = {m.name: m.relative_cost for m in CATALOG}
    print(f"\nforced-length control: base {control.decode_s / base.decode_s:.2f}× its real timing; "
          f"small / base, both forced: {small.decode_s / control.decode_s:.2f}× "
          f"(the catalogue's estimate: {catalogue_cost.get('small', math.nan):g}×)")
    print(f"load average (1 min): {load_before[0]:.2f} before, {load_after[0]:.2f} after; "
          f"{os.cpu_count()} cores")
    installed = {"tiny.en", "base"}
    picks = {
        "with_small_proxy": print_choice(
            f"calibration's pick for '{args.language}', small timed by its proxy:",
            choose(CATALOG, (tiny, base, small), args.language, installed),
        ),
        "as_the_app_measures": print_choice(
            f"calibration's pick for '{args.language}' as the app measures it "
            "(tiny.en and base timed, the rest estimated):",
            choose(CATALOG, (tiny, base), args.language, installed),
        ),
    }
    return write_results(args.out, {
        "sample": demo_sample().name, "windows_s": windows_s, "repeats": args.repeats, "rows": rows,
        "load_average": {"before": load_before, "after": load_after}, "cpu_count": os.cpu_count(),
        "picks": picks,
    })


if __name__ == "__main__":
    sys.exit(main())
