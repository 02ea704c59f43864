"""`sayline models …` as a user types it, against a loopback hub in a private data dir."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import models_cli
from app.cli import main
from app.core.model_catalog import find_model
from app.core.model_download import HUB_ENV, model_dir, models_dir
from tests.hub import FakeHub, closed_port_url, tiny_en_files


@pytest.fixture
def hub(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    with FakeHub({find_model("small").repo: tiny_en_files()}) as server:  # tiny.en's bytes, as "small"
        monkeypatch.setenv(HUB_ENV, server.url)
        yield server


def states(output: str) -> dict[str, str]:
    rows = [line.split() for line in output.splitlines()[1:] if line and not line.startswith("Speed")]
    return {row[0]: row[-1] for row in rows}


def test_list_reads_the_disk_only(hub, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["name", "size", "languages", "speed", "state"]
    assert states(out)["base"] == "bundled" and states(out)["small"] == "available"
    assert "large-v3-turbo   1.51 GiB  multilingual" in out
    assert hub.requests == []


def test_download_path_and_remove(hub, capsys):
    assert main(["models", "download", "small"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"The small model is ready in {model_dir('small')}."
    percents = [line for line in captured.err.splitlines() if line.startswith("Downloading small: ")]
    assert percents[0] == "Downloading small: 0%" and percents[-1] == "Downloading small: 100%"
    assert len(percents) == len(set(percents)) <= 11, "a line every 10%, not every block"

    assert main(["models", "list"]) == 0
    assert states(capsys.readouterr().out)["small"] == "installed"
    assert main(["models", "path", "small"]) == 0
    assert capsys.readouterr().out.strip() == str(model_dir("small"))
    assert main(["models", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(models_dir())

    assert main(["models", "remove", "small"]) == 0
    assert capsys.readouterr().out.strip() == "Removed the small model."
    assert main(["models", "path", "small"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "sayline: error: The small model is not downloaded yet: run `sayline models download small`, "
        "or open Models… in the app.\n"
    )


def test_ctrl_c_stops_a_download_that_then_resumes(hub, capsys, monkeypatch):
    printer = models_cli.progress_printer
    def interrupted_past_20_mb(label: str):
        def report(done: float, total: float) -> None:
            if done > 20_000_000:
                raise KeyboardInterrupt  # as Ctrl+C does, wherever the download is

        return report

    monkeypatch.setattr(models_cli, "progress_printer", interrupted_past_20_mb)
    assert main(["models", "download", "small"]) == 130
    assert "again to resume where it stopped" in capsys.readouterr().err
    assert not model_dir("small").exists()
    assert main(["models", "list"]) == 0
    listed = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("small "))
    assert re.search(r"partly downloaded \(\d\d(\.\d)? MiB\)$", listed)

    monkeypatch.setattr(models_cli, "progress_printer", printer)
    hub.requests.clear()
    assert main(["models", "download", "small"]) == 0
    assert hub.gets("model.bin")[0].range.startswith("bytes=2")


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (["download", "huge"], "No downloadable model is called 'huge'"),
        (["remove", "base"], "The base model ships with Sayline and cannot be removed."),
        (["remove", "small"], "The small model is not downloaded, so there is nothing to remove."),
        (["download", "small"], "Could not reach 127.0.0.1:"),
    ],
)
def test_failures_are_one_sentence_and_exit_1(data_dir, monkeypatch, capsys, argv, sentence):
    monkeypatch.setenv(HUB_ENV, closed_port_url())
    assert main(["models", *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"sayline: error: {sentence}") and err.count("\n") == 1


def test_calibrate_times_the_installed_models_and_says_why(data_dir, monkeypatch, capsys):
    """A real measurement of tiny.en alone (base left out to keep it to seconds), kept for the dialog."""
    from app.core import calibration_run

    monkeypatch.setattr(calibration_run, "installed_candidates", lambda: [find_model("tiny.en")])
    code = main(["models", "calibrate", "--language", "en"])
    captured = capsys.readouterr()
    shown = f"stdout:\n{captured.out}\nstderr:\n{captured.err}"  # what the run said, should an assert fail
    assert code == 0, shown
    assert "Timing tiny.en (1 of 1)…" in captured.err, shown
    lines = captured.out.strip().splitlines()
    measured = "real time on live-sized buffers here"
    assert any(line.startswith("tiny.en: ") and measured in line for line in lines), shown
    assert any(line.startswith("small: about ") and "estimated from tiny.en" in line for line in lines), shown
    assert lines[-1].endswith(".") and "tiny.en" in lines[-1], shown  # the summary names the pick or the lag
    saved = calibration_run.load_last()
    assert saved is not None and [t.model for t in saved.timings] == ["tiny.en"], (saved, shown)
