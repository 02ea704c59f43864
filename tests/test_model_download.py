"""Downloading models from a loopback hub: checked, resumed, all or nothing, one sentence on failure."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.core import hub_fetch
from app.core.download_lock import held
from app.core.model_catalog import find_model
from app.core.model_download import (
    HUB_ENV,
    DownloadCancelled,
    DownloadError,
    download_model,
    installed_models,
    model_dir,
    models_dir,
    remove_model,
)
from app.core.model_errors import ModelError
from app.core.models import resolve_model
from app.private_files import open_private
from tests.hub import FakeHub, closed_port_url, tiny_en_files

# The fake hub serves tiny.en's files as Systran/faster-whisper-small: "small" has no pinned
# checksums, so the hub's own (X-Linked-Etag, ETag) check it. TINY_EN is tiny.en as if it were
# not bundled: its pinned checksums check it.
SMALL = find_model("small")
TINY_EN = replace(find_model("tiny.en"), bundled=False)
MODEL_BIN = len(tiny_en_files()["model.bin"])
MODEL_BIN_SHA256 = next(f.sha256 for f in TINY_EN.files if f.name == "model.bin")


@pytest.fixture
def hub(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    files = tiny_en_files()
    with FakeHub({SMALL.repo: files, TINY_EN.repo: files, "someone/renamed-small": files}) as server:
        monkeypatch.setenv(HUB_ENV, server.url)
        yield server


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def partial_dir(name: str) -> Path:
    return models_dir() / ".partial" / name


def test_a_download_is_installed_whole_and_loads(hub):
    calls: list[tuple[int, int]] = []
    folder = download_model("small", progress=lambda done, total: calls.append((done, total)))

    assert folder == model_dir("small") == resolve_model("small")
    assert sorted(p.name for p in folder.iterdir()) == sorted(f.name for f in SMALL.files)
    for name, data in tiny_en_files().items():
        assert (folder / name).read_bytes() == data
    total = sum(len(data) for data in tiny_en_files().values())
    assert calls[-1] == (total, total) and {t for _, t in calls} == {total}
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert not partial_dir("small").exists()
    assert "small" in installed_models()
    assert all(seen.user_agent.startswith("Sayline/") for seen in hub.requests)
    assert hub.gets("model.bin")[0].path.startswith("/cdn/"), "the weights come from where the hub points"
    if os.name == "posix":
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((folder / "model.bin").stat().st_mode) == 0o600

    from faster_whisper import WhisperModel

    WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=1)

    hub.requests.clear()
    assert download_model("small") == folder
    assert hub.requests == [], "an installed model is not fetched again"


def test_a_cut_connection_is_resumed_with_a_range(hub):
    hub.cut_after["model.bin"] = 30_000_000  # every response stops 30 MB in, as a flaky line does

    folder = download_model("small")

    assert [seen.range for seen in hub.gets("model.bin")] == [
        None, "bytes=30000000-", "bytes=60000000-",
    ]
    assert sha256(folder / "model.bin") == MODEL_BIN_SHA256


def test_a_server_that_sends_past_the_end_of_a_file_is_cut_off_there(hub):
    """A runaway mirror cannot fill the disk: writing stops at the size the hub gave for the file."""
    hub.extra["model.bin"] = 50_000_000
    calls: list[int] = []

    folder = download_model("small", progress=lambda done, total: calls.append(done))

    assert (folder / "model.bin").stat().st_size == len(tiny_en_files()["model.bin"])
    assert sha256(folder / "model.bin") == MODEL_BIN_SHA256
    assert max(calls) == sum(len(data) for data in tiny_en_files().values())


def test_a_model_being_downloaded_elsewhere_is_neither_downloaded_again_nor_removed(hub):
    """Another window or `sayline models download` holds the lock: say so at once, fetch nothing."""
    with held(models_dir() / ".partial" / "small.lock", "the small model"):
        with pytest.raises(DownloadError, match="The small model is being downloaded already"):
            download_model("small")
        assert hub.requests == []
        with pytest.raises(DownloadError, match="being downloaded already"):
            remove_model("small")
    assert sha256(download_model("small") / "model.bin") == MODEL_BIN_SHA256


def test_a_connection_lost_for_good_keeps_what_arrived(hub, monkeypatch):
    monkeypatch.setattr(hub_fetch, "RETRY_WAIT_S", 0.0)
    hub.cut_after["model.bin"] = 0

    with pytest.raises(DownloadError, match=r"connection was lost .*small model; run the download again"):
        download_model("small")

    assert len(hub.gets("model.bin")) == 1 + hub_fetch.RETRIES
    assert (partial_dir("small") / "config.json").is_file() and not model_dir("small").exists()
    del hub.cut_after["model.bin"]
    hub.requests.clear()
    download_model("small")
    assert hub.gets("config.json") == [], "a file that arrived whole is not fetched again"


def test_a_cancelled_download_resumes_where_it_stopped(hub):
    seen: list[int] = []

    with pytest.raises(DownloadCancelled, match="cancelled; run it again to resume"):
        download_model("small", progress=lambda done, total: seen.append(done),
                       cancelled=lambda: bool(seen) and seen[-1] > 20_000_000)

    arrived = (partial_dir("small") / "model.bin").stat().st_size
    assert 20_000_000 < arrived < MODEL_BIN
    assert not model_dir("small").exists() and "small" not in installed_models()
    hub.requests.clear()
    folder = download_model("small")
    assert [seen.range for seen in hub.gets("model.bin")] == [f"bytes={arrived}-"]
    assert sha256(folder / "model.bin") == MODEL_BIN_SHA256


@pytest.mark.parametrize("model", [SMALL, TINY_EN], ids=["hub-checksum", "pinned-checksum"])
def test_a_damaged_file_is_deleted_and_nothing_is_installed(hub, model):
    hub.corrupt.add("model.bin")

    damaged = r"was damaged \(model.bin does not match its checksum\); it was deleted, try again\.$"
    with pytest.raises(DownloadError, match=damaged) as caught:
        download_model(model.name, catalog=[model])

    assert "\n" not in str(caught.value)
    assert not model_dir(model.name).exists()
    assert not (partial_dir(model.name) / "model.bin").exists()
    hub.corrupt.clear()
    assert sha256(download_model(model.name, catalog=[model]) / "model.bin") == MODEL_BIN_SHA256


def test_a_file_the_hub_gives_no_checksum_for_is_refused_unless_pinned(hub):
    hub.hide_checksums = True

    with pytest.raises(DownloadError, match=r"did not say what config.json of the small model should be"):
        download_model("small")

    assert hub.gets("config.json") == [] and not model_dir("small").exists()
    assert download_model("tiny.en", catalog=[TINY_EN]) == model_dir("tiny.en")


def test_too_little_disk_space_is_said_before_anything_is_fetched(hub, monkeypatch):
    usage = shutil.disk_usage(Path.home())
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage._replace(free=50 << 20))

    with pytest.raises(DownloadError, match=r"needs 5\d\d MiB free in .*models, and 50 MiB is\.$"):
        download_model("small")

    assert hub.requests == []


class _FillingDisk:
    """A file that takes ``room`` more bytes and then fails as a full disk does."""

    def __init__(self, stream: Any, room: int) -> None:
        self._stream = stream
        self._room = room

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._stream.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __enter__(self) -> _FillingDisk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stream.close()


def test_a_disk_that_fills_up_mid_download_says_so_and_the_download_resumes(hub, monkeypatch):
    def open_on_a_full_disk(path: Path, mode: str = "w", **kwargs: Any) -> Any:
        stream = open_private(path, mode, **kwargs)
        return _FillingDisk(stream, 10 << 20) if path.name == "model.bin" else stream

    monkeypatch.setattr(hub_fetch, "open_private", open_on_a_full_disk)
    with pytest.raises(DownloadError, match=r"disk filled up while downloading model.bin of the small model"):
        download_model("small")

    assert (partial_dir("small") / "model.bin").stat().st_size == 10 << 20
    monkeypatch.setattr(hub_fetch, "open_private", open_private)
    hub.requests.clear()
    assert sha256(download_model("small") / "model.bin") == MODEL_BIN_SHA256
    assert [seen.range for seen in hub.gets("model.bin")] == [f"bytes={10 << 20}-"]


def test_offline_is_one_sentence(data_dir):
    with pytest.raises(DownloadError, match=r"Could not reach 127\.0\.0\.1:\d+ .*refused") as caught:
        download_model("small", hub_url=closed_port_url())
    assert "\n" not in str(caught.value) and "check the internet connection" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        (404, r"has no model.bin of the small model \(HTTP 404"),
        (403, r"refused to send model.bin of the small model \(HTTP 403\): .*gated"),
        (500, r"had an error sending model.bin of the small model \(HTTP 500\); try again later"),
    ],
)
def test_hub_errors_are_one_sentence(hub, status, sentence):
    hub.status["model.bin"] = status
    with pytest.raises(DownloadError, match=sentence):
        download_model("small")
    assert not model_dir("small").exists()


def test_plain_http_is_refused_off_loopback(data_dir):
    with pytest.raises(DownloadError, match=r"over https only, and http://example\.invalid/.* is not https"):
        download_model("small", hub_url="http://example.invalid")


def test_a_renamed_repository_is_followed(hub):
    hub.moved[SMALL.repo] = "someone/renamed-small"
    assert sha256(download_model("small") / "model.bin") == MODEL_BIN_SHA256


def test_remove_deletes_the_model_and_a_partial_download(data_dir):
    for folder in (model_dir("small"), partial_dir("small")):
        folder.mkdir(parents=True)
        for file in SMALL.files:
            (folder / file.name).write_bytes(b"x")
    assert resolve_model("small") == model_dir("small")

    remove_model("small")

    assert not model_dir("small").exists() and not partial_dir("small").exists()
    assert "small" not in installed_models()
    with pytest.raises(ModelError, match=r"The small model is not downloaded yet: run `sayline models"):
        resolve_model("small")
    with pytest.raises(ModelError, match="nothing to remove"):
        remove_model("small")


def test_bundled_models_are_neither_downloaded_nor_removed(hub):
    assert download_model("tiny.en") == resolve_model("tiny.en")
    assert hub.requests == []
    assert {"base", "tiny.en"} <= set(installed_models())
    with pytest.raises(ModelError, match="The base model ships with Sayline and cannot be removed"):
        remove_model("base")


def test_an_unknown_name_lists_the_catalogue(data_dir):
    with pytest.raises(ModelError, match=r"No downloadable model is called 'large-v9'.*small.*turbo"):
        download_model("large-v9")
