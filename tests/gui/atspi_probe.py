"""What a Linux screen reader sees of Sayline, read through AT-SPI as Orca reads it (not a test file).

Run by the system's python3 (it needs PyGObject and the Atspi typelib, which are Debian packages,
not wheels) inside the private D-Bus session tests/gui/atspi_session.py sets up. It listens for
announcements, waits until the app says its window is up (the ``shown`` file), walks the app's
accessible tree, tells the app it is listening (the ``ready`` file), and prints one JSON object:
every node (role, name, description, its parent's role, what labels it) and the announcements heard.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi, GLib  # noqa: E402  (after require_version, as PyGObject wants)

APP_NAME = "Sayline"


def find_app(shown: Path, timeout_s: float) -> Atspi.Accessible | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not shown.exists():
            time.sleep(0.1)
            continue
        desktop = Atspi.get_desktop(0)
        for index in range(desktop.get_child_count()):
            child = desktop.get_child_at_index(index)
            if child is not None and child.get_name() == APP_NAME:
                return child
        time.sleep(0.2)
    return None


def labelled_by(node: Atspi.Accessible) -> list[str]:
    names = []
    for relation in node.get_relation_set() or []:
        if relation.get_relation_type() == Atspi.RelationType.LABELLED_BY:
            names += [relation.get_target(i).get_name() for i in range(relation.get_n_targets())]
    return names


def walk(node: Atspi.Accessible, parent_role: str, out: list[dict]) -> None:
    try:
        role = node.get_role_name()
        out.append({"role": role, "name": node.get_name(), "description": node.get_description(),
                    "parent": parent_role, "labelled_by": labelled_by(node)})
        for index in range(node.get_child_count()):
            child = node.get_child_at_index(index)
            if child is not None:
                walk(child, role, out)
    except GLib.Error:  # a node that went away while being read
        pass


def main(workdir: Path, listen_s: float) -> None:
    heard: list[str] = []
    listener = Atspi.EventListener.new(lambda event: heard.append(str(event.any_data)))
    listener.register("object:announcement")
    app = find_app(workdir / "shown", timeout_s=30.0)
    nodes: list[dict] = []
    if app is not None:
        walk(app, "", nodes)
    (workdir / "ready").write_text("listening")
    context = GLib.MainContext.default()
    deadline = time.monotonic() + listen_s
    while time.monotonic() < deadline and not heard:
        context.iteration(False)
        time.sleep(0.02)
    print(json.dumps({"found": app is not None, "nodes": nodes, "heard": heard}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]))
