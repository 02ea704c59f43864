"""Run a frozen build's selftest and insist on its output: ``python packaging/run_selftest.py [EXE]``.

The release workflow runs this on every OS, on the app as a user gets it (the installed Windows app,
the ``.app`` inside the mounted ``.dmg``, the Linux folder). Without EXE it runs this OS's build in
dist/. Exit 0 only if the app exits 0 *and* printed both "selftest: OK" and "selftest: speakers OK".

Why not just ``sayline.exe --selftest``: the Windows build is windowed (``console=False``), so
PowerShell starts it without waiting and without its exit code, and stdout/stderr are None unless
the parent hands it handles (main.py then points them at os.devnull, and the output is lost while
the exit code still says 0). Here the app gets pipes as its stdout/stderr, which a windowed
program inherits, so its words come back and prove the output path works too. A windowed build
that dies on an unhandled exception shows a dialog and waits for a click; the timeout turns that
into a failure instead of a hung job.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_LINES = ("selftest: OK", "selftest: speakers OK")


def default_executable() -> Path:
    if sys.platform == "win32":
        return ROOT / "dist" / "sayline" / "sayline.exe"
    if sys.platform == "darwin":
        return ROOT / "dist" / "Sayline.app" / "Contents" / "MacOS" / "sayline"
    return ROOT / "dist" / "sayline" / "sayline"


def run_selftest(executable: Path, log: Path, timeout: float, extra: list[str]) -> int:
    """Run ``executable --selftest``, copy its output to stdout and ``log``; 0 only if it passed."""
    command = [str(executable), "--selftest", *extra]
    print("+", " ".join(command), flush=True)
    started = time.monotonic()
    try:
        finished = subprocess.run(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode("utf-8", "replace")
        log.write_text(output, encoding="utf-8")
        print(output)
        print(
            f"run_selftest: no exit after {timeout:.0f} s; a windowed build that hit an unhandled exception "
            "waits on an error dialog.",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"run_selftest: could not start {executable}: {exc}", file=sys.stderr)
        return 1
    output = finished.stdout.decode("utf-8", "replace")
    log.write_text(output, encoding="utf-8")
    print(output, flush=True)
    print(f"run_selftest: exit {finished.returncode} after {time.monotonic() - started:.1f} s", flush=True)
    if finished.returncode != 0:
        return finished.returncode
    lines = {line.strip() for line in output.splitlines()}
    if missing := [line for line in REQUIRED_LINES if line not in lines]:
        print(
            f"run_selftest: exit 0 but no {missing[0]!r} line: the app's output did not come back.",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Everything after "--" goes to the app: run_selftest.py EXE -- --model tiny.en
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="-- ARGS: more for the app")
    parser.add_argument(
        "executable", nargs="?", type=Path, default=None, help="default: this OS's build in dist/"
    )
    parser.add_argument("--log", type=Path, default=Path("selftest.txt"), help="where the output goes too")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds (default 900)")
    args = parser.parse_args(argv)
    executable = args.executable or default_executable()
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        print(f"run_selftest: {executable} is not an executable file; build it first.", file=sys.stderr)
        return 1
    return run_selftest(executable, args.log, args.timeout, extra)


if __name__ == "__main__":
    sys.exit(main())
