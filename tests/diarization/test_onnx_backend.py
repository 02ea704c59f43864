"""The default diarization backend: ONNX graphs exported from the torch networks, run without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.core.decoding import SAMPLE_RATE
from app.core.diarization import DiarizationError, backends, export, load_models, unavailable_reason, weights
from app.core.diarization.onnx_models import OnnxEmbedder, OnnxSegmentation
from tests.conftest import ROOT, clip

HINT = "make it again."


@pytest.fixture(scope="module")
def graphs() -> Path:
    folder = weights.find_onnx_dir()
    assert folder is not None, weights.missing_onnx_reason()
    return folder


def speaker_track(models, audio: np.ndarray, step_s: float = 0.1) -> list[int | None]:
    """Stream ``audio`` as the processor does; the speaker of every 0.1 s of it."""
    diarizer = models.stream()
    for offset in range(0, len(audio), SAMPLE_RATE // 2):
        diarizer.accept(audio[offset : offset + SAMPLE_RATE // 2])
        if diarizer.due():
            diarizer.run_pass()
    diarizer.run_pass(final=True)
    times = np.arange(0.0, len(audio) / SAMPLE_RATE, step_s)
    return [diarizer.speaker_for(t, t + step_s) for t in times]


def test_onnx_and_torch_backends_label_a_real_conversation_alike(name="pyannote_sample.wav"):
    """The real two-person call; bench.diarize_backends compares all of eval/multi (same DER)."""
    pytest.importorskip("torch", reason="the torch backend is the reference; `pip install 'sayline[export]'`")
    audio = clip("multi", name)
    ours, reference = speaker_track(load_models("default"), audio), speaker_track(load_models("torch"), audio)
    agreement = np.mean([a == b for a, b in zip(ours, reference, strict=True)])
    assert agreement >= 0.99, f"{name}: the backends agree on {agreement:.1%} of the clip"
    assert len({s for s in ours if s}) >= 2


def test_the_export_matches_torch_and_only_then_lands(tmp_path, monkeypatch):
    pytest.importorskip("torch", reason="the export needs torch; `pip install 'sayline[export]'`")
    check = export.export_graphs(tmp_path / "good")
    assert not check.problems()
    assert check.max_probability_diff < 1e-3 and check.frame_agreement >= 0.995
    assert check.min_embedding_cosine >= 0.9999
    segmentation = OnnxSegmentation(tmp_path / "good" / weights.SEGMENTATION_ONNX, HINT)
    assert segmentation.frames == load_models("torch").frames
    assert sorted(p.name for p in (tmp_path / "good").iterdir()) == sorted(weights.ONNX_FILES)

    bad = export.ExportCheck(max_probability_diff=0.2, frame_agreement=0.9, min_embedding_cosine=0.5)
    monkeypatch.setattr(export, "_check", lambda *args: bad)
    with pytest.raises(DiarizationError, match="do not match torch"):
        export.export_graphs(tmp_path / "bad")
    assert list((tmp_path / "bad").iterdir()) == []  # nothing half-made is left to load


@pytest.mark.parametrize("content", [b"", b"not an onnx graph", "truncated"])
def test_a_damaged_graph_is_one_sentence(graphs, tmp_path, content):
    damaged = tmp_path / weights.EMBEDDING_ONNX
    real = (graphs / weights.EMBEDDING_ONNX).read_bytes()
    damaged.write_bytes(real[: len(real) // 3] if content == "truncated" else content)
    for model in (OnnxEmbedder, OnnxSegmentation):
        with pytest.raises(DiarizationError) as caught:
            model(damaged, HINT)
        message = str(caught.value)
        assert "\n" not in message and message.endswith(HINT) and str(damaged) in message


def test_a_segmentation_graph_without_frame_timing_is_refused(graphs, tmp_path):
    """The embedding graph is a valid ONNX file but carries no frame geometry."""
    foreign = tmp_path / "foreign.onnx"
    foreign.write_bytes((graphs / weights.EMBEDDING_ONNX).read_bytes())
    with pytest.raises(DiarizationError, match="lacks its frame timing"):
        OnnxSegmentation(foreign, HINT)


def test_missing_graphs_say_how_to_make_them(tmp_path, monkeypatch):
    monkeypatch.setattr(weights.sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setenv("SAYLINE_DATA_DIR", str(tmp_path / "data"))
    reason = unavailable_reason()
    assert reason is not None and "python -m app.core.diarization.export" in reason
    with pytest.raises(DiarizationError, match=r"python -m app\.core\.diarization\.export"):
        backends.load_onnx_backend()


def test_the_installer_layout_is_found_and_its_absence_says_reinstall(graphs, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert unavailable_reason() is not None and "reinstall Sayline" in unavailable_reason()
    (tmp_path / "diarization").mkdir()
    for name in weights.ONNX_FILES:
        (tmp_path / "diarization" / name).symlink_to(graphs / name)
    assert weights.find_onnx_dir() == tmp_path / "diarization"
    assert unavailable_reason() is None
    models = backends.load_onnx_backend()
    assert models.segmenter(clip("multi", "pyannote_sample.wav")[: 5 * SAMPLE_RATE]).shape[1] == 3
    (tmp_path / "diarization" / weights.SEGMENTATION_ONNX).unlink()
    (tmp_path / "diarization" / weights.SEGMENTATION_ONNX).write_bytes(b"\0" * 64)
    with pytest.raises(DiarizationError, match=r"damaged .*reinstall Sayline"):
        backends.load_onnx_backend()


def test_speakers_need_no_torch():
    """The default backend with torch unimportable: two voices in the bundled sample get two labels."""
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "from app.core.diarization import load_models\n"
        "from app.core.decoding import decode_file\n"
        "from app.paths import resources_dir\n"
        "from tests.diarization.test_onnx_backend import speaker_track\n"
        "track = speaker_track(load_models(), decode_file(resources_dir() / 'samples' / 'two_voices.wav'))\n"
        "loaded = [m for m in sys.modules if m.startswith('torch') and sys.modules[m]]\n"
        "print(sorted({s for s in track if s}), loaded)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1, 2] []"
