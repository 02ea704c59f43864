"""Remembered voices in the desktop app: naming a speaker (and remembering the voice), the list.

The vectors live in the engine's store (app/core/diarization/profiles.py); these dialogs
only read names from it and ask for renames and forgets, each saved at once.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.diarization.profiles import MIN_ENROL_SECONDS, ProfileError, ProfileStore
from app.gui.accessibility import describe

REMEMBER_HINT = (
    f"Sayline stores only a voice vector (no audio, no words) and names this voice in later sessions. "
    f"It needs about {MIN_ENROL_SECONDS:.0f} s of this person speaking."
)


class SpeakerNameDialog(QDialog):
    """A speaker's name, and whether to remember the voice for later sessions."""

    def __init__(self, current: str, can_remember: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rename speaker")
        layout = QVBoxLayout(self)
        label = QLabel(f"Name for {current}:")
        self.name_edit = QLineEdit(current, objectName="speakerNameEdit")
        self.name_edit.selectAll()
        label.setBuddy(self.name_edit)
        self.remember_check = QCheckBox("Remember this voice", objectName="rememberVoiceCheck")
        self.remember_check.setEnabled(can_remember)
        self.remember_check.setToolTip(REMEMBER_HINT if can_remember else "Needs speaker labels switched on.")
        standard = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(standard.Ok | standard.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for widget in (label, self.name_edit, self.remember_check, buttons):
            layout.addWidget(widget)
        describe(self)

    @property
    def name(self) -> str:
        return self.name_edit.text().strip()

    @property
    def remember(self) -> bool:
        return self.remember_check.isEnabled() and self.remember_check.isChecked() and bool(self.name)


class VoicesDialog(QDialog):
    """The remembered voices: rename or forget each one."""

    def __init__(self, store: ProfileStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store or ProfileStore()
        self.setWindowTitle("Remembered voices")
        self.resize(420, 320)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Speakers with these voices are named in new sessions. Only a voice vector is kept "
            f"for each, in {self.store.path} (readable by you alone)."
        )
        intro.setWordWrap(True)
        self.voice_list = QListWidget(objectName="voiceList")
        intro.setBuddy(self.voice_list)
        self.status = QLabel(objectName="voicesStatus")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        self.rename_button = QPushButton("Rename…", objectName="renameVoiceButton")
        self.forget_button = QPushButton("Forget", objectName="forgetVoiceButton")
        self.rename_button.clicked.connect(self._rename)
        self.forget_button.clicked.connect(self._forget)
        row.addWidget(self.rename_button)
        row.addWidget(self.forget_button)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        for item in (intro, self.voice_list, self.status):
            layout.addWidget(item)
        layout.addLayout(row)
        layout.addWidget(close)
        self.voice_list.currentRowChanged.connect(lambda _: self._sync_buttons())
        describe(self)
        self.reload()

    def reload(self) -> None:
        self.voice_list.clear()
        try:
            profiles = self.store.load()
        except ProfileError as exc:
            self.status.setText(str(exc))
            profiles = []
        for profile in profiles:
            item = QListWidgetItem(f"{profile.name}  ({profile.seconds:.0f} s of speech, {profile.created})")
            item.setData(256, profile.name)  # Qt.UserRole
            self.voice_list.addItem(item)
        if not profiles and not self.status.text():
            self.status.setText("No voice is remembered yet: rename a speaker, tick “Remember this voice”.")
        self._sync_buttons()

    def names(self) -> list[str]:
        return [self.voice_list.item(i).data(256) for i in range(self.voice_list.count())]

    def _selected(self) -> str | None:
        item = self.voice_list.currentItem()
        return item.data(256) if item is not None else None

    def _sync_buttons(self) -> None:
        selected = self._selected() is not None
        self.rename_button.setEnabled(selected)
        self.forget_button.setEnabled(selected)

    def _rename(self) -> None:
        old = self._selected()
        if old is None:
            return
        new, accepted = QInputDialog.getText(self, "Rename voice", f"New name for {old}:", text=old)
        if accepted:
            self.rename(old, new)

    def rename(self, old: str, new: str) -> None:
        try:
            self.store.rename(old, new)
            self.status.setText("")
        except ProfileError as exc:
            self.status.setText(str(exc))
        self.reload()

    def _forget(self) -> None:
        name = self._selected()
        if name is None:
            return
        question = f"Forget {name}'s voice? New sessions will not name it."
        answer = QMessageBox.question(self, "Forget voice", question)
        if answer == QMessageBox.StandardButton.Yes:
            self.forget(name)

    def forget(self, name: str) -> None:
        try:
            self.store.forget(name)
            self.status.setText(f"Forgot {name}'s voice.")
        except ProfileError as exc:
            self.status.setText(str(exc))
        self.reload()
