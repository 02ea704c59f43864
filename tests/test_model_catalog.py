"""The catalogue of downloadable models: names faster-whisper knows, sane files, honest pins."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest
from faster_whisper.utils import _MODELS as FASTER_WHISPER_REPOS

from app.core.model_catalog import CATALOG, find_model
from app.core.model_download import model_dir
from app.core.model_errors import ModelError
from app.core.models import resolve_model

NAMES = [
    "tiny", "tiny.en", "base", "base.en", "distil-small.en", "small", "small.en", "medium", "medium.en",
    "distil-large-v3", "large-v3-turbo", "large-v3",
]


def test_the_catalogue_has_the_models_people_use_under_faster_whispers_own_names():
    assert [model.name for model in CATALOG] == NAMES
    for model in CATALOG:
        assert FASTER_WHISPER_REPOS[model.name] == model.repo, "the repository faster-whisper itself uses"
        assert model_dir(model.name).name == model.name


def test_every_model_lists_the_files_a_ctranslate2_whisper_folder_needs():
    for model in CATALOG:
        names = [file.name for file in model.files]
        assert len(set(names)) == len(names)
        assert {"config.json", "model.bin", "tokenizer.json"} <= set(names)
        vocabulary = {"vocabulary.txt", "vocabulary.json"} & set(names)
        assert len(vocabulary) == 1
        assert ("preprocessor_config.json" in names) == (vocabulary == {"vocabulary.json"})


def test_sizes_costs_and_ranks_are_consistent():
    by_name = {model.name: model for model in CATALOG}
    assert [m.name for m in CATALOG if m.bundled] == ["tiny.en", "base"]
    assert by_name["base"].relative_cost == 1.0
    ladder = ["tiny", "base", "small", "medium", "large-v3"]
    for smaller, larger in itertools.pairwise(ladder):
        for field in ("size_bytes", "parameters_m", "relative_cost", "accuracy_rank"):
            assert getattr(by_name[smaller], field) < getattr(by_name[larger], field), (smaller, field)
    for lighter in ("large-v3-turbo", "distil-large-v3"):
        assert by_name[lighter].relative_cost < by_name["large-v3"].relative_cost
    assert by_name["distil-small.en"].relative_cost < by_name["small.en"].relative_cost
    assert len({m.accuracy_rank for m in CATALOG}) == len(CATALOG)
    for model in CATALOG:
        assert model.english_only == (model.name.endswith(".en") or model.name == "distil-large-v3")
        twin = by_name.get(model.name.removesuffix(".en"))
        if model.english_only and twin and twin is not model:
            assert model.accuracy_rank > twin.accuracy_rank, "better in English than its multilingual twin"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["tiny.en", "base"])
def test_the_pinned_checksums_are_those_of_the_bundled_copies(name):
    model = find_model(name)
    folder = resolve_model(name)
    assert model.size_bytes == sum(file.size or 0 for file in model.files)
    for file in model.files:
        assert (folder / file.name).stat().st_size == file.size, file.name
        assert sha256(folder / file.name) == file.sha256, file.name


def test_only_the_bundled_models_are_pinned():
    for model in CATALOG:
        pinned = [file.sha256 is not None for file in model.files]
        assert all(pinned) if model.bundled else not any(pinned), model.name


def test_an_unknown_name_is_a_sentence_listing_the_known_ones():
    with pytest.raises(ModelError, match=r"^No downloadable model is called 'huge'; the catalogue has: tiny"):
        find_model("huge")
