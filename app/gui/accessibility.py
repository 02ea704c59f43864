"""What a screen reader says for each control: accessible names and descriptions, and label buddies.

Why a table instead of calls scattered through the window code: the window's layout code stays
about layout, and the words a blind user hears are all in one place to read through and keep
consistent. Keys are object names. A name of None keeps what Qt derives from the control's own
text (a button's or a check box's label, which already names it, and which changes, Start to
Stop); a description of None keeps the tooltip, which Qt reads as the description, so a tooltip
that changes (the Speakers box saying why it is greyed out) is heard as it changes.

Combo boxes, spin boxes and text fields need a name of their own: Qt reads a combo box's current
choice as its name ("English"), not the label beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QContextMenuEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QLabel, QWidget

CALIBRATE = (  # the Models dialog's button and the main window's first-run offer do the same
    "Time the installed models on this computer for a few seconds and recommend the most accurate one "
    "that keeps captions live"
)

# objectName -> (accessible name or None, accessible description or None)
TEXTS: dict[str, tuple[str | None, str | None]] = {
    # the main window, top row
    "startButton": (None, "Start captioning the chosen source; while captioning, stop and keep the "
                          "transcript. Ctrl+Return."),
    "sourceCombo": ("Caption source", "Where the speech comes from: the microphone, the computer's own "
                                      "sound, both as a meeting, or one application"),
    "deviceCombo": ("Microphone", "Which microphone is captioned when the source includes the microphone"),
    "levelMeter": ("Input level", "How loud the captured sound is, from -60 to 0 decibels"),
    "languageCombo": ("Spoken language", "The language being spoken; Auto-detect recognises it from "
                                         "the first words"),
    "modelCombo": ("Recognition model", "The speech model: the bundled ones and those downloaded; "
                                        "Models… compares them"),
    "modelsButton": (None, "Compare the speech models, how fast each runs on this computer, and "
                           "download or remove them"),
    "policyCombo": ("Commit policy", "When recognised words become final: each choice's tooltip says how"),
    # translation and transcript options
    "targetCombo": ("Translate to", "The language captions are translated into; Off shows the original "
                                    "only"),
    "pairsButton": (None, "The installed translation language pairs, and installing or downloading more"),
    "overlay_translationCombo": ("Overlay shows", "What the caption overlay shows while translating: "
                                                  "the original, the translation, or both"),
    # the transcript
    "transcriptView": ("Transcript", "Every caption line with its time, newest last. The menu key on a "
                                     "line renames its speaker; Ctrl+F finds words."),
    "bufferLabel": ("Words being recognised", "The newest words, not final yet"),
    "versionCombo": ("Transcript version", None),
    "copyButton": (None, "Copy the whole transcript to the clipboard. Ctrl+Shift+C."),
    "exportButton": (None, "Save the transcript as TXT, SRT, WebVTT or JSON. Ctrl+E saves text."),
    "reopenButton": (None, "Show the transcript of the most recently saved session"),
    # the overlay's controls
    "overlayCheck": (None, "Show or hide the always-on-top caption overlay. Ctrl+Shift+O."),
    "overlayStyleButton": (None, "Lines, font, size, colours, box and outline of the caption overlay"),
    "clickThroughCheck": (None, "Let mouse clicks pass through the overlay to the window under it. "
                                "Ctrl+Shift+T turns it off again."),
    # the local server
    "portSpin": ("Server port", "The port the local caption server listens on, from its next start"),
    "originsEdit": ("Allowed origins", None),
    "serverUrl": ("Server address", "The WebSocket address clients connect to while the server runs; "
                                    "empty while it is off"),
    "copyUrlButton": (None, "Copy the server's WebSocket address to the clipboard"),
    "copyPageButton": (None, "Copy the link to the server's live caption web page to the clipboard"),
    # the status bar
    "statusProgress": ("Progress", "Preparing the model or downloading a language pair"),
    "refineProgress": ("Refining progress", "How much of the stopped session has been decoded again"),
    "calibrateOffer": (None, CALIBRATE),
    "modelLabel": ("Model in use", "The loaded speech model, the processor it runs on (CPU or GPU) and "
                                   "its number format"),
    # the Models dialog (app/gui/models_dialog.py)
    "modelTable": ("Speech models", "One row per model: its size, languages, speed on this computer and "
                                    "whether it is bundled, installed or available; the recommended one "
                                    "says so"),
    "downloadModelButton": (None, "Download the selected model; a cancelled download resumes where it "
                                  "stopped"),
    "cancelModelButton": (None, "Stop the download or calibration under way; what was downloaded is kept"),
    "removeModelButton": (None, "Delete the selected downloaded model from this computer"),
    "useModelButton": (None, "Caption with the selected model from now on; it loads at once"),
    "calibrateButton": (None, CALIBRATE),
    "modelProgress": ("Model progress", "How much of the download or calibration is done"),
    "modelStatus": ("Models status", None),
    # the overlay style dialog
    "overlayLinesSpin": ("Caption lines", "How many lines the overlay shows, 1 to 4; two are easiest to "
                                          "follow"),
    "overlayFontCombo": ("Caption font", "The typeface of the captions"),
    "overlaySizeSpin": ("Caption size", "The size of the caption letters in points"),
    "textColorButton": ("Text colour", None),  # described with its current colour as it changes
    "backgroundColorButton": ("Box colour", None),
    "opacitySlider": ("Box opacity", "How solid the box behind the captions is, 0 to 100 percent; "
                                     "a solid box keeps captions readable over anything"),
    "outlineCheck": (None, "Draw a contrasting edge around every letter, readable over any picture"),
    "captionHoldCombo": ("Keep the last caption for", None),
    # the alert words dialog
    "alertWordList": (None, "Words and names that raise an alert when heard: Space ticks or unticks "
                            "one, F2 changes it"),
    "newAlertWord": (None, "Type a word or name and press Enter to add it to the list"),
    "addAlertWord": (None, "Add the word typed in the field to the list"),
    "removeAlertWord": (None, "Remove the selected words from the list"),
    "alertSoundCheck": (None, "Play a short chime when an alert word is heard"),
    "alertNotificationCheck": (None, "Show a desktop notification when an alert word is heard"),
    "saveAlertWords": (None, "Keep these alert words and choices"),
    "cancelAlertWords": (None, "Close without changing the alert words"),
    # the remembered voices dialogs (app/gui/voices.py)
    "rememberVoiceCheck": (None, "Also remember this person's voice (a voice vector only, no audio) so "
                                 "that new sessions show this name for them"),
    "voicesButton": (None, "Open the list of remembered voices, to rename or forget each"),
    "voiceList": (None, "The voices Sayline remembers: a speaker with one of them is named in new sessions"),
    "renameVoiceButton": (None, "Give the selected voice another name"),
    "forgetVoiceButton": (None, "Forget the selected voice: new sessions number that speaker again"),
    "speakerNameEdit": (None, "The name shown for this speaker in the captions, the transcript and "
                              "exports; empty gives back the number"),
}


def describe(root: QWidget) -> None:
    """Give ``root`` and every widget under it its entry in TEXTS (if it has one)."""
    for widget in (root, *root.findChildren(QWidget)):
        entry = TEXTS.get(widget.objectName())
        if entry is None:
            continue
        name, description = entry
        if name is not None:
            widget.setAccessibleName(name)
        if description is not None:
            widget.setAccessibleDescription(description)


def buddy_label(text: str, buddy: QWidget) -> QLabel:
    """A label for ``buddy`` with its mnemonic (``"&Source"``: Alt+S moves the focus to ``buddy``)."""
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


class KeyboardContextMenu(QObject):
    """The menu key and Shift+F10 open ``view``'s context menu on its current row.

    Why: X11 sends the menu key's context menu to where the mouse pointer is, so the menu
    would be about whatever row lies under the pointer (or none); Shift+F10, the other usual
    key, does nothing at all on Linux. ``open_menu`` is the view's own handler, given a point
    in the viewport, as for a right-click.
    """

    def __init__(
        self, view: QAbstractItemView, open_menu: Callable[[QPoint], None], keys: Sequence[str]
    ) -> None:
        super().__init__(view)
        self._view = view
        self._open_menu = open_menu
        view.installEventFilter(self)  # where Qt sends a keyboard context menu (the focus widget)
        view.viewport().installEventFilter(self)  # where a mouse one goes, should one say Keyboard
        for key in keys:  # besides the menu key, which arrives as a context menu event
            on_view = Qt.ShortcutContext.WidgetWithChildrenShortcut
            QShortcut(QKeySequence(key), view, self.open, context=on_view)

    def open(self) -> None:
        index = self._view.currentIndex()
        if not index.isValid() and self._view.model() is not None and self._view.model().rowCount():
            index = self._view.model().index(0, 0)
        if index.isValid():
            self._view.scrollTo(index)
            self._open_menu(self._view.visualRect(index).center())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ContextMenu
            and isinstance(event, QContextMenuEvent)
            and event.reason() == QContextMenuEvent.Reason.Keyboard
        ):
            self.open()
            return True
        return super().eventFilter(watched, event)
