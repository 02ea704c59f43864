"""Dropping what a Sayline bundle never loads: unused Qt plugins and the libraries only they needed.

PyInstaller's Qt hooks collect every plugin of a used module (all platforms, all image formats,
the GTK 3 theme) and then every system library those plugins link. Sayline needs the X11 and
Wayland platforms, the SVG icon and little else; the GTK 3 theme alone drags in GTK, GDK, Cairo
and Pango (about 19 MB on Debian 12), which also clash with the user's own GTK modules. This runs
inside the spec, on PyInstaller's tables, before anything is copied. It is used for Linux builds
only: that is where the GTK theme and the system libraries come from, and where it is tested.
"""

from __future__ import annotations

from pathlib import PurePath

from PyInstaller.depend.bindepend import get_imports

QT_PLUGINS = "PySide6/Qt/plugins/"
UNUSED_PLUGINS = (
    "platformthemes/libqgtk3",  # the GTK 3 theme: GTK, Cairo, Pango; Qt's own look plus app.qss suffice
    "platforms/libqeglfs", "platforms/libqlinuxfb", "platforms/libqminimalegl", "platforms/libqvnc",
    "platforms/libqvkkhrdisplay", "egldeviceintegrations/",  # kiosk and embedded screens
    "imageformats/libqgif", "imageformats/libqicns", "imageformats/libqjpeg", "imageformats/libqtga",
    "imageformats/libqtiff", "imageformats/libqwbmp", "imageformats/libqwebp",  # the app shows an SVG only
)
# The interpreter (the bootloader loads it) and PortAudio (ctypes loads it): nothing links either.
KEEP_TOP_LEVEL = ("libpython", "libportaudio.so")


def is_unused_plugin(dest: str) -> bool:
    return dest.startswith(QT_PLUGINS) and dest[len(QT_PLUGINS):].startswith(UNUSED_PLUGINS)


def prune(binaries: list[tuple[str, str, str]]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """``binaries`` less unused plugins and the top-level libraries nothing kept links; and what went.

    Libraries in package folders (Qt's own, ctranslate2.libs, extension modules) are always kept;
    system libraries PyInstaller put at the top level stay only if something kept still links them.
    """
    kept = [entry for entry in binaries if not is_unused_plugin(entry[0])]
    top_level = {entry[0]: entry for entry in kept if len(PurePath(entry[0]).parts) == 1}

    def is_root(entry: tuple[str, str, str]) -> bool:
        dest, _, typecode = entry
        return dest not in top_level or typecode == "EXTENSION" or dest.startswith(KEEP_TOP_LEVEL)

    needed = {entry[0] for entry in kept if is_root(entry)}
    pending = [entry[1] for entry in kept if is_root(entry)]
    while pending:
        for name, _path in get_imports(pending.pop()):
            base = PurePath(name).name
            if base in top_level and base not in needed:
                needed.add(base)
                pending.append(top_level[base][1])
    result = [entry for entry in kept if entry[0] in needed]
    dropped = sorted({entry[0] for entry in binaries} - needed)
    return result, dropped
