"""The editor for keyword alerts: the words and names to listen for, each with its own on/off.

A per-word switch rather than delete-and-retype: a user mutes "Dana" for a meeting where another
Dana talks all the time and wants it back afterwards. The dialog edits a copy and hands the
result back with `saved`; the main window owns the settings and saves them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.gui.accessibility import describe
from app.gui.settings import ALERT_WORD_CHARS, ALERT_WORDS_MAX, Settings

HELP = (
    "Sayline flashes the word on the caption overlay and notifies you when it hears one of these: "
    "your name, a nickname, \u201cfire alarm\u201d. Spelling variants are found too (Catherine, "
    "Katherine, Kathryn; Dana's), so add each name once. Untick a word to mute it for now."
)


class KeywordEditor(QDialog):
    """Add, remove, rename and switch the alert words; choose the chime and the notification."""

    saved = Signal(dict)  # the changed Settings fields: alert_words, alert_sound, alert_notification

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alert words")
        self.setObjectName("keywordEditor")
        layout = QVBoxLayout(self)
        help_label = QLabel(HELP)
        help_label.setWordWrap(True)
        layout.addWidget(help_label)

        self.word_list = QListWidget(objectName="alertWordList")
        self.word_list.setAccessibleName("Alert words")
        for word, on in settings.alert_words.items():
            self._add_item(word, on)
        layout.addWidget(self.word_list, 1)

        row = QHBoxLayout()
        self.new_word = QLineEdit(objectName="newAlertWord")
        self.new_word.setPlaceholderText("A word or name, e.g. Dana")
        self.new_word.setMaxLength(ALERT_WORD_CHARS)
        self.new_word.setAccessibleName("New alert word")
        self.new_word.returnPressed.connect(self.add_word)
        row.addWidget(self.new_word, 1)
        self.add_button = QPushButton("Add", objectName="addAlertWord")
        self.add_button.clicked.connect(self.add_word)
        row.addWidget(self.add_button)
        self.remove_button = QPushButton("Remove", objectName="removeAlertWord")
        self.remove_button.clicked.connect(self.remove_selected)
        row.addWidget(self.remove_button)
        layout.addLayout(row)

        self.sound_check = QCheckBox("Play a chime", objectName="alertSoundCheck")
        self.sound_check.setChecked(settings.alert_sound)
        layout.addWidget(self.sound_check)
        self.notification_check = QCheckBox("Show a desktop notification")
        self.notification_check.setObjectName("alertNotificationCheck")
        self.notification_check.setChecked(settings.alert_notification)
        layout.addWidget(self.notification_check)

        choice = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(choice.Save | choice.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        buttons.button(choice.Save).setObjectName("saveAlertWords")
        buttons.button(choice.Cancel).setObjectName("cancelAlertWords")
        describe(self)  # accessible descriptions (app/gui/accessibility.py)
        self.resize(420, 380)

    def words(self) -> dict[str, bool]:
        """The list as it stands: word -> on, blank entries dropped, the first of a repeated spelling kept."""
        result: dict[str, bool] = {}
        seen: set[str] = set()
        for index in range(self.word_list.count()):
            item = self.word_list.item(index)
            text = " ".join(item.text().split())
            if text and text.casefold() not in seen:
                seen.add(text.casefold())
                result[text] = item.checkState() == Qt.CheckState.Checked
        return result

    def add_word(self) -> None:
        text = " ".join(self.new_word.text().split())
        if not text:
            return
        if text.casefold() in {word.casefold() for word in self.words()}:
            self.new_word.clear()  # already there: nothing to add
            return
        if self.word_list.count() >= ALERT_WORDS_MAX:
            self.new_word.setToolTip(f"At most {ALERT_WORDS_MAX} words.")
            return
        self._add_item(text, True)
        self.new_word.clear()

    def remove_selected(self) -> None:
        for item in self.word_list.selectedItems():
            self.word_list.takeItem(self.word_list.row(item))

    def accept(self) -> None:
        self.saved.emit(
            {
                "alert_words": self.words(),
                "alert_sound": self.sound_check.isChecked(),
                "alert_notification": self.notification_check.isChecked(),
            }
        )
        super().accept()

    def _add_item(self, word: str, on: bool) -> None:
        item = QListWidgetItem(word)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable)
        item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.word_list.addItem(item)
