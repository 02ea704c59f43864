"""What the Windows, macOS and Flatpak builds rely on, checked on Linux without building them.

The builds themselves run in .github/workflows/release.yml (tests/test_release_workflow.py checks
that file); these pin the facts they depend on: the Windows data dir and per-user install, a
windowed build's missing console, the selftest runner the workflow uses, and the Flatpak manifest.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path, PureWindowsPath

import platformdirs
import platformdirs.windows
import pytest
import yaml

from app import __version__, paths

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))
import run_selftest  # noqa: E402

LOCAL = r"C:\Users\ana\AppData\Local"
ROAMING = r"C:\Users\ana\AppData\Roaming"


def test_on_windows_the_data_dir_is_under_localappdata(monkeypatch):
    """Models, logs and settings stay on this PC: %LOCALAPPDATA%, not the roaming profile."""
    folders = {"CSIDL_LOCAL_APPDATA": LOCAL, "CSIDL_APPDATA": ROAMING}
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", folders.__getitem__)
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.windows.Windows)
    monkeypatch.delenv("SAYLINE_DATA_DIR", raising=False)
    assert PureWindowsPath(str(paths.data_dir())) == PureWindowsPath(LOCAL, "Sayline", "Sayline")


def test_the_windows_installer_is_per_user_without_admin():
    script = (PACKAGING / "windows" / "sayline.iss").read_text(encoding="utf-8")
    setup = dict(
        line.split("=", 1) for line in script.split("[Setup]")[1].split("\n[")[0].splitlines()
        if "=" in line and not line.startswith(";")
    )
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["DefaultDirName"] == r"{autopf}\Sayline"  # per user: %LOCALAPPDATA%\Programs\Sayline
    # The name packaging/build.py reports and the release workflow uploads.
    assert setup["OutputBaseFilename"] == "Sayline-{#AppVersion}-windows-x64-setup"
    assert "windows-x64-setup.exe" in (PACKAGING / "build.py").read_text(encoding="utf-8")


def test_the_spec_carries_the_mac_microphone_sentence_and_windows_loopback():
    spec = (PACKAGING / "sayline.spec").read_text(encoding="utf-8")
    assert re.search(r'"NSMicrophoneUsageDescription": "Sayline [^"]+"', spec)
    assert '"pyaudiowpatch"' in spec and 'sys.platform == "win32"' in spec
    assert "target_arch=platform.machine()" in spec


def test_a_windowed_build_without_stdout_and_stderr_still_runs(tmp_path):
    """A windowed Windows build starts with sys.stdout and sys.stderr set to None.

    Closing descriptors 1 and 2 gives Python the same start here; the entry point (main.py, then
    app.cli.main) must make writable streams before anything prints.
    """
    probe = tmp_path / "probe.txt"
    code = textwrap.dedent(f"""
        import runpy, sys
        started_without = sys.stdout is None and sys.stderr is None
        sys.argv = ["main.py", "--version"]
        try:
            runpy.run_path({str(ROOT / "main.py")!r}, run_name="__main__")
        except SystemExit as exc:
            code = exc.code
        with open({str(probe)!r}, "w") as out:
            out.write(f"{{started_without}} {{code}} {{sys.stdout.writable()}} {{sys.stderr.writable()}}")
    """)
    subprocess.run(
        ["sh", "-c", 'exec "$@" >&- 2>&-', "sh", sys.executable, "-c", code], cwd=ROOT, timeout=60, check=True
    )
    assert probe.read_text() == "True 0 True True"


def fake_app(folder: Path, script: str) -> Path:
    """An executable standing in for the frozen app, which runs ``script`` (sh) for --selftest."""
    app = folder / "sayline"
    app.write_text(f"#!/bin/sh\n{script}\n")
    app.chmod(0o755)
    return app


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ('echo "selftest: OK"; echo "selftest: speakers OK"; exit 0', 0),
        ("exit 0", 1),  # exit 0 but the output never came back: a windowed build writing to devnull
        ('echo "selftest: OK"; exit 0', 1),  # the speakers check did not pass
        ('echo "sayline: selftest failed: no words" >&2; exit 3', 3),
    ],
)
def test_run_selftest_needs_exit_0_and_both_ok_lines(tmp_path, script, expected):
    app = fake_app(tmp_path, script)
    log = tmp_path / "selftest.txt"
    assert run_selftest.main([str(app), "--log", str(log)]) == expected
    assert log.is_file()


def test_run_selftest_gives_up_on_a_hung_app(tmp_path):
    app = fake_app(tmp_path, "exec sleep 30")  # as a windowed build waiting on its error dialog
    assert run_selftest.main([str(app), "--log", str(tmp_path / "log.txt"), "--timeout", "0.5"]) == 1


def test_run_selftest_passes_extra_arguments_and_refuses_a_missing_app(tmp_path):
    passes = 'echo "selftest: OK"; echo "selftest: speakers OK"'
    app = fake_app(tmp_path, f'echo "$@"; [ "$2" = --model ] && {{ {passes}; }}')
    assert run_selftest.main([str(app), "--log", str(tmp_path / "log.txt"), "--", "--model", "tiny.en"]) == 0
    assert "--selftest --model tiny.en" in (tmp_path / "log.txt").read_text()
    assert run_selftest.main([str(tmp_path / "missing")]) == 1


FLATPAK = PACKAGING / "linux" / "io.github.sayline.Sayline.yml"


def test_the_flatpak_manifest_wraps_this_versions_bundle():
    manifest = yaml.safe_load(FLATPAK.read_text(encoding="utf-8"))
    assert manifest["app-id"] == "io.github.sayline.Sayline"
    assert manifest["command"] == "sayline"
    sockets = {"--socket=pulseaudio", "--socket=wayland", "--socket=fallback-x11"}
    assert sockets <= set(manifest["finish-args"])
    assert not any(arg.startswith("--filesystem") for arg in manifest["finish-args"])  # own data dir only
    (module,) = manifest["modules"]
    archive, *files = module["sources"]
    # build.py's tarball name; a new version needs the manifest updated with it.
    assert archive["path"] == f"../../dist/Sayline-{__version__}-linux-x86_64.tar.gz"
    for source in files:
        assert (FLATPAK.parent / source["path"]).is_file(), source["path"]
    assert manifest["rename-desktop-file"] == "sayline.desktop" and manifest["rename-icon"] == "sayline"


def test_flatpak_builder_reads_the_manifest_without_complaint(tmp_path):
    if shutil.which("flatpak-builder") is None:
        pytest.skip("flatpak-builder is not installed (apt-get install flatpak-builder)")
    result = subprocess.run(  # in tmp_path: flatpak-builder makes its .flatpak-builder/ state dir in cwd
        ["flatpak-builder", "--show-manifest", str(FLATPAK)], capture_output=True, text=True, timeout=60,
        cwd=tmp_path, env={**os.environ, "G_MESSAGES_DEBUG": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown property" not in result.stderr, result.stderr
    assert json.loads(result.stdout)["id"] == "io.github.sayline.Sayline"
