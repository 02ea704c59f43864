"""A real but untrained Argos language pair, built on the spot for tests and benchmarks.

No language-pair model is published in the package registries, so tests build one: a
SentencePiece tokenizer trained on a few sentences and a CTranslate2 Transformer with
random weights, zipped as an ``.argosmodel``. It exercises every step a real pair goes
through (unzip, load, tokenize, decode, detokenize); its output is noise, not a translation.
``--size base`` gives the dimensions of Argos's published pairs (6+6 layers, d=512), so
the benchmark's CPU cost is that of a real model of that size.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np

SIZES = {  # layers, d_model, heads, ffn, vocabulary
    "tiny": (1, 32, 2, 64, 120),
    "base": (6, 512, 8, 2048, 8000),
}
_TEXT = (
    "The conference will begin when the leader arrives. Please enter your password followed by the "
    "pound key. You are currently the only participant in the conference. That option is invalid, "
    "please try again. The person you are calling is not at their desk. Welcome to the directory. "
    "Press one to accept this call, or two to reject it. I am sorry, that is not a valid extension. "
    "La conférence débutera dès l'arrivée du responsable. Composez votre mot de passe suivi du dièse. "
    "Vous êtes présentement le seul participant dans cette conférence. Cette option est invalide. "
    "Por favor espere mientras le comunico con esa extensión. El intento de estacionamiento ha fallado. "
)


def train_sentencepiece(vocab_size: int) -> bytes:
    import sentencepiece as spm

    sentences = [s.strip() + "." for s in _TEXT.split(".") if s.strip()]
    # The corpus is tiny: repeat it with word-level variants so the trainer can fill the vocabulary.
    corpus = sentences + [" ".join(reversed(s.split())) for s in sentences] + [s.lower() for s in sentences]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus * 4),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="unigram",
        hard_vocab_limit=False,
        character_coverage=1.0,
        minloglevel=2,
    )
    return model.getvalue()


def _random_spec(layers: int, d: int, heads: int, ffn: int, vocabulary: list[str], seed: int):
    from ctranslate2 import specs

    rng = np.random.default_rng(seed)

    def rand(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    def norm(spec) -> None:
        spec.gamma = np.ones(d, dtype=np.float32)
        spec.beta = np.zeros(d, dtype=np.float32)

    def linear(spec, rows: int, cols: int) -> None:
        spec.weight = rand(rows, cols)
        spec.bias = np.zeros(rows, dtype=np.float32)

    def ffn_block(spec) -> None:
        norm(spec.layer_norm)
        linear(spec.linear_0, ffn, d)
        linear(spec.linear_1, d, ffn)

    def self_attention(spec) -> None:
        norm(spec.layer_norm)
        linear(spec.linear[0], 3 * d, d)
        linear(spec.linear[1], d, d)

    spec = specs.TransformerSpec.from_config(layers, heads)
    n = len(vocabulary)
    spec.encoder.embeddings[0].weight = rand(n, d)
    norm(spec.encoder.layer_norm)
    for layer in spec.encoder.layer:
        self_attention(layer.self_attention)
        ffn_block(layer.ffn)
    spec.decoder.embeddings.weight = rand(n, d)
    norm(spec.decoder.layer_norm)
    linear(spec.decoder.projection, n, d)
    for layer in spec.decoder.layer:
        self_attention(layer.self_attention)
        norm(layer.attention.layer_norm)
        linear(layer.attention.linear[0], d, d)
        linear(layer.attention.linear[1], 2 * d, d)
        linear(layer.attention.linear[2], d, d)
        ffn_block(layer.ffn)
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    return spec


def build_argosmodel(
    out: Path, source: str, target: str, *, size: str = "tiny", seed: int = 0, version: str = "1.0"
) -> Path:
    """Write ``out`` (an .argosmodel zip) for ``source``→``target``; return it."""
    import sentencepiece as spm
    from ctranslate2.converters import Converter

    layers, d, heads, ffn, vocab_size = SIZES[size]
    sp_model = train_sentencepiece(vocab_size)
    processor = spm.SentencePieceProcessor(model_proto=sp_model)
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    spec = _random_spec(layers, d, heads, ffn, vocabulary, seed)

    class RandomConverter(Converter):
        def _load(self):
            return spec

    top = f"translate-{source}_{target}-{version.replace('.', '_')}"
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / top
        root.mkdir()
        RandomConverter().convert(str(root / "model"), quantization="int8" if size != "tiny" else None)
        (root / "sentencepiece.model").write_bytes(sp_model)
        metadata = {
            "package_version": version, "argos_version": "1.0", "from_code": source, "from_name": source,
            "to_code": target, "to_name": target, "type": "translate",
        }
        (root / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
        (root / "README.md").write_text("Random weights: for Sayline's tests only.\n", encoding="utf-8")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(root.rglob("*")):
                archive.write(file, file.relative_to(scratch).as_posix())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("--size", choices=SIZES, default="tiny")
    args = parser.parse_args()
    print(build_argosmodel(args.out, args.source, args.target, size=args.size))


if __name__ == "__main__":
    main()
