"""Argos language pairs end to end: build a real (untrained) pair, install, list, route, translate.

The pair is a CTranslate2 Transformer with random weights and a SentencePiece model trained
here on a few sentences (bench/argos_model.py): its output is noise, so these tests check
the machinery (deterministic, non-empty, through the right models), never translation quality.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.core.translation.argos import (
    ArgosTranslator,
    argos_package_module,
    installed_pairs,
    packages_dir,
    private_packages_dir,
)
from app.core.translation.argos_install import install_file
from app.core.translation.base import LanguagePair, TranslationError, split_sentences
from app.core.translation.factory import open_translator
from bench.argos_model import build_argosmodel
from tests.conftest import ROOT


@pytest.fixture(scope="session")
def pair_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("argosmodels")
    return {
        name: build_argosmodel(folder / f"{name}.argosmodel", *name.split("_"), seed=i)
        for i, name in enumerate(("fr_en", "en_de", "en_fr"))
    }


def folder_entries() -> list[str]:
    folder = packages_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_install_list_and_translate(pair_files, data_dir):
    installed = install_file(pair_files["fr_en"])
    assert (installed.source, installed.target, installed.version) == ("fr", "en", "1.0")
    assert installed.path.parent == data_dir / "translation" / "argos", "pairs live in Sayline's data dir"
    assert folder_entries() == ["translate-fr_en"], "nothing but the installed pair is left behind"
    translator = ArgosTranslator()
    assert translator.pairs() == [LanguagePair("fr", "en")]
    text = "Composez votre mot de passe suivi du dièse."
    first = translator.translate(text, "fr", "en")
    assert first and first != text
    assert translator.translate(text, "fr", "en") == first, "decoding the same model is deterministic"
    assert translator.translate(text, "en", "en") == text, "a line already in the target is kept"


def test_two_sentences_are_translated_one_by_one(pair_files, data_dir):
    install_file(pair_files["fr_en"])
    translator = ArgosTranslator()
    one, two = "Composez votre mot de passe.", "Cette option est invalide."
    assert split_sentences(f"{one} {two}") == [one, two]
    both = translator.translate(f"{one} {two}", "fr", "en")
    assert both == f"{translator.translate(one, 'fr', 'en')} {translator.translate(two, 'fr', 'en')}"


def test_pivot_through_english(pair_files, data_dir):
    install_file(pair_files["fr_en"])
    install_file(pair_files["en_de"])
    translator = ArgosTranslator()
    assert LanguagePair("fr", "de", via="en") in translator.pairs()
    assert [p.target for p in translator.route("fr", "de")] == ["en", "de"]
    text = "Vous avez été retiré de cette conférence."
    via_english = translator.translate(translator.translate(text, "fr", "en"), "en", "de")
    assert translator.translate(text, "fr", "de") == via_english
    translator.check("fr", "de")
    translator.check(None, "de")


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("de", "fr", "No installed language pair translates de to fr"),
        (None, "ja", "No installed language pair translates into ja"),
    ],
)
def test_impossible_pairs_are_one_sentence(pair_files, data_dir, source, target, message):
    install_file(pair_files["fr_en"])
    with pytest.raises(TranslationError, match=message):
        ArgosTranslator().check(source, target)


def test_an_unknown_target_code_is_one_sentence_before_any_pair_is_asked(tiny_engine, pair_files, data_dir):
    install_file(pair_files["fr_en"])
    with pytest.raises(TranslationError, match="Unknown target language code 'xx'"):
        open_translator("argos", tiny_engine, "fr", "xx")


def _rewrite(original: Path, out: Path, change) -> Path:
    """Copy an archive, passing each member through ``change(name, data) -> data | None``."""
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info, data)
    return out


def _flip_bytes_in_place(path: Path, member: str) -> Path:
    """Damage a member's stored bytes without touching the zip's directory: a CRC failure."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 100, start + 200):
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda src, out: out.write_bytes(b"not a zip at all") and out, "it is not a zip archive"),
        (lambda src, out: out.write_bytes(src.read_bytes()[: len(src.read_bytes()) // 2]) and out,
         "not a zip archive"),
        (lambda src, out: _flip_bytes_in_place(Path(out.write_bytes(src.read_bytes()) and out),
                                               "translate-fr_en-1_0/model/model.bin"),
         "is damaged"),
        (lambda src, out: _rewrite(src, out, lambda n, d: b"\0" * 64 if n.endswith("model.bin") else d),
         "its model does not load"),
        (lambda src, out: _rewrite(src, out, lambda n, d: None if n.endswith("metadata.json") else d),
         "no metadata.json"),
        (lambda src, out: _rewrite(src, out, lambda n, d: b"{" if n.endswith("metadata.json") else d),
         "metadata.json cannot be read"),
    ],
    ids=["garbage", "truncated", "bad-crc", "bad-model", "no-metadata", "bad-metadata"],
)
def test_a_damaged_file_is_one_sentence_and_leaves_nothing(pair_files, data_dir, tmp_path, damage, message):
    install_file(pair_files["en_de"])
    broken = damage(pair_files["fr_en"], tmp_path / "broken.argosmodel")
    with pytest.raises(TranslationError, match=message) as refused:
        install_file(broken)
    assert str(refused.value).count(".") >= 1 and "\n" not in str(refused.value)
    assert folder_entries() == ["translate-en_de"], "no half-installed pair, no leftover scratch folder"
    assert [(p.source, p.target) for p in installed_pairs()] == [("en", "de")]


def test_reinstalling_replaces_the_pair_in_place(pair_files, data_dir, tmp_path):
    install_file(pair_files["fr_en"])
    translator = ArgosTranslator()
    before = translator.translate("Bonjour.", "fr", "en")
    newer = build_argosmodel(tmp_path / "newer.argosmodel", "fr", "en", seed=42, version="1.1")
    install_file(newer)
    translator.refresh()
    assert [p.version for p in translator.installed] == ["1.1"]
    assert folder_entries() == ["translate-fr_en"]
    assert translator.translate("Bonjour.", "fr", "en") != before, "the new model is the one used"


def test_nothing_touches_the_network(pair_files, tmp_path):
    """Install, list, pivot and translate in a fresh process whose sockets all fail."""
    script = f"""
import socket, sys
def blocked(*args, **kwargs):
    raise OSError("network blocked by the test")
socket.socket.connect = socket.socket.connect_ex = blocked
socket.create_connection = socket.getaddrinfo = blocked
from app.core.translation.argos import ArgosTranslator
from app.core.translation.argos_install import install_file
install_file({str(pair_files["fr_en"])!r})
install_file({str(pair_files["en_de"])!r})
translator = ArgosTranslator()
print(translator.translate("Cette option est invalide.", "fr", "de"))
heavy = ("stanza", "spacy", "minisbd", "torch", "argostranslate.translate")
heavy = sorted(m for m in heavy if m in sys.modules)
print("heavy:", heavy)
"""
    env = {"SAYLINE_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    translation, heavy = done.stdout.strip().splitlines()
    assert translation
    assert heavy == "heavy: []", "no sentence splitter that downloads models, no torch"
    assert not (tmp_path / ".local").exists() and not (tmp_path / ".config").exists(), "nothing in the home"


def test_download_from_an_index_with_progress(pair_files, data_dir, tmp_path, monkeypatch):
    """Argos's index format and a download with progress, served over HTTPS on a real loopback socket."""
    import json

    from app.core.translation.argos_install import download, fetch_index
    from tests.test_argos_install_safety import Reply, loopback_site

    with loopback_site(tmp_path / "site", monkeypatch) as site:
        base = site.base
        site.routes["/fr_en.argosmodel"] = Reply(pair_files["fr_en"].read_bytes())
        index = [
            {"type": "translate", "from_code": "fr", "to_code": "en", "from_name": "French",
             "to_name": "English", "package_version": "1.0",
             "links": [f"{base}/missing.argosmodel", f"{base}/fr_en.argosmodel"]},
            {"type": "sbd", "from_code": "fr", "links": [f"{base}/sbd.argosmodel"]},
        ]
        site.routes["/index.json"] = Reply(json.dumps(index).encode())
        available = fetch_index(f"{base}/index.json")
        assert [(p.source, p.target, p.label) for p in available] == [("fr", "en", "French → English (v1.0)")]
        progress: list[tuple[int, int]] = []
        pair = download(available[0], progress=lambda done, total: progress.append((done, total)))
    size = pair_files["fr_en"].stat().st_size
    assert progress[-1] == (size, size) and len(progress) >= 1, "the first link 404s; the second is used"
    assert (pair.source, pair.target) == ("fr", "en")
    assert folder_entries() == ["translate-fr_en"], "the downloaded file is not kept"
    assert ArgosTranslator().translate("Bonjour.", "fr", "en")


def test_an_unreachable_index_is_one_sentence(data_dir):
    from app.core.translation.argos_install import fetch_index

    with pytest.raises(TranslationError, match="The list of language pairs could not be downloaded"):
        fetch_index("https://127.0.0.1:9/index.json")


def test_an_argos_only_code_is_valid_once_its_pair_is_installed(data_dir, tmp_path):
    from app.core.translation.targets import normalise_target

    with pytest.raises(TranslationError, match="Unknown target language code 'zt'"):
        normalise_target("zt")
    install_file(build_argosmodel(tmp_path / "en_zt.argosmodel", "en", "zt"))
    assert normalise_target(" ZT ") == "zt"
    ArgosTranslator().check("en", "zt")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses ACLs")
def test_the_translation_folders_are_private(data_dir):
    data_dir.mkdir(mode=0o755)  # as an older version left it
    argos_package_module()
    translation = data_dir / "translation"
    for folder in (data_dir, translation, packages_dir(), translation / "argos-home"):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert private_packages_dir() == packages_dir()
