"""A screen reader can follow: names and descriptions through Qt's accessibility interface, the
keyboard (tab order, shortcuts from one table, F1), caption announcements (opt-in, rate-limited),
WCAG 2.1 contrast of both themes (computed, and measured on rendered check boxes), and overlay
defaults that follow caption-legibility guidance."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QAction,
    QColor,
    QContextMenuEvent,
    QFontInfo,
    QImage,
    QKeySequence,
    QPalette,
    QShortcut,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from app.core.frontdata import FrontData, Line
from app.gui.announcements import AnnouncementThrottle, summarise
from app.gui.caption_rows import Span
from app.gui.contrast import (
    NON_TEXT_MINIMUM,
    TEXT_MINIMUM,
    composite,
    contrast_ratio,
    relative_luminance,
)
from app.gui.keyword_editor import KeywordEditor
from app.gui.overlay import DEFAULT_LINE_CHARS, SPEAKER_COLORS, CaptionOverlay, wrap_paragraph
from app.gui.overlay_settings import OverlaySettingsDialog
from app.gui.screen_reader import CaptionAnnouncer
from app.gui.settings import THEME_LABELS, Settings, load_settings
from app.gui.shortcuts import GROUPS, SHORTCUTS, bound
from app.gui.shortcuts_help import ShortcutsDialog, key_text
from app.gui.theme import THEMES, Theme, apply_theme
from app.gui.transcript_view import PAUSE_COLOR
from app.paths import resources_dir

INTERACTIVE = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QAbstractSlider, QAbstractItemView)


@pytest.fixture
def restore_look():
    """Themes restyle the whole application: later tests get Qt's plain look back."""
    app = QApplication.instance()
    palette = app.palette()
    yield app
    app.setStyleSheet("")
    app.setPalette(palette)


# --- contrast arithmetic and the two themes -------------------------------------------------


def test_wcag_arithmetic_matches_the_guideline():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the famous AA grey
    assert relative_luminance("#ff0000") == pytest.approx(0.2126)
    assert composite("#000000", "#ffffff", 0.5) == pytest.approx((0.5, 0.5, 0.5))


TEXT_PAIRS = (  # (foreground, background) of every text the themes draw
    ("text", "window"), ("text", "control"), ("text", "button"), ("text", "transcript"),
    ("muted", "window"), ("buffer_text", "window"), ("placeholder", "control"),
    ("accent_text", "accent"), ("stop_text", "stop"), ("error_text", "error_bg"),
    ("selection_text", "selection_bg"), ("text", "control_hover"),
)
NON_TEXT_PAIRS = (  # (edge or indicator, what is around it)
    ("indicator", "window"), ("indicator", "indicator_fill"),  # an unchecked check box
    ("checked", "window"), ("focus", "control_hover"),  # a checked one; a focused unchecked one
    ("border", "window"), ("border", "control"), ("border", "button"),  # buttons, fields, combo boxes
    ("focus", "window"), ("focus", "control"), ("focus_on_accent", "accent"), ("focus_on_accent", "stop"),
    ("accent", "window"), ("progress", "control"), ("scroll_handle", "transcript"), ("indicator", "control"),
)


@pytest.mark.parametrize("name", sorted(THEMES))
def test_every_theme_meets_wcag_contrast(name):
    theme = THEMES[name]

    def ratios(pairs: tuple[tuple[str, str], ...]) -> list[tuple[str, str, float]]:
        return [(f, b, round(contrast_ratio(getattr(theme, f), getattr(theme, b)), 2)) for f, b in pairs]

    assert [pair for pair in ratios(TEXT_PAIRS) if pair[2] < TEXT_MINIMUM] == []
    assert [pair for pair in ratios(NON_TEXT_PAIRS) if pair[2] < NON_TEXT_MINIMUM] == []
    for color in (*SPEAKER_COLORS, PAUSE_COLOR):  # the transcript's lines, on its background
        assert contrast_ratio(color, theme.transcript) >= TEXT_MINIMUM, color
    tick = re.search(r'stroke="(#[0-9a-f]{6})"', (resources_dir() / "styles" / theme.check_image).read_text())
    assert tick is not None and contrast_ratio(tick[1], theme.checked) >= NON_TEXT_MINIMUM


def test_the_settings_offer_exactly_the_themes_there_are():
    assert set(THEME_LABELS) == set(THEMES)
    assert Settings().theme == "dark" and Settings().announce_captions is False  # opt-in


PALETTE_ONLY = {"placeholder"}  # Qt reads a field's hint colour from the palette only


def test_every_theme_colour_reaches_the_stylesheet_or_the_palette():
    for theme in THEMES.values():
        sheet = theme.stylesheet()
        assert "$" not in sheet
        for field in dataclasses.fields(Theme):
            if field.name not in PALETTE_ONLY:
                assert getattr(theme, field.name) in sheet, f"{field.name} is never used"
        placeholder = theme.palette().color(QPalette.ColorRole.PlaceholderText)
        assert placeholder.name() == theme.placeholder


def indicator_pixels(box: QCheckBox) -> tuple[QColor, list[QColor]]:
    """The window colour beside the check box, and the pixels of its indicator's left edge."""
    image = box.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    background = image.pixelColor(image.width() - 1, image.height() // 2)  # right of the label
    middle = image.height() // 2
    edge = [image.pixelColor(x, middle) for x in range(0, 14)]
    return background, edge


@pytest.mark.parametrize("name", sorted(THEMES))
def test_rendered_unchecked_check_boxes_stand_out_from_the_window(qtbot, restore_look, name):
    """Measured on pixels, not taken from the table: Click-through and Local server, unchecked."""
    theme = apply_theme(restore_look, name)
    host = QWidget()
    layout = QVBoxLayout(host)
    boxes = [QCheckBox("Click-through"), QCheckBox("Local server")]
    for box in boxes:
        layout.addWidget(box)
    qtbot.addWidget(host)
    host.show()
    for box in boxes:
        background, edge = indicator_pixels(box)
        assert background.name() == theme.window
        best = max(contrast_ratio(background.name(), pixel.name()) for pixel in edge)
        assert best >= NON_TEXT_MINIMUM, f"{name}: the indicator's edge is only {best:.2f}:1"
        assert any(pixel.name() == theme.indicator for pixel in edge)
    boxes[0].setChecked(True)
    background, edge = indicator_pixels(boxes[0])
    assert any(pixel.name() == theme.checked for pixel in edge)


# --- overlay defaults -------------------------------------------------------------------------


def test_overlay_defaults_follow_caption_legibility_guidance(qtbot):
    settings = Settings()
    overlay = CaptionOverlay(settings)
    qtbot.addWidget(overlay)
    assert settings.overlay_lines == 2
    assert QFontInfo(overlay._font).pixelSize() >= 24
    assert settings.outline and settings.background_opacity >= 0.7
    # Readable on any background: white text on the box over a white and over a black picture.
    for behind in ("#ffffff", "#000000"):
        box = composite(settings.background_color, behind, settings.background_opacity)
        assert contrast_ratio(settings.text_color, box) >= 7.0  # WCAG AAA, before the outline helps

    # 32-42 characters a line at the default width.
    assert 32 <= DEFAULT_LINE_CHARS <= 42
    side = overlay._padding()[0]
    text = ("Thanks everyone for coming today. The first thing on the agenda is the budget for next "
            "year, and after that we will look at hiring and the new office plans before lunch.")
    rows = wrap_paragraph((Span(text, "text"),), overlay._font, overlay.default_width() - 2 * side)
    full_rows = [row.text for row in rows[:-1]]
    assert len(full_rows) >= 3
    lengths = [len(row) for row in full_rows]  # a row breaks at a word, so one may fall a little short
    assert all(28 <= length <= 42 for length in lengths) and 32 <= sum(lengths) / len(lengths) <= 42, lengths


def test_saved_overlay_settings_are_kept_over_new_defaults(config_dir):
    """A file written before these defaults (opacity 0.55, no theme) loads as it was."""
    config_dir.mkdir()
    old = {"version": 1, "background_opacity": 0.55, "font_size": 20, "overlay_lines": 3}
    (config_dir / "settings.json").write_text(json.dumps(old))
    loaded, warning = load_settings()
    assert warning is None
    assert (loaded.background_opacity, loaded.font_size, loaded.overlay_lines) == (0.55, 20, 3)
    assert loaded.theme == "dark" and not loaded.announce_captions


def test_high_contrast_overlay_is_white_on_opaque_black(qtbot):
    overlay = CaptionOverlay(Settings(theme="high_contrast", text_color="#336699", background_opacity=0.2))
    qtbot.addWidget(overlay)
    overlay.resize(700, overlay.height())
    overlay.show_update(FrontData(lines=(Line(1, "High contrast captions", 0.0, 1.0),)))
    image = overlay.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32)
    corner = image.pixelColor(6, image.height() // 2)
    assert corner.alpha() == 255 and corner.name() == "#000000"
    white = sum(1 for y in range(0, image.height(), 2) for x in range(0, image.width(), 2)
                if image.pixelColor(x, y).name() == "#ffffff")
    assert white > 50
    assert overlay.accessibleName() == "Captions" and overlay.accessibleDescription()
    assert overlay.scrollback.chip.accessibleDescription()  # named by its text: "3 new lines – …"


# --- announcements: the pure rules ------------------------------------------------------------


def test_lines_close_together_are_merged_into_one_announcement():
    throttle = AnnouncementThrottle()
    throttle.add("Good morning.", 10.0)
    throttle.add("Can you hear me?", 10.3)
    assert throttle.take(10.5) is None  # still settling: another line may follow
    assert throttle.next_due() == pytest.approx(11.0)
    assert throttle.take(11.0) == "Good morning. Can you hear me?"
    assert throttle.take(20.0) is None and throttle.next_due() is None


def test_announcements_are_never_closer_than_two_seconds():
    throttle = AnnouncementThrottle()
    sent: list[float] = []
    now = 0.0
    while now < 30.0:  # a line every 0.9 s, polled every 0.1 s
        if round(now * 10) % 9 == 0:
            throttle.add(f"Line at {now:.1f}.", now)
        if throttle.take(now) is not None:
            sent.append(now)
        now = round(now + 0.1, 1)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert sent and min(gaps) >= 2.0 - 1e-9
    assert sent[0] <= 3.0  # continuous speech does not hold the first line back for ever


def test_a_long_backlog_is_summarised_with_its_newest_lines():
    lines = [f"This is caption line number {n} of the backlog." for n in range(40)]
    message = summarise(lines, max_chars=200)
    assert message.startswith("36 earlier lines skipped")
    assert message.endswith("number 39 of the backlog.")
    assert len(message) < 260
    assert summarise(["x" * 500], max_chars=100).startswith("…") and len(summarise(["x" * 500], 100)) == 100
    assert summarise(["One.", "Two."]) == "One. Two."


def test_blank_lines_are_ignored_and_clear_drops_what_waits():
    throttle = AnnouncementThrottle()
    throttle.add("  ", 0.0)
    assert throttle.next_due() is None
    throttle.add("Hello.", 0.0)
    throttle.clear()
    assert throttle.take(5.0) is None


# --- announcements: the Qt side ---------------------------------------------------------------


def fast_announcer(target: QWidget, posted: list) -> CaptionAnnouncer:
    throttle = AnnouncementThrottle(min_interval_s=0.3, settle_s=0.05, max_wait_s=0.2)
    return CaptionAnnouncer(target, post=posted.append, throttle=throttle)


def test_the_announcer_posts_polite_announcement_events_only_when_enabled(qtbot):
    target = QWidget()
    qtbot.addWidget(target)
    posted: list = []
    announcer = fast_announcer(target, posted)
    announcer.add_lines(["Not asked for."])
    qtbot.wait(150)
    assert posted == []  # opt-in: off by default

    announcer.set_enabled(True)
    announcer.add_lines(["First line.", "Second line."])
    qtbot.waitUntil(lambda: len(posted) == 1, timeout=2000)
    event = posted[0]
    assert isinstance(event, QAccessibleAnnouncementEvent)
    assert event.type() == QAccessible.Event.Announcement
    assert event.message() == "First line. Second line."
    assert event.politeness() == QAccessible.AnnouncementPoliteness.Polite
    assert event.object() is target

    announcer.add_lines(["Third line."])
    qtbot.wait(100)
    assert len(posted) == 1  # the 0.3 s spacing holds it back
    qtbot.waitUntil(lambda: len(posted) == 2, timeout=2000)
    assert posted[1].message() == "Third line."

    announcer.add_lines(["Dropped."])
    announcer.set_enabled(False)
    qtbot.wait(500)
    assert len(posted) == 2


def test_the_real_accessibility_update_path_takes_the_event(qtbot):
    """QAccessible.updateAccessibility itself (no screen reader here: it must simply not fail)."""
    target = QWidget()
    qtbot.addWidget(target)
    announcer = CaptionAnnouncer(target, throttle=AnnouncementThrottle(0.0, 0.0, 0.0))
    said: list[str] = []
    announcer.announced.connect(said.append)
    announcer.set_enabled(True)
    announcer.add_lines(["Through Qt."])
    qtbot.waitUntil(lambda: said == ["Through Qt."], timeout=2000)


# --- names, descriptions and keys ---------------------------------------------------------------


def is_inner_part(widget: QWidget, root: QWidget) -> bool:
    """A piece of a compound control (a combo box's list, a spin box's text, a scroll bar)."""
    if widget.objectName().startswith("qt_") or isinstance(widget, QHeaderView):
        return True
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent, (QComboBox, QAbstractSpinBox, QLineEdit)) or (
            isinstance(parent, QAbstractScrollArea) and not isinstance(widget, QAbstractItemView)
        ):
            return True
        parent = parent.parentWidget()
    return False


def unnamed_controls(root: QWidget) -> list[str]:
    """Every interactive control under ``root`` whose accessible name or description is missing or
    has no letter in it (a bare "↑" or "×" tells a listener nothing).

    A combo box must have a name of its own too: on Windows and macOS that is what is read, while
    on Linux Qt reads its current choice as the name and the label beside it as a relation.
    """
    problems = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not isinstance(widget, INTERACTIVE) or is_inner_part(widget, root):
            continue
        face = QAccessible.queryAccessibleInterface(widget)
        name = face.text(QAccessible.Text.Name)
        description = face.text(QAccessible.Text.Description)
        own_name = widget.accessibleName() if isinstance(widget, QComboBox) else name
        if not any(char.isalpha() for char in name) or not description.strip() or not own_name:
            label = getattr(widget, "text", lambda: "")() if isinstance(widget, QAbstractButton) else ""
            what = f"{type(widget).__name__} {widget.objectName()!r} {label!r}"
            problems.append(f"{what}: {name!r} / {description!r}")
    return problems


def test_the_dialogs_name_and_describe_every_control(qtbot):
    style = OverlaySettingsDialog(Settings())
    shortcuts = ShortcutsDialog()
    alerts = KeywordEditor(Settings(alert_words={"Dana": True}))
    for dialog in (style, shortcuts, alerts):
        qtbot.addWidget(dialog)
        assert unnamed_controls(dialog) == []
    assert style.font.accessibleName() == "Caption font"  # not the font's name, as Qt would say
    assert style.findChild(QLabel, "highContrastNote") is None
    high = OverlaySettingsDialog(Settings(theme="high_contrast"))  # says why its colours do nothing now
    qtbot.addWidget(high)
    assert "High contrast is on" in high.findChild(QLabel, "highContrastNote").text()
    labels = [label for label in style.findChildren(QLabel) if "&" in label.text()]
    assert len(labels) >= 6 and all(label.buddy() is not None for label in labels)


def test_the_shortcut_table_is_well_formed():
    keys = [QKeySequence(keys) for shortcut in SHORTCUTS for keys in shortcut.all_keys()]
    assert all(not key.isEmpty() for key in keys)
    assert len({key.toString() for key in keys}) == len(keys)  # no key twice
    assert all(shortcut.group in GROUPS for shortcut in SHORTCUTS)
    assert "F1" in {shortcut.keys for shortcut in bound()}


def window_keys(window: QWidget) -> set[str]:
    """Every key sequence bound anywhere in the window, by QAction or QShortcut."""
    keys = set()
    for action in window.findChildren(QAction):
        keys.update(sequence.toString() for sequence in action.shortcuts() if not sequence.isEmpty())
    for shortcut in window.findChildren(QShortcut):
        keys.update(sequence.toString() for sequence in QShortcut.keys(shortcut) if not sequence.isEmpty())
    return keys


def tab_cycle(window: QWidget, start: QWidget) -> list[QWidget]:
    """The widgets Tab visits from ``start`` until it comes back round."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    visited = [QApplication.focusWidget()]
    for _ in range(200):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        current = QApplication.focusWidget()
        if current is visited[0]:
            break
        visited.append(current)
    return visited


def tab_stops(window: QWidget) -> list[QWidget]:
    return [
        widget for widget in window.findChildren(QWidget)
        if widget.isVisible() and widget.isEnabled() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        and widget.focusProxy() is None and not is_inner_part(widget, window)
    ]


def line_menu(window: QWidget) -> str:
    """Whose transcript line the open context menu is about (then closed)."""
    menus = [menu for menu in window.findChildren(QMenu) if menu.isVisible()]
    texts = [action.text() for menu in menus for action in menu.actions()]
    for menu in menus:
        menu.close()
    speakers = {text.removeprefix("Rename ").rstrip("…") for text in texts if text.startswith("Rename ")}
    assert len(menus) == 1 and len(speakers) == 1, texts
    return speakers.pop()


def test_main_window_works_from_the_keyboard_and_for_a_screen_reader(qtbot, make_window, restore_look):
    """One real window (the real engine): names, tab order, shortcuts, F1, the menu key,
    announcements, high contrast."""
    window = make_window(source="microphone")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)

    # Every control is named and described, hidden ones too (find bar, version box, refine panel).
    assert unnamed_controls(window) == []
    assert window.source_combo.accessibleName() == "Caption source"  # not "Microphone", its choice
    source = QAccessible.queryAccessibleInterface(window.source_combo)
    labels_of = source.relations(QAccessible.RelationFlag.Label)  # what Linux screen readers use
    assert [face.text(QAccessible.Text.Name) for face, _ in labels_of] == ["Source"]
    labels = [label for label in window.findChildren(QLabel) if "&" in label.text()]
    assert len(labels) >= 7 and all(label.buddy() is not None for label in labels)
    QTest.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is window.language_combo  # Alt+L: the label's mnemonic
    # The level meter changes many times a second: a QProgressBar would send each change to the
    # screen reader (Orca speaks progress bars by default). It is named and described instead.
    assert not isinstance(window.level_meter, QProgressBar)
    assert window.level_meter.accessibleName() == "Input level"

    # Tab reaches every control, each once, in reading order from Start.
    visited = tab_cycle(window, window.start_button)
    missing = [f"{type(w).__name__} {w.objectName()}" for w in tab_stops(window) if w not in visited]
    assert missing == []
    assert len(visited) == len(set(visited))
    order = [window.start_button, window.source_combo, window.language_combo, window.target_combo,
             window.transcript_view, window.server_check, window.origins_edit]
    positions = [visited.index(widget) for widget in order]
    assert positions == sorted(positions)

    # Every key bound in the window is in the one table, and every bound entry of the table is bound.
    table = {QKeySequence(keys).toString() for shortcut in SHORTCUTS for keys in shortcut.all_keys()}
    bound_here = window_keys(window)
    assert bound_here - table == set(), "a shortcut the Help dialog does not list"
    assert {QKeySequence(shortcut.keys).toString() for shortcut in bound()} <= bound_here

    # The menus are reachable: Alt+V opens View, with the accessibility choices in it.
    QTest.keyClick(window, Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=2000)
    view_menu = QApplication.activePopupWidget()
    assert {window.announce_action, window.high_contrast_action} <= set(view_menu.actions())
    view_menu.close()

    # F1 opens the list, which is the table.
    QTest.keyClick(window, Qt.Key.Key_F1)
    dialog = window.findChild(ShortcutsDialog)
    assert dialog is not None and dialog.isVisible()
    listed = dialog.listed()
    assert sorted(listed) == sorted((", ".join(map(key_text, s.all_keys())), s.does) for s in SHORTCUTS)
    assert ("F1", "This list of keyboard shortcuts") in listed
    dialog.close()

    # The menu key on the transcript opens the current line's menu (not the one under the mouse).
    from app.transcript.record import SessionRecord

    window.record = SessionRecord()
    turns = (Line(1, "Hello there.", 0.0, 1.0), Line(2, "Hi, Sam here.", 1.2, 2.0))
    posted: list = []
    window.announcer._post = posted.append  # the seam: what would reach the screen reader
    window.on_update("", FrontData("active_transcription", turns))
    view = window.transcript_view
    view.setFocus()
    view.setCurrentIndex(window.transcript.index(1))
    # As Qt delivers the menu key on X11: to the focus widget, at the mouse pointer (here row 0).
    event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, QPoint(2, 2), view.mapToGlobal(QPoint(2, 2)))
    QApplication.sendEvent(view, event)
    assert line_menu(window) == "Speaker 2"
    QTest.keyClick(view, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)  # the other usual key
    assert line_menu(window) == "Speaker 2"

    # Announcements: off until asked for; then the next committed lines, labelled, merged.
    qtbot.wait(100)
    assert posted == []
    window.announce_action.trigger()
    assert window.settings.announce_captions
    more = (*turns, Line(1, "Welcome back.", 2.2, 3.0), Line(2, "Thanks.", 3.1, 3.5))
    window.on_update("", FrontData("active_transcription", more))
    qtbot.waitUntil(lambda: len(posted) == 1, timeout=5000)
    assert posted[0].message() == "Speaker 1: Welcome back. Speaker 2: Thanks."  # not the old lines

    # "Translation only" on the overlay: a line is said in translation, once that has come in.
    only_translation = {"target_language": "de", "overlay_translation": "translation"}
    window.settings = dataclasses.replace(window.settings, **only_translation)
    pending = (*more, Line(1, "See you.", 3.6, 4.0))
    window.on_update("", FrontData("active_transcription", pending))
    qtbot.wait(2500)
    assert len(posted) == 1
    done = (*more, Line(1, "See you.", 3.6, 4.0, translation="Bis bald."))
    window.on_update("", FrontData("active_transcription", done))
    qtbot.waitUntil(lambda: len(posted) == 2, timeout=5000)
    assert posted[1].message() == "Speaker 1: Bis bald."

    # High contrast: the whole app restyled, the overlay with it, the choice saved.
    window.high_contrast_action.trigger()
    assert window.settings.theme == "high_contrast"
    assert restore_look.styleSheet() == THEMES["high_contrast"].stylesheet()
    assert window.overlay._settings.theme == "high_contrast"
    window.high_contrast_action.trigger()
    assert restore_look.styleSheet() == THEMES["dark"].stylesheet()
