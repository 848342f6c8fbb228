"""The screen shown while no model is loaded: download one, use one found on disk, or pick a file."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...core.local.machine import read_machine
from ...core.local.memory_plan import engine_plan, gpt_oss_20b
from ...core.models.catalog import SOURCES, ModelSource
from ...core.models.discovery import FoundModel
from ...core.models.downloads.progress import Progress, format_duration, progress_text
from ...core.models.errors import format_size
from ...services.model_setup import ModelSetupService
from ..chat.chat_view import CentredColumn
from ..chat.composer import ShrinkingComboBox

#: What a gpt-oss-20b GGUF weighs, to judge the fit before the hub is asked (which only an
#: explicit download does); the download itself uses the hub's exact size.
TYPICAL_SIZE = 12_100_000_000
TYPICAL_LINK = 100e6 / 8  # bytes per second of a 100 Mbit/s connection
#: The screen's text is at most this many average characters wide.
COLUMN_CHARS = 100


class FirstRunPanel(QScrollArea):
    """Emits model_chosen(path) once a file is ready to load. Its text wraps and it scrolls, so it fits a
    small window at any text size."""

    model_chosen = Signal(str)
    #: "Use a server instead…": the person wants to chat with a model on a server.
    server_requested = Signal()

    def __init__(self, setup: ModelSetupService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRun")
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = self._content = QWidget()
        content.setMaximumWidth(self.fontMetrics().averageCharWidth() * COLUMN_CHARS)
        self._column = CentredColumn(content)
        self.setWidget(self._column)
        self.setup = setup
        self.problem = QLabel()
        self.problem.setObjectName("firstRunProblem")
        self.problem.setWordWrap(True)
        self.problem.setVisible(False)
        title = QLabel("<h2>Get gpt-oss-20b onto this computer</h2>")
        title.setWordWrap(True)
        intro = QLabel("The model runs here, offline. Nothing you type or drop in leaves this computer.")
        intro.setWordWrap(True)

        layout = QVBoxLayout(content)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.setSpacing(14)
        for widget in (title, intro, self.problem, self._download_box(), self._found_box()):
            layout.addWidget(widget)
        pick = QPushButton("Choose a GGUF file…")
        pick.setObjectName("pickFile")
        pick.clicked.connect(self._pick_file)
        server = QPushButton("Use a Server Instead…")
        server.setObjectName("useServer")
        server.setToolTip("Chat with gpt-oss on an OpenAI-compatible server (vLLM, llama-server, Ollama, LM Studio)")
        server.clicked.connect(self.server_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(pick)
        buttons.addWidget(server)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(1)

        self._ticket = 0  # this screen's download (its signals carry it)
        setup.models_found.connect(self._show_found)
        setup.download_progressed.connect(self._on_progress)
        setup.download_finished.connect(self._on_finished)
        setup.download_stopped.connect(self._on_stopped)
        setup.download_failed.connect(self._on_failed)
        self._set_state("idle")

    def _download_box(self) -> QGroupBox:
        box = QGroupBox("Download")
        self.source = ShrinkingComboBox()
        self.source.setObjectName("sourceBox")
        for source in SOURCES:
            self.source.addItem(source.label, source)
        self.source.currentIndexChanged.connect(self._describe_source)
        self.fit = QLabel()
        self.fit.setObjectName("fitVerdict")
        self.fit.setWordWrap(True)
        self.download_button = QPushButton("Download")
        self.download_button.setObjectName("downloadButton")
        self.download_button.clicked.connect(self._download)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pauseButton")
        self.pause_button.clicked.connect(lambda: self.setup.pause(self._ticket))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.clicked.connect(lambda: self.setup.cancel(self._ticket))
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.status = QLabel()
        self.status.setObjectName("downloadStatus")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.pause_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(box)
        for widget in (self.source, self.fit, self.progress, self.status):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        self._describe_source()
        return box

    def _found_box(self) -> QGroupBox:
        box = QGroupBox("Found on this computer")
        self.found = QListWidget()
        self.found.setObjectName("foundList")
        self.found.setWordWrap(True)  # a reason why a file cannot be used is read in full, not scrolled to
        self.found.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.found.setMaximumHeight(160)
        self.found.itemActivated.connect(self._use_item)
        self.found.currentItemChanged.connect(lambda *_: self._update_use_button())
        self.use_button = QPushButton("Use this file")
        self.use_button.setObjectName("useButton")
        self.use_button.clicked.connect(lambda: self._use_item(self.found.currentItem()))
        self.found_empty = QLabel("Looking in the Hugging Face cache, LM Studio and Ollama…")
        self.found_empty.setWordWrap(True)
        layout = QVBoxLayout(box)
        layout.addWidget(self.found_empty)
        layout.addWidget(self.found)
        layout.addWidget(self.use_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._update_use_button()
        return box

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        """The text column follows the text size."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._content.setMaximumWidth(self.fontMetrics().averageCharWidth() * COLUMN_CHARS)
            self._column.recentre()

    def show_problem(self, message: str) -> None:
        """Say why the last model could not be used (empty hides it)."""
        self.problem.setText(f"<b>The model could not be loaded.</b> {html.escape(message)}" if message else "")
        self.problem.setVisible(bool(message))

    def current_source(self) -> ModelSource:
        """The catalog entry selected for download."""
        source: ModelSource = self.source.currentData()
        return source

    @Slot()
    def _describe_source(self) -> None:
        plan = engine_plan(gpt_oss_20b(TYPICAL_SIZE), read_machine())
        self.fit.setText(
            f"About {format_size(TYPICAL_SIZE)} (the exact size comes from the hub when you download), "
            f"about {format_duration(TYPICAL_SIZE / TYPICAL_LINK)} at 100 Mbit/s. "
            f"This computer: {plan.message}. {self.current_source().note}"
        )

    @Slot()
    def _download(self) -> None:
        self.show_problem("")
        self.status.setText("Asking the hub for the file…")
        self._set_state("downloading")
        self._ticket = self.setup.download(self.current_source())

    @Slot(int, Progress)
    def _on_progress(self, ticket: int, progress: Progress) -> None:
        if ticket == self._ticket:
            self.progress.setValue(int(progress.fraction * 1000))
            self.status.setText(progress_text(progress))

    @Slot(int, str)
    def _on_finished(self, ticket: int, path: str) -> None:
        if ticket != self._ticket:
            return
        self.status.setText(f"Downloaded and verified: {path}")
        self._set_state("idle")
        self.model_chosen.emit(path)

    @Slot(int, int)
    def _on_stopped(self, ticket: int, kept: int) -> None:
        if ticket != self._ticket:
            return
        if kept:
            self.status.setText(f"Paused with {format_size(kept)} kept: Resume carries on from there.")
            self._set_state("paused")
        else:
            self.status.setText("Download cancelled; nothing was kept.")
            self.progress.setValue(0)
            self._set_state("idle")

    @Slot(int, str)
    def _on_failed(self, ticket: int, message: str) -> None:
        if ticket != self._ticket:
            return
        self.status.setText(message)
        self._set_state("idle")

    def _set_state(self, state: str) -> None:
        downloading = state == "downloading"
        self.download_button.setText("Resume" if state == "paused" else "Download")
        self.download_button.setEnabled(not downloading)
        self.source.setEnabled(state == "idle")
        self.pause_button.setVisible(downloading)
        self.cancel_button.setVisible(state != "idle")
        self.progress.setVisible(state != "idle")

    @Slot(list)
    def _show_found(self, found: list[FoundModel]) -> None:
        self.found.clear()
        for model in found:
            text = f"{model.label} — {model.source} · {format_size(model.size)}"
            item = QListWidgetItem(text if model.usable else f"{text}: {model.problem}")
            item.setData(Qt.ItemDataRole.UserRole, str(model.path))
            item.setToolTip(str(model.path))
            if not model.usable:
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.found.addItem(item)
        usable = [m for m in found if m.usable]
        self.found_empty.setText(
            "" if usable else "No gpt-oss model found in the Hugging Face cache, LM Studio or Ollama."
        )
        self.found_empty.setVisible(not usable)
        if usable:
            self.found.setCurrentRow(found.index(usable[0]))
        self._update_use_button()

    def _update_use_button(self) -> None:
        item = self.found.currentItem()
        self.use_button.setEnabled(item is not None and bool(item.flags() & Qt.ItemFlag.ItemIsEnabled))

    @Slot(QListWidgetItem)
    def _use_item(self, item: QListWidgetItem | None) -> None:
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self.model_chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    @Slot()
    def _pick_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a GGUF model", str(Path.home()), "GGUF models (*.gguf)")
        if path:
            self.model_chosen.emit(path)
