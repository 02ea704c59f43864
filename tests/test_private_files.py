"""Sayline's own folders are 0700 and its files 0600, whatever the umask; other folders are left alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import private_files
from app.core import bundled_models
from app.core.models import resolve_model
from app.paths import data_dir
from app.private_files import copy_private, open_private, private_dir

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses ACLs")


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@posix_only
def test_folders_are_created_and_tightened_from_the_top_down(tmp_path):
    shared = tmp_path / "share"  # like ~/.local/share: other apps' too
    shared.mkdir(mode=0o755)
    top = shared / "Sayline"
    top.mkdir(mode=0o755)  # left 0755 by an older version
    old = top / "old"
    old.mkdir(mode=0o755)
    (old / "notes.txt").write_text("x")

    folder = private_dir(top / "old" / "new" / "deeper", top=top)

    assert folder == top / "old" / "new" / "deeper" and folder.is_dir()
    assert [mode(p) for p in (top, old, old / "new", folder)] == [0o700] * 4
    assert mode(shared) == 0o755, "a folder above Sayline's own is not ours to change"
    assert (old / "notes.txt").read_text() == "x"


@posix_only
def test_without_a_top_only_the_folder_itself_is_tightened(tmp_path):
    parent = tmp_path / "parent"
    parent.mkdir(mode=0o755)
    (parent / "config").mkdir(mode=0o755)
    private_dir(parent / "config")
    assert mode(parent / "config") == 0o700
    assert mode(parent) == 0o755


@posix_only
def test_modes_do_not_depend_on_the_umask(tmp_path):
    saved = os.umask(0)
    try:
        folder = private_dir(tmp_path / "a" / "b", top=tmp_path / "a")
        with open_private(folder / "new.txt", "w") as out:
            out.write("text")
        copy_private(folder / "new.txt", folder / "copy.txt")
    finally:
        os.umask(saved)
    assert mode(tmp_path / "a") == mode(folder) == 0o700
    assert mode(folder / "new.txt") == mode(folder / "copy.txt") == 0o600
    assert (folder / "copy.txt").read_text() == "text"


@posix_only
def test_an_existing_file_is_tightened_and_appended_to(tmp_path):
    file = tmp_path / "old.log"
    file.write_text("one\n")
    file.chmod(0o644)
    with open_private(file, "a", encoding="utf-8") as out:
        out.write("two\n")
    assert mode(file) == 0o600
    assert file.read_text() == "one\ntwo\n"


def test_without_chmod_as_on_windows_folders_and_files_are_still_made(tmp_path, monkeypatch):
    monkeypatch.setattr(private_files, "_CHMOD", False)
    folder = private_dir(tmp_path / "data" / "logs", top=tmp_path / "data")
    with open_private(folder / "x.log", "a", encoding="utf-8") as out:
        out.write("line\n")
    assert (folder / "x.log").read_text() == "line\n"


def test_a_file_in_the_way_of_a_folder_is_an_error(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    with pytest.raises(FileExistsError):
        private_dir(tmp_path / "data" / "sessions", top=tmp_path / "data")


@posix_only
def test_the_joined_base_model_is_private(tmp_path, monkeypatch):
    """Small stand-ins for the two base packages; the join is the real one."""
    for part in (1, 2):
        data = tmp_path / f"part{part}" / "data"
        data.mkdir(parents=True)
        (data / f"model.bin.part{part}").write_bytes(bytes([part]) * 1000)
    for name in bundled_models.MODEL_FILES:
        (tmp_path / "part1" / "data" / name).write_text("{}")
    monkeypatch.setattr(bundled_models, "_package_dir", lambda package, hint: tmp_path / f"part{package[-1]}")
    monkeypatch.setattr(bundled_models, "bundled_models_dir", lambda: None)
    home = tmp_path / "data"
    home.mkdir(mode=0o755)
    monkeypatch.setenv("SAYLINE_DATA_DIR", str(home))

    folder = resolve_model("base")

    assert folder == data_dir() / "models" / "base"
    assert (folder / "model.bin").stat().st_size == 2000
    assert [mode(p) for p in (home, home / "models", folder)] == [0o700] * 3
    assert {p.name: mode(p) for p in folder.iterdir()} == {
        name: 0o600 for name in ("model.bin", *bundled_models.MODEL_FILES)
    }
