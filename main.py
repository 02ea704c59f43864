"""Sayline's entry point: ``python main.py --help``, and the frozen installer build's executable."""

import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    # A frozen build re-executes itself for any child process (multiprocessing, onnxruntime's or a
    # library's spawn); without this the child would start a second copy of the app.
    multiprocessing.freeze_support()
    sys.exit(main())  # main() first makes stdout/stderr safe to print to (app.cli.make_output_safe)
