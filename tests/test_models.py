import shutil

import pytest

from app.core.choices import StreamChoices
from app.core.engine import EngineConfig, TranscriptionEngine
from app.core.model_errors import ModelError
from app.core.models import resolve_model
from app.paths import data_dir
from tests.conftest import clip


def test_tiny_en_comes_from_its_package():
    folder = resolve_model("tiny.en")
    assert (folder / "model.bin").is_file() and (folder / "config.json").is_file()


def test_base_is_joined_once_with_progress_and_a_size_check(tmp_path, monkeypatch):
    monkeypatch.setenv("SAYLINE_DATA_DIR", str(tmp_path))  # a first run, whatever ran before
    calls: list[tuple[int, int]] = []
    folder = resolve_model("base", progress=lambda done, total: calls.append((done, total)))
    assert folder.parent.parent == data_dir()
    size = (folder / "model.bin").stat().st_size
    assert calls and calls[-1] == (size, size)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert not (folder / "model.bin.partial").exists()
    calls.clear()
    assert resolve_model("base", progress=lambda d, t: calls.append((d, t))) == folder
    assert calls == [], "a prepared model is reused, not joined again"
    # A damaged join (wrong size) is detected and redone.
    with (folder / "model.bin").open("r+b") as damaged:
        damaged.truncate(size // 3)
    resolve_model("base")
    assert (folder / "model.bin").stat().st_size == size


def test_base_model_loads_and_is_multilingual():
    engine = TranscriptionEngine(EngineConfig(model="base"))
    try:
        assert engine.is_multilingual
        assert engine.device == "cpu" and engine.compute_type == "int8"
    finally:
        engine.close()


@pytest.mark.parametrize("name", ["large-v9", "/no/such/folder"])
def test_unknown_model_names_say_what_to_do(name):
    with pytest.raises(ModelError, match=r"base.*tiny\.en"):
        resolve_model(name)


def test_a_folder_without_weights_is_refused(tmp_path):
    with pytest.raises(ModelError, match="not a faster-whisper model folder"):
        resolve_model(str(tmp_path))
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(ModelError, match="incomplete"):
        resolve_model(str(tmp_path))


@pytest.fixture
def half_written_model(tmp_path) -> str:
    """tiny.en with its weights cut in half, as an interrupted copy leaves them."""
    broken = tmp_path / "broken"
    shutil.copytree(resolve_model("tiny.en"), broken)
    data = (broken / "model.bin").read_bytes()
    (broken / "model.bin").write_bytes(data[: len(data) // 2])
    return str(broken)


def test_corrupt_weights_give_a_sentence_not_a_traceback(half_written_model):
    with pytest.raises(ModelError, match="could not be loaded") as caught:
        TranscriptionEngine(EngineConfig(model=half_written_model))
    assert "\n" not in str(caught.value)


@pytest.fixture
def a_gpu_ctranslate2_cannot_use(monkeypatch):
    """CTranslate2 reports a GPU, as on a machine with an NVIDIA driver; this one has no
    working CUDA, so loading on it fails for real, as a missing cuBLAS makes it fail there."""
    import ctranslate2

    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)


def test_an_unusable_gpu_falls_back_to_the_cpu_and_says_so(a_gpu_ctranslate2_cannot_use, caplog):
    engine = TranscriptionEngine(EngineConfig(model="tiny.en", language="en"))
    try:
        assert (engine.device, engine.compute_type) == ("cpu", "int8")
        assert engine.notice.startswith("The GPU could not be used (") and "CPU" in engine.notice
        assert "the GPU could not be used" in caplog.text
        decoded = engine.decode(clip("en", "jfk.wav"), 0.0, "en", "")
        text = "".join(w.text for s in decoded.segments for w in s.words)
        assert "fellow Americans" in text
    finally:
        engine.close()


def test_a_gpu_asked_for_by_name_that_cannot_run_is_a_sentence():
    with pytest.raises(ModelError, match=r"could not run on the GPU .*CUDA 12") as caught:
        TranscriptionEngine(EngineConfig(model="tiny.en", device="cuda"))
    assert "\n" not in str(caught.value)


def test_damaged_weights_are_blamed_not_the_gpu(a_gpu_ctranslate2_cannot_use, half_written_model):
    with pytest.raises(ModelError, match=r"could not be loaded.*damaged"):
        TranscriptionEngine(EngineConfig(model=half_written_model))


def test_the_command_line_tells_why_it_runs_on_the_cpu(a_gpu_ctranslate2_cannot_use, capsys):
    from app.cli import load_engine

    engine = load_engine("tiny.en", StreamChoices(language="en"))
    try:
        assert engine.device == "cpu"
        assert engine.notice in capsys.readouterr().err.splitlines()
    finally:
        engine.close()
