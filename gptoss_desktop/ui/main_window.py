"""The main window: conversation, composer and status line, wired to the chat service."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import cast

from PySide6.QtCore import QMimeData, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from ..core.engine import ChatRequest, ModelInfo
from ..core.events import Done
from ..core.harmony import Conversation, Effort, Message
from ..core.settings import Settings, save_settings
from ..services.chat_service import ChatService
from ..services.model_setup import ModelSetupService
from .chat_view import ChatView
from .composer import Composer
from .first_run import FirstRunPanel
from .message_widgets import AssistantTurn

STOP_NOTICES = {
    "cancelled": "Stopped.",
    "length": "The reply reached the token limit and was cut short.",
    "call": "The model asked to call a tool; tools are not available in this app yet.",
}


class MainWindow(QMainWindow):
    """One conversation with the loaded model."""

    def __init__(
        self, service: ChatService, settings: Settings, settings_path: Path, setup: ModelSetupService | None = None
    ) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setWindowTitle("gpt-oss desktop")
        self.resize(920, 760)
        self.service = service
        self.settings = settings
        self._settings_path = settings_path
        self.history: list[Message] = []
        self._turn: AssistantTurn | None = None
        self._pending_user: Message | None = None

        self.setup = setup or ModelSetupService(self)
        self.first_run = FirstRunPanel(self.setup)
        self.first_run.model_chosen.connect(self.load_model)
        self.chat_view = ChatView()
        self.composer = Composer()
        self.composer.set_effort(settings.effort)
        chat_page = QWidget()
        layout = QVBoxLayout(chat_page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.chat_view, 1)
        layout.addWidget(self.composer)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.first_run)
        self.pages.addWidget(chat_page)
        self.setCentralWidget(self.pages)
        self.model_label = QLabel("No model")
        self.speed_label = QLabel()
        self.statusBar().addWidget(self.model_label, 1)
        self.statusBar().addPermanentWidget(self.speed_label)
        self._build_menu()

        self.composer.send_requested.connect(self._send)
        self.composer.stop_requested.connect(self.service.stop)
        self.composer.effort.currentIndexChanged.connect(self._remember_effort)
        service.model_loading.connect(self._on_model_loading)
        service.model_loaded.connect(self._on_model_loaded)
        service.model_failed.connect(self._on_model_failed)
        service.reasoning_received.connect(self._on_reasoning)
        service.answer_received.connect(self._on_answer)
        service.generation_finished.connect(self._on_finished)
        service.generation_failed.connect(self._on_failed)
        service.busy_changed.connect(self._on_busy_changed)
        self.composer.setEnabled(False)
        self.setup.find_models()

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        actions = (
            ("&Open Model…", QKeySequence.StandardKey.Open, self._choose_model),
            ("&New Chat", QKeySequence.StandardKey.New, self.new_chat),
            ("&Quit", QKeySequence.StandardKey.Quit, self.close),
        )
        for text, shortcut, slot in actions:
            action = QAction(text, self)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            menu.addAction(action)

    def load_model(self, path: str) -> None:
        """Load `path` on the engine thread (the window stays usable meanwhile)."""
        self.service.load_model(path)

    @Slot()
    def new_chat(self) -> None:
        """Start an empty conversation with the same model."""
        self.service.stop()
        self.history.clear()
        self._turn = None
        self.chat_view.clear()

    @Slot()
    def _choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a GGUF model", "", "GGUF models (*.gguf);;All files (*)")
        if path:
            self.load_model(path)

    @Slot(str, str)
    def _send(self, text: str, effort: str) -> None:
        info = self.service.model_info
        if info is None or self.service.busy:
            return
        self._pending_user = Message("user", text)
        conversation = Conversation(
            messages=(*self.history, self._pending_user),
            effort=cast(Effort, effort),
            date=dt.date.today().isoformat(),
        )
        self.chat_view.add_user_message(text)
        self._turn = self.chat_view.add_assistant_turn(show_reasoning=info.is_harmony)
        self.service.send(ChatRequest(conversation))

    @Slot(str)
    def _on_reasoning(self, text: str) -> None:
        if self._turn is not None:
            self._turn.append_reasoning(text)

    @Slot(str)
    def _on_answer(self, text: str) -> None:
        if self._turn is not None:
            self._turn.append_answer(text)

    @Slot(object)
    def _on_finished(self, done: Done) -> None:
        turn = self._turn
        if turn is None:
            return
        turn.finish(done.stats, STOP_NOTICES.get(done.stop_reason, ""))
        if self._pending_user is not None:
            self.history.append(self._pending_user)
            self.history.append(Message("assistant", turn.answer_text(), turn.reasoning.reasoning()))
        self._pending_user = None
        stats = done.stats
        self.speed_label.setText(
            f"{stats.tokens_per_second:.1f} tok/s · context {stats.context_used} / {stats.context_size}"
        )

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._turn is not None:
            self._turn.finish(None, message)
        self._pending_user = None
        self.speed_label.clear()

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self.composer.set_busy(busy)
        if busy:
            self.speed_label.setText("Generating…")

    @Slot(str)
    def _on_model_loading(self, path: str) -> None:
        self.pages.setCurrentIndex(1)
        self.composer.setEnabled(False)
        self.model_label.setText(f"Loading {Path(path).name}…")
        if not self.chat_view.turns:
            self.chat_view.set_placeholder(f"<h3>Loading {html.escape(Path(path).name)}…</h3>")

    @Slot(object)
    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.composer.setEnabled(True)
        self.composer.set_reasoning_supported(info.is_harmony)
        kind = "gpt-oss" if info.is_harmony else f"{info.architecture}, answer only"
        self.model_label.setText(f"{info.name} ({kind}) · context {info.context_size}")
        self.chat_view.set_placeholder(
            f"<h3>{html.escape(info.name)} is ready</h3><p>Ask anything. Nothing leaves this computer.</p>"
            f"<p>Memory: {html.escape(info.plan_message)}</p>"
        )
        self.composer.edit.setFocus()
        self.settings = self.settings.with_changes(model_path=str(info.path))
        save_settings(self._settings_path, self.settings)

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self.model_label.setText("No model")
        self.first_run.show_problem(message)
        self.pages.setCurrentIndex(0)

    @Slot()
    def _remember_effort(self) -> None:
        self.settings = self.settings.with_changes(effort=self.composer.current_effort())
        save_settings(self._settings_path, self.settings)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        """Accept a dragged GGUF file."""
        if _dropped_model(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        """Load a GGUF file dropped onto the window."""
        path = _dropped_model(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.load_model(path)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Stop the worker threads before the window goes (a download pauses and resumes next time)."""
        self.service.shutdown(timeout_ms=2000)
        self.setup.shutdown(timeout_ms=2000)
        event.accept()


def _dropped_model(mime: QMimeData) -> str | None:
    """The first local .gguf file in a drag, if any."""
    for url in mime.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith(".gguf"):
            return url.toLocalFile()
    return None
