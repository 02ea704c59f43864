"""The main window: start/stop, sources, language and model, the transcript, export, server."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from PySide6.QtCore import QByteArray, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from app.audio import CaptureSource, InputDevice, SystemAudioUnavailable
from app.core.calibration_run import load_last as last_calibration
from app.core.choices import ChoiceError, StreamChoices
from app.core.diarization import unavailable_reason as diarization_unavailable_reason
from app.core.frontdata import FrontData
from app.gui.accessibility import KeyboardContextMenu, buddy_label, describe
from app.gui.app_picker import AppPicker
from app.gui.bridge import EngineBridge
from app.gui.find_bar import FindBar
from app.gui.keyword_alerts import AlertSound, KeywordAlerts
from app.gui.keyword_editor import KeywordEditor
from app.gui.level_meter import LevelMeter
from app.gui.models_dialog import ModelsDialog, model_summary
from app.gui.overlay import CaptionOverlay
from app.gui.overlay_settings import OverlaySettingsDialog
from app.gui.refine_panel import RefinePanel
from app.gui.screen_reader import CaptionAnnouncer
from app.gui.settings import (
    OVERLAY_TRANSLATION,
    SOURCES,
    Settings,
    model_labels,
    model_name,
    parse_origins,
    policy_description,
    policy_labels,
    save_settings,
)
from app.gui.shortcuts import LINE_MENU, keys_for
from app.gui.shortcuts import bound as bound_shortcuts
from app.gui.shortcuts_help import ShortcutsDialog, key_text
from app.gui.theme import apply_theme
from app.gui.transcript_view import TranscriptModel
from app.gui.translation_choices import translation_targets
from app.gui.voices import SpeakerNameDialog, VoicesDialog
from app.live import AudioPlan, LiveSource, RefineOutcome
from app.paths import resources_dir
from app.transcript.export import EXPORTERS
from app.transcript.record import SessionRecord, SourcedLine, latest_session

log = logging.getLogger(__name__)

LANGUAGES = {"auto": "Auto-detect", "en": "English", "de": "Deutsch", "fr": "Français", "es": "Español",
             "it": "Italiano", "pt": "Português", "nl": "Nederlands", "ru": "Русский", "zh": "中文",
             "ja": "日本語"}
MEETING_LABELS = ("You", "Others")
ANNOUNCE_TAIL = 64  # rows looked at for lines to announce: no rescan of a long session per update
LAN_TIP = (
    "Let other computers on the network connect. The server then listens on every address and "
    "makes up an access token: clients need the token in the URL (Copy URL and Copy page link "
    "include it)."
)
TRANSCRIPT_OPTIONS = {  # setting: (label, tooltip)
    "revise_sentences": (
        "Revise each sentence when it ends",
        "Decode each finished sentence once more with a beam search: a moment later, more accurate",
    ),
    "refine_after_stop": (
        "Refine the transcript after stopping",
        "After Stop, decode the whole session again as a file would be (beam search, speakers told "
        "apart over the whole session) and show and export that; Cancel keeps the live transcript",
    ),
    "recognise_voices": (
        "Name remembered voices",
        "With speakers on, a speaker whose voice you remembered (rename a speaker, tick “Remember "
        "this voice”) is shown by name in new sessions; a voice like none of them keeps its number",
    ),
    "keep_session_audio": (
        "Keep session audio",
        "Keep each session's audio (FLAC) beside its saved transcript; otherwise it is deleted when "
        "refining is done",
    ),
}
ORIGINS_TIP = (
    "Web pages besides the server's own that may connect, separated by spaces or commas, e.g. "
    "chrome-extension://ID for WhisperLiveKit's Chrome extension. Other pages are refused."
)


def page_link(asr_url: str) -> str:
    """The caption page for a ``ws://host:port/asr`` address, keeping its ``?token=``.

    The page passes its own token on to ``/asr``, so a shared link must keep the query.
    """
    parts = urlsplit(asr_url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, "/", parts.query, ""))


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "sayline.svg"))


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, bridge: EngineBridge, settings_warning: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.bridge = bridge
        self.record: SessionRecord | None = None
        self._audio_plan: AudioPlan | None = None  # the running session's
        self._refining: dict[Path, SessionRecord] = {}  # stopped sessions being refined, by log path
        self._captioning = False
        self._model_ready = False
        self.setWindowTitle("Sayline")
        self.setWindowIcon(app_icon())
        self._recognised: dict[int, str] = {}  # speaker -> remembered name, for this session
        self.overlay = CaptionOverlay(settings)
        self.overlay.set_label_for(self.label_for)  # a user's name, else a recognised voice's
        self.overlay.restore_geometry(settings)
        self.overlay.geometry_changed.connect(self._remember_overlay_geometry)
        self.overlay.click_through_changed.connect(self._sync_click_through)
        self.transcript = TranscriptModel()
        self.transcript.label_for = self._transcript_label
        self._many_speakers = False
        self.announcer = CaptionAnnouncer(self)  # committed lines to the screen reader, when opted in
        self.announcer.set_enabled(settings.announce_captions)
        self._announced: set[tuple[str, int]] = set()  # (source, index) of the session's lines seen
        self._build()
        self._connect_bridge()
        self.bridge.list_input_devices()  # off the Qt thread: the list arrives by signal
        self._build_tray()
        # The user's own voice (meeting mode's microphone) never alerts.
        self.keyword_alerts = KeywordAlerts(
            settings, self.overlay, self.notify, AlertSound(), ignored_sources={MEETING_LABELS[0]},
            parent=self,
        )
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(500)
        self._save_timer.timeout.connect(self._save_settings)
        if settings_warning:
            self.show_error(settings_warning)
            self._schedule_save()  # rewrite the file with the repaired values
        self._load_model()
        if settings.overlay_visible:
            self.overlay.show()

    # -- layout -----------------------------------------------------------------------

    def _build(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        self.error_banner = QLabel(objectName="errorBanner")
        self.error_banner.setWordWrap(True)
        self.error_banner.setVisible(False)
        layout.addWidget(self.error_banner)

        controls = QHBoxLayout()
        self.start_button = QPushButton("Start", objectName="startButton")
        self.start_button.setEnabled(False)
        self.start_button.setMinimumWidth(110)
        self.start_button.clicked.connect(self.toggle_captioning)
        controls.addWidget(self.start_button)
        self.source_combo = self._combo(SOURCES, self.settings.source, "source")
        controls.addWidget(buddy_label("&Source", self.source_combo))
        controls.addWidget(self.source_combo)
        self.device_combo = QComboBox(objectName="deviceCombo")
        self.device_combo.setMinimumWidth(180)
        controls.addWidget(self.device_combo)
        self.app_picker = AppPicker()  # in the device box's place when the source is one application
        controls.addWidget(self.app_picker)
        self.level_meter = LevelMeter(minimum=-60, maximum=0)  # no QProgressBar: see level_meter.py
        self.level_meter.setObjectName("levelMeter")
        self.level_meter.setFixedWidth(90)
        self.level_meter.setToolTip("Input level")
        controls.addWidget(self.level_meter)
        controls.addStretch(1)
        self.language_combo = self._combo(LANGUAGES, self.settings.language, "language")
        controls.addWidget(buddy_label("&Language", self.language_combo))
        controls.addWidget(self.language_combo)
        self.model_combo = self._combo({}, self.settings.model, "model")
        self._fill_models()
        controls.addWidget(buddy_label("&Model", self.model_combo))
        controls.addWidget(self.model_combo)
        self.diarization_check = QCheckBox("Speakers", objectName="diarizationCheck")
        self.diarization_check.setToolTip(
            "Tell speakers apart: Speaker 1, Speaker 2… (right-click a line, or press the menu key on it, "
            "to rename)"
        )
        self.diarization_check.setChecked(self.settings.diarization)
        unavailable = diarization_unavailable_reason()
        self._diarization_available = unavailable is None
        if unavailable:  # e.g. the speaker models were never exported: say why instead of failing at Start
            self.diarization_check.setChecked(False)
            self.diarization_check.setEnabled(False)
            self.diarization_check.setToolTip(unavailable)
        self.diarization_check.toggled.connect(lambda on: self._option_changed("diarization", on))
        controls.addWidget(self.diarization_check)
        layout.addLayout(controls)
        layout.addLayout(self._build_translation_row())
        layout.addLayout(self._build_transcript_row())
        self.device_combo.addItem("Default microphone", None)  # the others once the engine thread lists them
        self.device_combo.currentIndexChanged.connect(
            lambda _: self._option_changed("input_device_id", self.device_combo.currentData())
        )
        self._sync_device_choice()

        self.transcript_view = QListView(objectName="transcriptView")
        self.transcript_view.setModel(self.transcript)
        self.transcript_view.setWordWrap(True)
        self.transcript_view.setUniformItemSizes(False)
        self.transcript_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.transcript_view.customContextMenuRequested.connect(self._transcript_menu)
        # The menu key and Shift+F10 open a line's menu on the current line, not under the mouse.
        KeyboardContextMenu(self.transcript_view, self._transcript_menu, LINE_MENU.all_keys())
        layout.addWidget(self.transcript_view, 1)
        self.find_bar = FindBar(self.transcript_view)  # Ctrl+F; hidden until then
        layout.addWidget(self.find_bar)
        self.buffer_label = QLabel(objectName="bufferLabel")
        self.buffer_label.setWordWrap(True)
        layout.addWidget(self.buffer_label)

        actions = QHBoxLayout()
        self.version_combo = QComboBox(objectName="versionCombo")
        self.version_combo.addItem("Refined transcript", True)
        self.version_combo.addItem("Live transcript", False)
        self.version_combo.setToolTip("The version to show, copy and export")
        self.version_combo.setVisible(False)  # until a session has been refined
        self.version_combo.currentIndexChanged.connect(lambda _: self._show_transcript())
        actions.addWidget(self.version_combo)
        copy_button = QPushButton("Copy", objectName="copyButton")
        copy_button.clicked.connect(self.copy_transcript)
        actions.addWidget(copy_button)
        export_button = QPushButton("Export", objectName="exportButton")
        export_menu = QMenu(export_button)
        for fmt in EXPORTERS:
            export_menu.addAction(fmt.upper(), lambda f=fmt: self.export_transcript(f))
        export_button.setMenu(export_menu)
        actions.addWidget(export_button)
        reopen = QPushButton("Open last session", objectName="reopenButton")
        reopen.clicked.connect(self.open_last_session)
        actions.addWidget(reopen)
        actions.addStretch(1)
        self.overlay_check = QCheckBox("Overlay", objectName="overlayCheck")
        self.overlay_check.setChecked(self.settings.overlay_visible)
        self.overlay_check.toggled.connect(self.set_overlay_visible)
        actions.addWidget(self.overlay_check)
        style_button = QPushButton("Overlay style…", objectName="overlayStyleButton")
        style_button.clicked.connect(self.edit_overlay_style)
        actions.addWidget(style_button)
        alerts_button = QPushButton("Alert words…", objectName="alertWordsButton")
        alerts_button.setToolTip("Be alerted when your name or another word is heard")
        alerts_button.clicked.connect(self.edit_alert_words)
        actions.addWidget(alerts_button)
        self.click_through_check = QCheckBox("Click-through", objectName="clickThroughCheck")
        self.click_through_check.setChecked(self.settings.click_through)
        self.click_through_check.toggled.connect(self.overlay.set_click_through)
        actions.addWidget(self.click_through_check)
        layout.addLayout(actions)
        layout.addLayout(self._build_server_row())

        self.progress = QProgressBar(maximumWidth=220, objectName="statusProgress")
        self.progress.setVisible(False)
        self.statusBar().addPermanentWidget(self.progress)
        self.refine_panel = RefinePanel()
        self.refine_panel.cancel_requested.connect(lambda: self.bridge.cancel_refine(tuple(self._refining)))
        self.statusBar().addPermanentWidget(self.refine_panel)
        self.setCentralWidget(central)
        self._build_model_status()
        self.resize(1000, 620)
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode()))
        self._shortcuts()
        self._build_menus()
        describe(self)  # accessible names and descriptions (app/gui/accessibility.py)

    def _build_model_status(self) -> None:
        """The loaded model, its device and number format; on a first run, the offer to calibrate.

        Built after the central widget, so the offer comes last in the Tab order and never takes
        the focus from Start when the window opens.
        """
        # Offered, not run: calibrating would hold the CPU just when the first captions are wanted.
        self.calibrate_offer = QPushButton("Find the best model for this computer…")
        self.calibrate_offer.setObjectName("calibrateOffer")
        self.calibrate_offer.clicked.connect(self.calibrate_models)
        self.calibrate_offer.setVisible(last_calibration() is None)
        self.statusBar().addPermanentWidget(self.calibrate_offer)
        self.model_label = QLabel(objectName="modelLabel")
        self.statusBar().addPermanentWidget(self.model_label)

    def _build_server_row(self) -> QHBoxLayout:
        """The local server on a row of its own: a token-bearing address would not fit beside the rest."""
        row = QHBoxLayout()
        self._server_address = ""  # the ws:// URL while the server runs
        self._origins_error = ""  # the banner's text when it complains about the allowed origins
        self._server_choices: StreamChoices | None = None  # what the running server was last given
        self.server_check = QCheckBox("Local server", objectName="serverCheck")
        self.server_check.setToolTip("Serve live captions over WebSocket (/asr) and as a web page")
        self.server_check.toggled.connect(self.set_server_enabled)
        row.addWidget(self.server_check)
        self.port_spin = QSpinBox(
            minimum=1024, maximum=65535, value=self.settings.server_port, objectName="portSpin"
        )
        self.port_spin.setToolTip("Port")
        row.addWidget(self.port_spin)
        self.lan_check = QCheckBox("Other devices", objectName="serverLanCheck")
        self.lan_check.setChecked(self.settings.server_lan)
        self.lan_check.setToolTip(LAN_TIP)
        self.lan_check.toggled.connect(lambda on: self._option_changed("server_lan", on))
        row.addWidget(self.lan_check)
        row.addSpacing(8)
        self.origins_label = QLabel("Allowed o&rigins")
        self.origins_label.setToolTip(ORIGINS_TIP)
        row.addWidget(self.origins_label)
        self.origins_edit = QLineEdit(objectName="originsEdit")
        self._show_origins(self.settings.server_allowed_origins)
        # The label names the field; the placeholder shows the form (the tooltip says the rest).
        hint = "chrome-extension://…, https://…"
        self.origins_edit.setPlaceholderText(hint)
        self.origins_edit.setToolTip(ORIGINS_TIP)
        self.origins_label.setBuddy(self.origins_edit)  # Alt+R
        self.origins_edit.setMinimumWidth(self.origins_edit.fontMetrics().horizontalAdvance(hint) + 24)
        self.origins_edit.editingFinished.connect(self._commit_origins)
        row.addWidget(self.origins_edit, 1)
        row.addSpacing(16)
        # Read-only text rather than a label: a long address scrolls instead of widening the window.
        self.server_url = QLineEdit(objectName="serverUrl", readOnly=True)
        self.server_url.setPlaceholderText("off")
        self.server_url.setMinimumWidth(160)
        row.addWidget(self.server_url, 2)
        self.copy_url = QPushButton("Copy URL", objectName="copyUrlButton")
        self.copy_url.setEnabled(False)
        self.copy_url.clicked.connect(lambda: QGuiApplication.clipboard().setText(self._server_address))
        row.addWidget(self.copy_url)
        self.copy_page = QPushButton("Copy page link", objectName="copyPageButton")
        self.copy_page.setEnabled(False)
        self.copy_page.clicked.connect(self._copy_page_link)
        row.addWidget(self.copy_page)
        return row

    def _build_translation_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.target_combo = QComboBox(objectName="targetCombo")
        row.addWidget(buddy_label("&Translate to", self.target_combo))
        self.target_combo.setMinimumWidth(160)
        row.addWidget(self.target_combo)
        self.pairs_button = QPushButton("Language pairs", objectName="pairsButton")
        self.pairs_menu = QMenu(self.pairs_button)
        self.pairs_button.setMenu(self.pairs_menu)
        row.addWidget(self.pairs_button)
        row.addSpacing(16)
        self.overlay_translation_combo = self._combo(
            OVERLAY_TRANSLATION, self.settings.overlay_translation, "overlay_translation"
        )
        row.addWidget(buddy_label("Overlay sho&ws", self.overlay_translation_combo))
        row.addWidget(self.overlay_translation_combo)
        self.live_translation_check = QCheckBox("Translate live text", objectName="liveTranslationCheck")
        self.live_translation_check.setChecked(self.settings.translate_live_text)
        self.live_translation_check.setToolTip("Also translate the words not yet final, about every 0.5 s")
        self.live_translation_check.toggled.connect(
            lambda on: self._option_changed("translate_live_text", on)
        )
        row.addWidget(self.live_translation_check)
        row.addStretch(1)
        # Here, not on the first row: with it there the window was 1,377 px wide at the least, past
        # the edge of a 1280 px screen.
        self.policy_combo = self._combo(policy_labels(), self.settings.policy, "policy")
        row.addWidget(buddy_label("Comm&it", self.policy_combo))
        self.policy_combo.setToolTip("When words become final (each choice's tooltip says how)")
        for index in range(self.policy_combo.count()):
            description = policy_description(self.policy_combo.itemData(index))
            self.policy_combo.setItemData(index, description, Qt.ItemDataRole.ToolTipRole)
        row.addWidget(self.policy_combo)
        self._fill_targets()
        self.target_combo.currentIndexChanged.connect(
            lambda _: self._option_changed("target_language", self.target_combo.currentData())
        )
        return row

    def _build_transcript_row(self) -> QHBoxLayout:
        """How the transcript is made: sentences revised as they end, refined after Stop, audio kept."""
        row = QHBoxLayout()
        self.transcript_checks: dict[str, QCheckBox] = {}
        for name, (text, tip) in TRANSCRIPT_OPTIONS.items():
            check = QCheckBox(text, objectName=f"{name}Check")
            check.setChecked(getattr(self.settings, name))
            check.setToolTip(tip)
            check.toggled.connect(lambda on, setting=name: self._option_changed(setting, on))
            row.addWidget(check)
            self.transcript_checks[name] = check
        voices = QPushButton("Voices…", objectName="voicesButton")
        voices.setToolTip("The remembered voices: rename or forget them")
        voices.clicked.connect(self.show_voices)
        row.addWidget(voices)
        models = QPushButton("Models…", objectName="modelsButton")  # here: the top row is full
        models.setToolTip("Compare, download and remove speech models; find the best one for this computer")
        models.clicked.connect(self.show_models)
        row.addWidget(models)
        row.addStretch(1)
        return row

    def show_models(self) -> ModelsDialog:
        """Models…: one dialog, kept while the window lives so a download goes on behind it."""
        dialog = self._models_dialog()
        if dialog is None:
            dialog = ModelsDialog(self.settings.model, self.settings.language, self._models_blocked, self)
            dialog.model_chosen.connect(self._use_model)
            dialog.models_changed.connect(self._fill_models)
            dialog.calibrated.connect(lambda: self.calibrate_offer.setVisible(False))
        dialog.language = self.settings.language  # calibration recommends for the captions' language
        dialog.set_current(self.settings.model)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def calibrate_models(self) -> ModelsDialog:
        """Time the installed models here (the first-run offer); the Models dialog shows the result."""
        dialog = self.show_models()
        dialog.calibrate()
        return dialog

    def _models_dialog(self) -> ModelsDialog | None:
        return self.findChild(ModelsDialog)

    def _models_blocked(self) -> str | None:
        """Why the model cannot be switched or models timed now: both need the engine at rest."""
        if self._captioning or self._refining:
            return "Stop captioning and wait for refining to end before switching or timing models."
        if not self._model_ready:
            return "Wait for the current model to finish loading."
        return None

    def _use_model(self, name: str) -> None:
        """The dialog's Use this model: as if chosen in the Model box, which reloads the engine."""
        self._fill_models()
        self.model_combo.setCurrentIndex(self.model_combo.findData(name))

    def _fill_models(self) -> None:
        """The Model box: the bundled and downloaded models, and the chosen one, selected."""
        with QSignalBlocker(self.model_combo):
            self.model_combo.clear()
            for key, label in model_labels(self.settings.model).items():
                self.model_combo.addItem(label, key)
            self.model_combo.setCurrentIndex(self.model_combo.findData(self.settings.model))

    def show_voices(self) -> VoicesDialog:
        dialog = VoicesDialog(parent=self)
        dialog.open()
        return dialog

    def _fill_targets(self) -> None:
        """Off, English (Whisper), and every language the installed pairs reach; plus the pairs menu."""
        choices = translation_targets(self.settings.target_language)
        self.target_combo.blockSignals(True)
        self.target_combo.clear()
        for code, label in choices.targets:
            self.target_combo.addItem(label, code)
        self.target_combo.setCurrentIndex(max(0, self.target_combo.findData(self.settings.target_language)))
        self.target_combo.blockSignals(False)
        self.pairs_menu.clear()
        for label in choices.installed or ["No language pairs installed"]:
            self.pairs_menu.addAction(label).setEnabled(False)
        self.pairs_menu.addSeparator()
        self.pairs_menu.addAction("Install language pair from file…", self.install_pair_from_file)
        self.pairs_menu.addAction("Download…", self.bridge.list_available_pairs)

    def _combo(self, options: dict[str, str], current: str, setting: str) -> QComboBox:
        combo = QComboBox(objectName=f"{setting}Combo")
        for key, label in options.items():
            combo.addItem(label, key)
        index = combo.findData(current)
        combo.setCurrentIndex(max(index, 0))
        combo.currentIndexChanged.connect(lambda _: self._option_changed(setting, combo.currentData()))
        return combo

    def _shortcuts(self) -> None:
        """Bind the shortcut table (app/gui/shortcuts.py; Help lists the same table).

        Application-wide: the overlay never takes the keyboard (its scrollback keys live here too),
        and the keys should work from the overlay style dialog as well.
        """
        for shortcut in bound_shortcuts():
            target: object = self
            for part in shortcut.action.split("."):
                target = getattr(target, part)
            action = QAction(self, shortcut=QKeySequence(shortcut.keys))
            action.triggered.connect(lambda _checked=False, call=target: call())  # not the checked flag
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            self.addAction(action)

    def _build_menus(self) -> None:
        """View: high contrast, screen reader announcements, the overlay's place; Help: the shortcuts.

        Keys shown after a tab are the table's (bound in `_shortcuts`), not bound again here: two
        actions on one key would make Qt run neither.
        """
        view = self.menuBar().addMenu("&View")
        self.high_contrast_action = view.addAction("&High contrast theme")
        self.high_contrast_action.setCheckable(True)
        self.high_contrast_action.setChecked(self.settings.theme == "high_contrast")
        self.high_contrast_action.setToolTip("Black background, white text, yellow focus and indicators")
        self.high_contrast_action.toggled.connect(self.set_high_contrast)
        self.announce_action = view.addAction("&Announce captions to screen readers")
        self.announce_action.setCheckable(True)
        self.announce_action.setChecked(self.settings.announce_captions)
        self.announce_action.setToolTip("Your screen reader speaks new caption lines, at most one "
                                        "announcement every two seconds")
        self.announce_action.toggled.connect(self.set_announce_captions)
        view.addSeparator()
        view.addAction("&Reset overlay position", self.overlay.reset_geometry)
        view.setToolTipsVisible(True)
        help_menu = self.menuBar().addMenu("&Help")
        shortcuts_keys = key_text(keys_for("show_shortcuts"))
        help_menu.addAction(f"&Keyboard shortcuts\t{shortcuts_keys}", self.show_shortcuts)

    def show_shortcuts(self) -> ShortcutsDialog:
        """Help ▸ Keyboard shortcuts (F1); one dialog, brought to the front when already open."""
        dialog = self.findChild(ShortcutsDialog) or ShortcutsDialog(self)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def set_high_contrast(self, on: bool) -> None:
        """Black, white and yellow for the window, its dialogs and the overlay; saved."""
        self._option_changed("theme", "high_contrast" if on else "dark")
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, self.settings.theme)
        self.overlay.apply_settings(self.settings)

    def set_announce_captions(self, on: bool) -> None:
        """Opt in or out of hearing committed lines; lines already shown are never replayed."""
        self._option_changed("announce_captions", on)
        self.announcer.set_enabled(on)

    def _announce_new_lines(self, rows: list[SourcedLine]) -> None:
        """Hand the screen reader the lines it has not seen, labelled as the transcript labels them.

        Lines are tracked even while announcements are off, so turning them on mid-session starts
        with the next line rather than the whole session so far. When the overlay shows only the
        translation, that is what is said, once it has come in.
        """
        only_translation = self.settings.overlay_translation == "translation"
        translated = only_translation and bool(self.settings.target_language)
        spoken = []
        for entry in rows[-ANNOUNCE_TAIL:]:  # new lines are the newest, give or take a meeting's
            line = entry.line
            if (entry.source, entry.index) in self._announced:
                continue
            if translated and not line.is_silence and line.text.strip() and not line.translation.strip():
                continue  # said when its translation arrives
            self._announced.add((entry.source, entry.index))
            text = (line.translation if translated else line.text).strip()
            if line.is_silence or not text:
                continue
            label = self._transcript_label(entry)
            spoken.append(f"{label}: {text}" if label else text)
        self.announcer.add_lines(spoken)

    def export_text(self) -> None:
        """Ctrl+E: the transcript as plain text, asking where."""
        self.export_transcript("txt")

    def _build_tray(self) -> None:
        self.tray: QSystemTrayIcon | None = None
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return
        self.tray = QSystemTrayIcon(app_icon(), self)
        menu = QMenu(self)
        self.tray_toggle = menu.addAction("Start captions", self.toggle_captioning)
        menu.addAction("Show overlay", lambda: self.overlay_check.setChecked(True))
        menu.addAction("Turn off click-through", lambda: self.click_through_check.setChecked(False))
        menu.addAction("Captions back to live", self.overlay.scrollback.go_live)
        menu.addAction("Show window", self.showNormal)
        menu.addSeparator()
        menu.addAction("Quit", self.close)
        self.tray.setContextMenu(menu)
        self.tray.setToolTip("Sayline")
        self.tray.show()

    def _fill_devices(self, devices: list[InputDevice]) -> None:
        """The microphones the engine thread found, the saved one selected (the default when it is gone).

        Filling the list is not the user choosing: the saved device stays saved even while it is
        unplugged, so it is selected again when it comes back.
        """
        with QSignalBlocker(self.device_combo):
            self.device_combo.clear()
            self.device_combo.addItem("Default microphone", None)
            for device in devices:
                mark = " (default)" if device.is_default else ""
                self.device_combo.addItem(f"{device.name} · {device.host_api}{mark}", device.id)
            index = self.device_combo.findData(self.settings.input_device_id)
            self.device_combo.setCurrentIndex(max(index, 0))

    # -- engine -----------------------------------------------------------------------

    def _connect_bridge(self) -> None:
        self.bridge.model_progress.connect(self._model_progress)
        self.bridge.model_ready.connect(self._on_model_ready)
        self.bridge.captioning_started.connect(lambda: self._on_captioning_changed(True))
        self.bridge.captioning_stopped.connect(lambda: self._on_captioning_changed(False))
        self.bridge.update.connect(self.on_update)
        self.bridge.capture_state.connect(self._on_capture_state)
        self.bridge.level.connect(lambda _label, dbfs: self.level_meter.setValue(int(max(-60.0, dbfs))))
        self.bridge.server_changed.connect(self._on_server_changed)
        self.bridge.server_failed.connect(lambda: self.server_check.setChecked(False))
        self.bridge.error.connect(self._on_engine_error)
        self.bridge.voice_remembered.connect(self._on_voice_remembered)
        self.bridge.pair_installed.connect(self._on_pair_installed)
        self.bridge.pairs_available.connect(self._choose_download)
        self.bridge.download_progress.connect(self._download_progress)
        self.bridge.system_audio_found.connect(self._on_system_audio)
        self.bridge.input_devices_found.connect(self._fill_devices)
        self.bridge.refine_progress.connect(self._on_refine_progress)
        self.bridge.refined.connect(self._on_refined)

    def _load_model(self) -> None:
        self._model_ready = False
        self.start_button.setEnabled(False)
        self.statusBar().showMessage(f"Loading the {self.settings.model} model…")
        self.model_label.setText(f"{model_name(self.settings.model)} · loading…")
        self.bridge.load_model(self.settings.model)

    def _model_progress(self, done: int, total: int) -> None:
        self.progress.setVisible(done < total)
        self.progress.setMaximum(100)
        self.progress.setValue(int(100 * done / max(total, 1)))
        self.statusBar().showMessage("Preparing the model (first run only)…")

    def _on_model_ready(self, name: str, notice: str) -> None:
        self._model_ready = True
        engine = self.bridge.host.engine  # set before the load's signal was queued, read-only since
        if engine is not None:
            self.model_label.setText(model_summary(name, engine.device, engine.compute_type))
        self.progress.setVisible(False)
        self.start_button.setEnabled(True)
        ready = f"Ready: {name} model loaded. Press Start (Ctrl+Return)."
        # A notice (the GPU could not be used) stays until the next message replaces it.
        self.statusBar().showMessage(f"{ready} {notice}" if notice else ready, 0 if notice else 8000)
        if self.settings.server_enabled and not self.server_check.isChecked():
            self.server_check.setChecked(True)

    def _sources(self, system: CaptureSource | None) -> list[LiveSource]:
        """What to capture: ``system`` is the found system-audio source (None when it is not used)."""
        if self.settings.source == "app":  # none picked: AudioCapture says what to do, in the banner
            return [LiveSource("", CaptureSource(kind="app", device_id=self.app_picker.current_key()))]
        microphone = CaptureSource(kind="microphone", device_id=self.settings.input_device_id)
        if self.settings.source == "both":
            return [LiveSource(MEETING_LABELS[0], microphone), LiveSource(MEETING_LABELS[1], system)]
        return [LiveSource("", system if self.settings.source == "system" else microphone)]

    def toggle_captioning(self) -> None:
        """Start or stop; ignored while the model loads or a start or stop is under way.

        The shortcut and the tray call this too, so the disabled Start button alone would not stop
        a second press from starting a second session.
        """
        if not self._model_ready or not self.start_button.isEnabled():
            return
        self.start_button.setEnabled(False)
        if self._captioning:
            self.statusBar().showMessage("Finishing the last words…")
            self._expect_refining()
            self.bridge.stop()
        elif self.settings.source in ("system", "both"):
            self.bridge.find_system_audio()  # `pactl` and a device scan: off the Qt thread
        else:
            self._start_captioning(None)

    def _on_system_audio(self, found: CaptureSource | SystemAudioUnavailable) -> None:
        """The engine thread's answer to a Start that needs system audio."""
        if self._captioning or not self._model_ready:
            return  # the model was switched meanwhile: its load re-enables Start
        if isinstance(found, SystemAudioUnavailable):
            self.start_button.setEnabled(True)
            self.show_error(found.reason)
            return
        self._start_captioning(found)

    def _start_captioning(self, system: CaptureSource | None) -> None:
        choices = self._checked_choices()
        if choices is None:
            self.start_button.setEnabled(True)
            return
        self.hide_error()
        self.record = SessionRecord.new_autosaved()
        assert self.record.log_path is not None
        self._audio_plan = AudioPlan(
            self.record.log_path, self.settings.refine_after_stop, self.settings.keep_session_audio
        )
        self._show_transcript(prefer_refined=True)
        self._sync_refining()
        meeting_labels = {i + 1: name for i, name in enumerate(MEETING_LABELS)}
        self._recognised = {}
        self.overlay.set_label_for(meeting_labels if self.settings.source == "both" else self.label_for)
        self.keyword_alerts.reset()
        self._announced.clear()  # a new session numbers its lines from 0 again
        self.statusBar().showMessage("Starting…")
        self.bridge.start_live(self._sources(system), choices, self._audio_plan)

    def _checked_choices(self) -> StreamChoices | None:
        """The user's stream choices, or None after saying in the banner which one no stream can take."""
        try:
            return self.settings.stream_choices(self._diarization_available)
        except ChoiceError as exc:
            self.show_error(str(exc))
            return None

    def _on_captioning_changed(self, running: bool) -> None:
        self._captioning = running
        self.start_button.setEnabled(True)
        self.start_button.setText("Stop" if running else "Start")
        self.start_button.setProperty("running", running)
        self.start_button.style().polish(self.start_button)
        for widget in (self.source_combo, self.language_combo, self.policy_combo, self.target_combo,
                       self.live_translation_check, *self.transcript_checks.values()):
            widget.setEnabled(not running)
        self.diarization_check.setEnabled(not running and self._diarization_available)
        self._sync_refining()
        self._sync_device_choice()
        if self.tray is not None:
            self.tray_toggle.setText("Stop captions" if running else "Start captions")
        if running:
            self.statusBar().showMessage("Captioning.")
        else:
            self.level_meter.setValue(self.level_meter.minimum())  # no capture, no level
            if self.record is not None:
                self.record.close()
                self.statusBar().showMessage(f"Stopped. Transcript saved to {self.record.log_path}.")

    def on_update(self, label: str, update: FrontData) -> None:
        if self.record is None:
            return
        count = self.record.live_line_count
        recognised = dict(update.speaker_names) if not label else self._recognised
        if recognised != self._recognised:
            self._recognised = recognised
            self.transcript.refresh()
        if self.record.apply(label, update) or self.record.live_line_count != count:
            lines = self.record.lines
            if not self._many_speakers:  # once two spoke it stays so: no rescan of a long transcript
                self._note_speakers(lines)
            self.transcript.set_rows(lines)
            self._announce_new_lines(lines)
            if not self.find_bar.holds_view():  # a search keeps its hit in view
                self.transcript_view.scrollToBottom()
        self.buffer_label.setText(self.record.live_text)
        if update.error:
            self.show_error(update.error)
        self.overlay.show_update(self._overlay_update(update))
        self.keyword_alerts.feed(label, update)

    def _overlay_update(self, latest: FrontData) -> FrontData:
        """Meeting mode merges both sources; each keeps its own speaker colour and label."""
        assert self.record is not None
        if len(self.record.buffers) <= 1:
            return latest
        lines = tuple(
            replace(entry.line, speaker=MEETING_LABELS.index(entry.source) + 1)
            for entry in self.record.lines
            if entry.source in MEETING_LABELS
        )
        return replace(latest, lines=lines, buffer_transcription=self.record.live_text)

    def _on_capture_state(self, label: str, state: str, message: str) -> None:
        who = f"{label}: " if label else ""
        if state == "lost":
            self.show_error(f"{who}{message}")
        elif state == "recovered":
            self.hide_error()
            self.statusBar().showMessage(f"{who}{message}", 6000)

    def _on_engine_error(self, message: str) -> None:
        self.start_button.setEnabled(self._model_ready)
        if not self._model_ready:  # the load failed
            self.model_label.setText(f"{model_name(self.settings.model)} · not loaded")
        self.show_error(message)

    # -- refining -------------------------------------------------------------------------

    def _expect_refining(self) -> None:
        """Stop was pressed: the session is refined once its last words are in, if its plan says so.

        Noted now, before the engine is asked, so its answer can never come before it is expected.
        """
        plan, self._audio_plan = self._audio_plan, None
        if plan is None or not plan.refine or self.record is None:
            return
        self._refining[plan.session] = self.record
        self.refine_panel.begin()
        self._sync_refining()

    def _sync_refining(self) -> None:
        """The panel says whose transcript is refined; the model stays while the engine refines."""
        self.refine_panel.setVisible(bool(self._refining))
        self.refine_panel.set_current(self.record is not None and self.record.log_path in self._refining)
        self.model_combo.setEnabled(not self._captioning and not self._refining)

    def _on_refine_progress(self, session: Path, done_s: float, total_s: float) -> None:
        if session in self._refining:
            self.refine_panel.set_progress(done_s, total_s)

    def _on_refined(self, outcome: RefineOutcome) -> None:
        """A stopped session's refined transcript replaces its live one (its log keeps both);
        cancelled or failed, the live one stays."""
        record = self._refining.pop(outcome.session, None)
        self._sync_refining()
        names = ", ".join(path.name for path in outcome.kept_audio)
        kept = f" Audio kept as {names}." if names else ""
        if outcome.message:
            self.show_error(outcome.message)
        if record is not None and outcome.results is not None:
            try:
                record.add_refined(outcome.results)
            except OSError as exc:
                self.show_error(f"The refined transcript could not be saved: {exc.strerror or exc}.")
                return
            if record is self.record:
                self._show_transcript(prefer_refined=True)
            self.statusBar().showMessage(f"Refined transcript saved to {record.log_path}.{kept}", 10000)
        elif record is not None and not outcome.message:
            self.statusBar().showMessage(f"Refining cancelled: the live transcript is kept.{kept}", 10000)
        elif kept:
            self.statusBar().showMessage(kept.strip(), 10000)

    def _show_transcript(self, prefer_refined: bool = False) -> None:
        """The record's lines: the refined version once there is one, unless the live one is picked."""
        if prefer_refined:
            with QSignalBlocker(self.version_combo):
                self.version_combo.setCurrentIndex(0)
        self.version_combo.setVisible(self.record is not None and self.record.refined)
        rows = self.record.lines_of(self._refined_shown()) if self.record is not None else []
        self._note_speakers(rows)
        self.transcript.set_rows(rows)

    def _refined_shown(self) -> bool:
        return bool(self.version_combo.currentData())

    # -- translation ------------------------------------------------------------------

    def install_pair_from_file(self, path: str | None = None) -> None:
        """Pick an .argosmodel; the engine thread unpacks and checks it, the window stays live."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Install language pair", "", "Argos language pairs (*.argosmodel);;All files (*)"
            )
            if not path:
                return
        self.statusBar().showMessage(f"Installing {Path(path).name}…")
        self.bridge.install_pair(path)

    def _on_pair_installed(self, pair) -> None:
        self.progress.setVisible(False)
        self.hide_error()
        self._fill_targets()
        self.statusBar().showMessage(f"Installed the language pair {pair.label}.", 8000)

    def _choose_download(self, pairs: list) -> None:
        if not pairs:
            self.show_error("Argos's index lists no language pairs.")
            return
        labels = [pair.label for pair in pairs]
        label, ok = QInputDialog.getItem(self, "Download a language pair", "Language pair:", labels, 0, False)
        if ok:
            self.statusBar().showMessage(f"Downloading {label}…")
            self.bridge.download_pair(pairs[labels.index(label)])

    def _download_progress(self, done: int, total: int) -> None:
        self.progress.setVisible(True)
        self.progress.setMaximum(100 if total else 0)  # 0: a busy bar while the size is unknown
        self.progress.setValue(int(100 * done / total) if total else 0)

    # -- server -----------------------------------------------------------------------

    def set_server_enabled(self, enabled: bool) -> None:
        """Start or stop the server; it never starts with an allowed origin that is not one.

        Its streams and uploads default to the user's stream choices; a choice changed while it
        runs (the language, say) applies to the streams that start afterwards. Remembered names
        go to a web client only when it asks for them (``?profiles=1``).
        """
        choices = self._checked_choices() if enabled and self._commit_origins() else None
        choices = choices.replace(profiles=False) if choices is not None else None
        if enabled and choices is None:
            with QSignalBlocker(self.server_check):
                self.server_check.setChecked(False)
            return
        self._option_changed("server_enabled", enabled)
        for widget in (self.port_spin, self.lan_check, self.origins_label, self.origins_edit):
            widget.setEnabled(not enabled)  # they take effect at the next start
        self._server_choices = choices
        if enabled:
            self._option_changed("server_port", self.port_spin.value())
            self.bridge.start_server(
                self.port_spin.value(),
                choices,
                lan=self.settings.server_lan,
                allowed_origins=self.settings.server_allowed_origins,
            )
        else:
            self.bridge.stop_server()

    def _pass_choices_to_server(self) -> None:
        """A running server's next streams take the user's current choices; no reload, no restart."""
        if self._server_choices is None:
            return
        try:
            choices = self.settings.stream_choices(self._diarization_available).replace(profiles=False)
        except ChoiceError:
            return  # said at the next Start; the server keeps the last good choices
        if choices != self._server_choices:
            self._server_choices = choices
            self.bridge.update_server_choices(choices)

    def _commit_origins(self) -> bool:
        """Keep the field's origins when all are valid; otherwise say which entry is not one."""
        try:
            origins = parse_origins(self.origins_edit.text())
        except ValueError as exc:
            self._origins_error = f"Allowed origins: {exc}"
            self.show_error(self._origins_error)
            return False
        if self._origins_error and self.error_banner.text() == self._origins_error:
            self.hide_error()  # only our own complaint: another error stays until dealt with
        self._show_origins(origins)
        self._option_changed("server_allowed_origins", origins)
        return True

    def _show_origins(self, origins: tuple[str, ...]) -> None:
        self.origins_edit.setText(" ".join(origins))
        self.origins_edit.setCursorPosition(0)  # the first origin, not the tail of the last one

    def _on_server_changed(self, url: str) -> None:
        self._server_address = url
        self.server_url.setText(url)
        self.server_url.setCursorPosition(0)  # the start (scheme and host) is what a glance needs
        self.server_url.setToolTip(url)
        self.copy_url.setEnabled(bool(url))
        self.copy_page.setEnabled(bool(url))
        if "token=" in url:
            message = "Other devices can connect: clients need the token in the URL."
            self.statusBar().showMessage(message, 8000)

    def _copy_page_link(self) -> None:
        QGuiApplication.clipboard().setText(page_link(self._server_address))

    # -- speakers ---------------------------------------------------------------------

    def _note_speakers(self, rows: list[SourcedLine]) -> None:
        """Names go before lines only once a second speaker appeared, as on the overlay."""
        speakers = {e.line.speaker for e in rows if not e.line.is_silence and not e.source}
        self._many_speakers = len(speakers) > 1

    def _transcript_label(self, entry: SourcedLine) -> str:
        if entry.source:
            return entry.source
        return self.label_for(entry.line.speaker) if self._many_speakers else ""

    def label_for(self, speaker: int) -> str:
        """A name the user gave, else a remembered voice recognised this session, else "Speaker N"."""
        if str(speaker) not in self.settings.speaker_names and speaker in self._recognised:
            return self._recognised[speaker]
        return self.settings.label_for(speaker)

    def _transcript_menu(self, position) -> None:
        speaker = self.transcript.speaker_at(self.transcript_view.indexAt(position).row())
        if speaker is None:
            return
        menu = QMenu(self)
        menu.addAction(f"Rename {self.label_for(speaker)}…", lambda: self.rename_speaker(speaker))
        menu.popup(self.transcript_view.viewport().mapToGlobal(position))

    def rename_speaker(self, speaker: int) -> SpeakerNameDialog:
        """Ask for a name (and whether to remember the voice); returns the open dialog."""
        dialog = SpeakerNameDialog(self.label_for(speaker), self.settings.diarization, self)
        dialog.accepted.connect(lambda: self.name_speaker(speaker, dialog.name, dialog.remember))
        dialog.open()
        return dialog

    def _on_voice_remembered(self, name: str) -> None:
        self.statusBar().showMessage(f"Remembered {name}'s voice; new sessions will name it.", 8000)

    def name_speaker(self, speaker: int, name: str, remember: bool) -> None:
        self.set_speaker_name(speaker, name)
        if remember:
            self.bridge.remember_voice("", speaker, name)

    def set_speaker_name(self, speaker: int, name: str) -> None:
        """Name a speaker everywhere: overlay, transcript and exports ("" restores "Speaker N")."""
        names = dict(self.settings.speaker_names)
        if name.strip():
            names[str(speaker)] = name.strip()
        else:
            names.pop(str(speaker), None)
        try:
            self.settings = replace(self.settings, speaker_names=names)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.overlay.apply_settings(self.settings)
        self.transcript.refresh()
        self._schedule_save()

    # -- transcript -------------------------------------------------------------------

    def copy_transcript(self) -> None:
        QGuiApplication.clipboard().setText(self.transcript.plain_text())
        self.statusBar().showMessage("Transcript copied.", 3000)

    def export_transcript(self, fmt: str, path: str | None = None) -> Path | None:
        if self.record is None:
            self.show_error("There is no transcript to export yet.")
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export transcript", f"transcript.{fmt}")
            if not path:
                return None
        target = Path(path)
        try:
            text = EXPORTERS[fmt](self.record.as_update(self._refined_shown()), self.label_for)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.show_error(f"Could not write {target}: {exc.strerror or exc}.")
            return None
        self.statusBar().showMessage(f"Exported to {target}.", 5000)
        return target

    def open_last_session(self) -> None:
        if self._captioning:
            self.show_error("Stop captioning before opening another session.")
            return
        path = latest_session()
        if path is None:
            self.show_error("No saved session yet.")
            return
        self.record = self._refining.get(path) or SessionRecord.reopen(path)  # one being refined: its own
        self._show_transcript(prefer_refined=True)
        self._sync_refining()
        self.statusBar().showMessage(f"Opened {path.name}.", 5000)

    # -- settings, overlay, errors ----------------------------------------------------

    def _sync_device_choice(self) -> None:
        """The microphone picker only matters when the microphone is a source; the application
        picker takes its place for one application."""
        self.device_combo.setEnabled(self.settings.source != "system" and not self._captioning)
        self.device_combo.setVisible(self.settings.source != "app")
        self.app_picker.setVisible(self.settings.source == "app")
        self.app_picker.setEnabled(not self._captioning)

    def _option_changed(self, name: str, value) -> None:
        if getattr(self.settings, name) == value:
            return
        self.settings = replace(self.settings, **{name: value})
        self._schedule_save()
        if name == "source":
            self._sync_device_choice()
        if name == "model" and self._model_ready:
            self._load_model()  # the language is a stream choice: it takes effect at the next start
        if name == "model" and (dialog := self._models_dialog()) is not None:
            dialog.set_current(value)
        self._pass_choices_to_server()
        if name in ("target_language", "overlay_translation"):
            self.overlay.apply_settings(self.settings)

    def _schedule_save(self) -> None:
        """Save within half a second of the first change; later changes ride along, never delay it."""
        if not self._save_timer.isActive():
            self._save_timer.start()

    def _save_settings(self) -> None:
        try:
            save_settings(self.settings)
        except OSError as exc:
            self.show_error(f"Settings could not be saved: {exc.strerror or exc}.")

    def _remember_overlay_geometry(self, screen_key: str, rect: list[int]) -> None:
        self.settings = self.settings.with_overlay_geometry(screen_key, rect)
        self._schedule_save()

    def _sync_click_through(self, on: bool) -> None:
        self.click_through_check.setChecked(on)
        self._option_changed("click_through", on)

    def edit_overlay_style(self) -> None:
        dialog = OverlaySettingsDialog(self.settings, self)
        dialog.changed.connect(self._apply_overlay_style)
        dialog.show()

    def _apply_overlay_style(self, changes: dict) -> None:
        self.settings = replace(self.settings, **changes)
        self.overlay.apply_settings(self.settings)
        self._schedule_save()

    def edit_alert_words(self) -> KeywordEditor:
        dialog = KeywordEditor(self.settings, self)
        dialog.saved.connect(self._apply_alert_words)
        dialog.show()
        return dialog

    def _apply_alert_words(self, changes: dict) -> None:
        self.settings = replace(self.settings, **changes)
        self.keyword_alerts.apply_settings(self.settings)
        self._schedule_save()

    def notify(self, title: str, message: str) -> None:
        """A desktop notification (the tray's balloon); the status bar where there is no tray."""
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 6000)
        else:
            self.statusBar().showMessage(f"{title}: {message}", 6000)

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay.setVisible(visible)
        self._option_changed("overlay_visible", visible)

    def show_error(self, message: str) -> None:
        self.error_banner.setText(message)
        self.error_banner.setVisible(True)
        log.warning("shown to user: %s", message)

    def hide_error(self) -> None:
        self.error_banner.setVisible(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Finish every stream first: the final words reach the transcript and its autosave."""
        self.statusBar().showMessage("Finishing…")
        self._save_timer.stop()
        geometry = bytes(self.saveGeometry().toBase64()).decode()
        self.settings = replace(self.settings, window_geometry=geometry)
        self._save_settings()
        if (dialog := self._models_dialog()) is not None:
            dialog.shutdown()  # a download's thread ends with its partial file kept
        self.bridge.shutdown()
        QGuiApplication.processEvents()  # deliver the final updates queued during shutdown
        if self.record is not None:
            self.record.close()
        self.overlay.close()
        if self.tray is not None:
            self.tray.hide()
        event.accept()
