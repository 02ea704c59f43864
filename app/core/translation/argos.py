"""Argos Translate language pairs, installed under Sayline's data dir and run with CTranslate2.

Only argostranslate's package layer is used (the package format and its SentencePiece/BPE
tokenizers). Its ``translate`` module is not: that one splits sentences with Stanza, spaCy
or MiniSBD, which download models on first use, pull in torch, and would reach for the
network in the middle of a live caption. Sentences are split here instead, and the
CTranslate2 model is driven directly; pivoting through English is a two-step route.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from app.core.translation.base import PIVOT, LanguagePair, TranslationError, split_sentences
from app.paths import data_dir
from app.private_files import private_dir

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install --no-deps argostranslate==1.11.0 (scripts/setup.sh does this)"
_IMPORT_LOCK = threading.Lock()
_MAX_LENGTH_FACTOR = 3  # a translation longer than 3x its source (+10 tokens) is a runaway decode


def packages_dir() -> Path:
    return data_dir() / "translation" / "argos"


def private_packages_dir() -> Path:
    """The packages folder, created (or tightened) 0700 like the rest of Sayline's data dir."""
    return private_dir(packages_dir(), top=data_dir())


def argos_package_module() -> ModuleType:
    """``argostranslate.package``, imported with every folder it touches inside Sayline's data dir.

    Importing argostranslate creates folders in the user's home and reads
    ~/.config/argos-translate/settings.json (which may name a remote translation
    service); pointing the XDG folders at our data dir for the import keeps it self-contained.
    """
    with _IMPORT_LOCK:
        # argostranslate makes its folders (and the packages folder) on import, with the umask's
        # 0755; creating the roots first keeps them private.
        home = private_dir(data_dir() / "translation" / "argos-home", top=data_dir())
        private_packages_dir()
        overrides = {
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "ARGOS_PACKAGES_DIR": str(packages_dir()),
            "ARGOS_DEVICE_TYPE": "cpu",
        }
        saved = {key: os.environ.get(key) for key in overrides}
        os.environ.update(overrides)
        try:
            import argostranslate.package as package
        except ImportError as exc:
            raise TranslationError(f"Argos Translate is not installed ({exc}); run: {INSTALL_HINT}.") from exc
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return package


@dataclass(frozen=True)
class InstalledPair:
    source: str
    target: str
    path: Path
    version: str = ""
    source_name: str = ""
    target_name: str = ""
    stamp: tuple[int, int] = (0, 0)  # the folder's inode and mtime: a reinstall is a new pair

    @property
    def label(self) -> str:
        names = f"{self.source_name or self.source} → {self.target_name or self.target}"
        return f"{names} (v{self.version})" if self.version else names


def read_metadata(folder: Path) -> dict[str, Any]:
    """metadata.json of an unpacked package, or TranslationError saying what is wrong."""
    try:
        metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranslationError("it has no metadata.json") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TranslationError(f"its metadata.json cannot be read ({exc})") from None
    if not isinstance(metadata, dict):
        raise TranslationError("its metadata.json is not a JSON object")
    if metadata.get("type", "translate") != "translate":
        raise TranslationError(f"it is a {metadata.get('type')!r} package, not a language pair")
    for key in ("from_code", "to_code"):
        if not isinstance(metadata.get(key), str) or not metadata[key].strip():
            raise TranslationError(f"its metadata.json has no {key}")
    return metadata


def pair_from_folder(folder: Path) -> InstalledPair:
    metadata = read_metadata(folder)
    return InstalledPair(
        source=metadata["from_code"].strip().lower(),
        target=metadata["to_code"].strip().lower(),
        path=folder,
        version=str(metadata.get("package_version", "")),
        source_name=str(metadata.get("from_name", "")),
        target_name=str(metadata.get("to_name", "")),
        stamp=(folder.stat().st_ino, (folder / "metadata.json").stat().st_mtime_ns),
    )


def installed_pairs(folder: Path | None = None) -> list[InstalledPair]:
    """The language pairs installed in ``folder`` (default: Sayline's), unreadable ones skipped."""
    folder = folder or packages_dir()
    if not folder.is_dir():
        return []
    pairs = []
    for child in sorted(folder.iterdir()):
        if not child.is_dir() or child.name.startswith("."):
            continue  # dot folders are installs in progress or being replaced
        try:
            pairs.append(pair_from_folder(child))
        except TranslationError as exc:
            log.warning("skipping the translation package in %s: %s", child, exc)
    return pairs


class _LoadedPair:
    """One pair's CTranslate2 model and tokenizer, loaded on first use."""

    def __init__(self, pair: InstalledPair, threads: int) -> None:
        package = argos_package_module().Package(pair.path)
        import ctranslate2

        self.pair = pair
        self.tokenizer = package.tokenizer
        self.target_prefix: str = package.target_prefix
        self.model = ctranslate2.Translator(
            str(pair.path / "model"), device="cpu", inter_threads=1, intra_threads=threads
        )


class ArgosTranslator:
    """Installed Argos pairs; ``translate`` is blocking and meant for one worker thread."""

    name = "argos"
    needs_audio = False

    def __init__(self, folder: Path | None = None, threads: int = 1, beam_size: int = 2) -> None:
        self.folder = folder or packages_dir()
        self.threads = threads  # 1 by default: transcription needs the other cores
        self.beam_size = beam_size
        self._lock = threading.Lock()
        self._loaded: dict[InstalledPair, _LoadedPair] = {}
        self._installed: list[InstalledPair] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sayline-translate")
        self.refresh()

    def refresh(self) -> None:
        """Rescan the folder (after an install); models of removed or replaced pairs are dropped."""
        pairs = installed_pairs(self.folder)
        with self._lock:
            self._installed = pairs
            self._loaded = {pair: loaded for pair, loaded in self._loaded.items() if pair in pairs}

    @property
    def installed(self) -> list[InstalledPair]:
        return list(self._installed)

    def _direct(self, source: str, target: str) -> InstalledPair | None:
        return next((p for p in self._installed if p.source == source and p.target == target), None)

    def route(self, source: str, target: str) -> list[InstalledPair]:
        """The packages that take ``source`` to ``target``: one, or two through English."""
        direct = self._direct(source, target)
        if direct is not None:
            return [direct]
        first, second = self._direct(source, PIVOT), self._direct(PIVOT, target)
        if first is not None and second is not None:
            return [first, second]
        raise TranslationError(
            f"No installed language pair translates {source} to {target}; install one "
            "(an Argos .argosmodel file) or choose another target language."
        )

    def pairs(self) -> list[LanguagePair]:
        direct = [LanguagePair(p.source, p.target) for p in self._installed]
        known = {(p.source, p.target) for p in direct}
        pivots = [
            LanguagePair(a.source, b.target, via=PIVOT)
            for a in direct if a.target == PIVOT
            for b in direct if b.source == PIVOT and b.target != a.source
            and (a.source, b.target) not in known
        ]
        return direct + pivots

    def check(self, source: str | None, target: str) -> None:
        """``target`` is a known code already (``targets.normalise_target``): is there a route?"""
        if source is not None:
            if source != target:
                self.route(source, target)
            return
        if not any(pair.target == target for pair in self.pairs()):
            raise TranslationError(
                f"No installed language pair translates into {target}; install one "
                "(an Argos .argosmodel file) or choose another target language."
            )

    def translate(self, text: str, source: str, target: str, audio: np.ndarray | None = None) -> str:
        if source == target or not text.strip():
            return text
        for pair in self.route(source, target):
            text = self._translate_with(pair, text)
        return text

    async def atranslate(self, text: str, source: str, target: str, audio: np.ndarray | None = None) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.translate, text, source, target)

    def _load(self, pair: InstalledPair) -> _LoadedPair:
        with self._lock:
            loaded = self._loaded.get(pair)
            if loaded is None:
                try:
                    loaded = _LoadedPair(pair, self.threads)
                except Exception as exc:  # CTranslate2 reports a bad model.bin as IndexError, RuntimeError, …
                    raise TranslationError(
                        f"The {pair.source}→{pair.target} language pair in {pair.path} could not be "
                        f"loaded ({exc}); install it again."
                    ) from exc
                self._loaded[pair] = loaded
            return loaded

    def _translate_with(self, pair: InstalledPair, text: str) -> str:
        loaded = self._load(pair)
        return " ".join(self._sentence(loaded, sentence) for sentence in split_sentences(text))

    def _sentence(self, loaded: _LoadedPair, sentence: str) -> str:
        """One sentence alone: its translation never depends on its neighbours' lengths."""
        pair = loaded.pair
        try:
            tokens = loaded.tokenizer.encode(sentence)
            result = loaded.model.translate_batch(
                [tokens],
                target_prefix=[[loaded.target_prefix]] if loaded.target_prefix else None,
                beam_size=self.beam_size,
                max_decoding_length=_MAX_LENGTH_FACTOR * len(tokens) + 10,
                replace_unknowns=True,
            )[0]
        except (RuntimeError, ValueError) as exc:
            raise TranslationError(
                f"Translating with the {pair.source}→{pair.target} pair failed: {exc}"
            ) from exc
        value = loaded.tokenizer.decode(result.hypotheses[0]).strip()
        if loaded.target_prefix:
            value = value.removeprefix(loaded.target_prefix).strip()
        return value


_shared: dict[Path, ArgosTranslator] = {}
_shared_lock = threading.Lock()


def shared_argos() -> ArgosTranslator:
    """One translator per packages folder for the whole process: its models are loaded once."""
    folder = packages_dir()
    with _shared_lock:
        translator = _shared.get(folder)
        if translator is None:
            translator = _shared[folder] = ArgosTranslator(folder)
        else:
            translator.refresh()
        return translator

