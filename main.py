"""Sayline's entry point: ``python main.py --help``, and the frozen installer build's executable."""

import multiprocessing
import os
import sys

from app.cli import main

if __name__ == "__main__":
    # A frozen build re-executes itself for any child process (multiprocessing, onnxruntime's or a
    # library's spawn); without this the child would start a second copy of the app.
    multiprocessing.freeze_support()
    # A windowed build on Windows has no console: sys.stdout/stderr are None, and the first print
    # or progress bar would raise. Output goes nowhere instead (the desktop app logs to its file).
    for stream in ("stdout", "stderr"):
        if getattr(sys, stream) is None:
            setattr(sys, stream, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the app
    sys.exit(main())
