"""Every keyboard shortcut of the app, in one table: the main window binds it, Help lists it.

One table so the Help ▸ Keyboard shortcuts dialog can never list a key that does nothing or miss
one that does something (tests/gui/test_accessibility.py also checks every shortcut bound in the
window against it). An entry with an ``action`` is bound application-wide by the main window to
that attribute path on itself (``"overlay.scrollback.go_live"``), so it works while the overlay,
a dialog or another window of the app is active. An entry without one is listed only: a key its
own widget handles (the transcript's find bar) or one Qt gives every window (Tab, Space).

The overlay's scrollback keys come from ``OverlayScrollback.SHORTCUTS``, the scrollback's own
table, so their keys are written once too; only their descriptions are here.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.gui.overlay_scrollback import OverlayScrollback

# The Help dialog's groups, in the order it shows them.
GROUPS = ("Captioning", "Overlay", "Transcript", "Help", "Moving around")


@dataclass(frozen=True)
class Shortcut:
    keys: str  # as QKeySequence reads it ("Ctrl+Return"); the dialog shows it in the platform's words
    does: str  # what happens, for the Help dialog
    group: str
    action: str = ""  # attribute path on the main window, called when pressed; "" = listed only
    also: tuple[str, ...] = ()  # other keys that do the same (a platform's standard alternative)

    def all_keys(self) -> tuple[str, ...]:
        return (self.keys, *self.also)


_SCROLLBACK_DOES = {  # OverlayScrollback method -> what its key does
    "page_back": "Page the overlay back through earlier captions (captioning goes on)",
    "page_forward": "Page the overlay forward again",
    "go_live": "Overlay back to the live captions",
    "back": "Overlay one row back",
    "forward": "Overlay one row forward",
    "oldest": "Overlay to the oldest caption kept",
}


def _scrollback() -> tuple[Shortcut, ...]:
    return tuple(
        Shortcut(keys, _SCROLLBACK_DOES.get(method, method.replace("_", " ").capitalize()), "Overlay",
                 f"overlay.scrollback.{method}")
        for keys, method in OverlayScrollback.SHORTCUTS.items()
    )


# Bound on the transcript by accessibility.KeyboardContextMenu (the menu key needs no binding: it
# arrives as a context menu event, which that class also handles).
LINE_MENU = Shortcut("Shift+F10", "Rename the speaker of the selected transcript line", "Transcript")

SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("Ctrl+Return", "Start or stop captioning", "Captioning", "toggle_captioning"),
    Shortcut("Ctrl+Q", "Quit (the last words are committed and saved first)", "Captioning", "close"),
    Shortcut("Ctrl+Shift+O", "Show or hide the caption overlay", "Overlay", "overlay_check.toggle"),
    Shortcut("Ctrl+Shift+T", "Turn the overlay's click-through on or off", "Overlay",
             "click_through_check.toggle"),
    *_scrollback(),
    Shortcut("Ctrl+Shift+C", "Copy the transcript", "Transcript", "copy_transcript"),
    Shortcut("Ctrl+E", "Export the transcript as text", "Transcript", "export_text"),
    # find_bar.FindBar binds these; Qt's standard Find also takes the Find key some keyboards have
    Shortcut("Ctrl+F", "Find in the transcript", "Transcript", also=("Find",)),
    Shortcut("F3", "Next match (Enter in the find field)", "Transcript"),
    Shortcut("Shift+F3", "Previous match (Shift+Enter in the find field)", "Transcript"),
    Shortcut("Esc", "Close the find bar", "Transcript"),
    Shortcut("Menu", "Rename the speaker of the selected transcript line", "Transcript"),
    LINE_MENU,
    Shortcut("F1", "This list of keyboard shortcuts", "Help", "show_shortcuts"),
    Shortcut("Tab", "Next control (Shift+Tab: the previous one)", "Moving around"),
    Shortcut("Space", "Press the focused button, tick or untick the focused check box", "Moving around"),
    Shortcut("Alt+V", "The View menu: high contrast, screen reader announcements, overlay place",
             "Moving around"),
    Shortcut("Alt+H", "The Help menu", "Moving around"),
    Shortcut("Alt+S", "To the source box (each underlined letter on a label goes to its control)",
             "Moving around"),
)


def bound() -> tuple[Shortcut, ...]:
    """The shortcuts the main window binds itself."""
    return tuple(shortcut for shortcut in SHORTCUTS if shortcut.action)


def keys_for(action: str) -> str:
    """The keys bound to ``action``, for a menu item to show beside its text."""
    return next(shortcut.keys for shortcut in SHORTCUTS if shortcut.action == action)
