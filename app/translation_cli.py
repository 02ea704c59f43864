"""``sayline translation …``: list, install and download Argos language pairs from a terminal.

A headless server has no window to pick a ``.argosmodel`` in; these commands do what the
desktop app's translation menu does. Only ``download`` uses the network.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.core.translation.argos import ArgosTranslator, packages_dir
from app.core.translation.argos_install import download, fetch_index, install_file
from app.core.translation.base import TranslationError


def _progress(done: int, total: int) -> None:
    if total:
        print(f"\rDownloading: {100 * done // total}%", end="", file=sys.stderr, flush=True)


def run_list(args: argparse.Namespace) -> int:
    translator = ArgosTranslator()
    if not translator.installed:
        print(f"No language pairs installed (in {packages_dir()}).")
    for pair in translator.installed:
        print(f"{pair.source}→{pair.target}  {pair.label}")
    for pair in translator.pairs():
        if pair.via:
            print(f"{pair}  (through {pair.via})")
    print("Whisper (base model): any language → en, no install needed.")
    return 0


def run_install(args: argparse.Namespace) -> int:
    pair = install_file(args.file)
    print(f"Installed {pair.label}.")
    return 0


def run_download(args: argparse.Namespace) -> int:
    wanted = (args.source.lower(), args.target.lower())
    matches = [p for p in fetch_index() if (p.source, p.target) == wanted]
    if not matches:
        raise TranslationError(f"Argos's index lists no {wanted[0]}→{wanted[1]} pair.")
    pair = download(matches[-1], progress=_progress)
    print(f"\nInstalled {pair.label}.")
    return 0


def add_translation_commands(commands: Any) -> None:
    parser = commands.add_parser("translation", help="list, install or download translation language pairs")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the installed pairs (and pivots through English)").set_defaults(
        handler=run_list
    )
    install = actions.add_parser("install", help="install a pair from an .argosmodel file")
    install.add_argument("file")
    install.set_defaults(handler=run_install)
    fetch = actions.add_parser("download", help="download a pair from Argos's index (uses the network)")
    fetch.add_argument("source")
    fetch.add_argument("target")
    fetch.set_defaults(handler=run_download)
