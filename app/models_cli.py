"""``sayline models …``: list, download, remove and calibrate speech models from a terminal.

What the desktop app's Models… dialog does, for a headless machine. Only ``download`` uses the
network, and only for the model it names; ``list`` reads the catalogue and the disk.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.console import progress_printer
from app.core.model_catalog import CATALOG, CatalogModel, find_model
from app.core.model_download import download_model, install_state, installed_models, models_dir, remove_model
from app.core.models import resolve_model
from app.core.sizes import format_size


def _speed(model: CatalogModel) -> str:
    return f"{1 / model.relative_cost:.2g}x"


def run_list(args: argparse.Namespace) -> int:
    installed = set(installed_models())
    rows = [("name", "size", "languages", "speed", "state")] + [
        (m.name, format_size(m.size_bytes), "English" if m.english_only else "multilingual", _speed(m),
         install_state(m, installed))
        for m in CATALOG
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(f"\nSpeed is an estimate relative to base (2x: twice as fast). Downloads go to {models_dir()}.")
    return 0


def run_download(args: argparse.Namespace) -> int:
    model = find_model(args.name)
    try:
        folder = download_model(model.name, progress=progress_printer(f"Downloading {model.name}"))
    except KeyboardInterrupt:
        print(
            f"\nStopped; run `sayline models download {model.name}` again to resume where it stopped.",
            file=sys.stderr,
        )
        return 130
    print(f"The {model.name} model {'ships with Sayline and ' if model.bundled else ''}is ready in {folder}.")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    remove_model(args.name)
    print(f"Removed the {args.name} model.")
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    """Measure the installed models here and say which keeps live captions in time, and why."""
    from app.core.calibration_run import calibrate  # loads faster-whisper: only when asked

    last = [""]

    def report(_fraction: float, message: str) -> None:
        if message != last[0]:
            last[0] = message
            print(message, file=sys.stderr, flush=True)

    _measurement, choice = calibrate(args.language, progress=report)
    for verdict in choice.verdicts:
        print(verdict.why)
    print(f"\n{choice.summary}")
    return 0


def run_path(args: argparse.Namespace) -> int:
    print(resolve_model(find_model(args.name).name) if args.name else models_dir())
    return 0


def add_model_commands(commands: Any) -> None:
    parser = commands.add_parser("models", help="list, download or remove speech models")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the catalogue and what is on this machine (no network)").set_defaults(
        handler=run_list
    )
    download = actions.add_parser("download", help="download a model (uses the network; resumes)")
    download.add_argument("name", help="a name from `sayline models list`")
    download.set_defaults(handler=run_download)
    remove = actions.add_parser("remove", help="delete a downloaded model (or a partial download)")
    remove.add_argument("name")
    remove.set_defaults(handler=run_remove)
    calibrate = actions.add_parser(
        "calibrate", help="time the installed models on this machine and recommend one (seconds each)"
    )
    calibrate.add_argument("--language", default=None, help="the language you caption (default: any)")
    calibrate.set_defaults(handler=run_calibrate)
    path = actions.add_parser("path", help="where models are kept, or where one model is")
    path.add_argument("name", nargs="?")
    path.set_defaults(handler=run_path)
