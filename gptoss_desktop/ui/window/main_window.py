"""The main window: conversation list, conversation, composer and status line.

The panes and the window's size are panes.py's, the status line's figures status_line.py's; this
module wires the parts to the services and to each other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QTimer, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from ...core.conversation_settings import ConversationSettings
from ...core.documents.answer import PartRead
from ...core.engine import ModelInfo
from ...core.events import Done, Failed
from ...core.history.export import ExportFormat
from ...core.paths import app_paths
from ...core.remote.profile import ServerProfile
from ...core.sampling import SamplingParams
from ...core.settings import Settings, save_settings
from ...services.app_services import AppServices
from ...services.chat_service import ChatEvent
from ..chat.chat_session import STOP_NOTICES, ChatSession
from ..chat.chat_view import COMPOSER_MARGIN, CentredColumn, ChatView, column_width
from ..chat.code_highlight import LexerWarmUp
from ..chat.composer import Composer
from ..chat.document_strip import DocumentStrip
from ..chat.message_widgets import UserMessage
from ..dialogs.about import show_about
from ..dialogs.settings import SettingsDialog
from ..style import apply_appearance
from .api_status import ApiStatus
from .conversation_dialogs import ConversationDialogs
from .conversation_records import ConversationRecords
from .first_run import FirstRunPanel
from .menus import build_menus
from .model_loading import ModelLoading, dropped_model
from .panes import Panes, place_window, saved_geometry
from .sidebar import ConversationSidebar
from .source_viewer import SourceViewer
from .status_line import StatusLine
from .where_it_runs import Presentation, WhereItRuns
from .window_adapters import WindowAdapters, dropped_adapters
from .window_documents import WindowDocuments

__all__ = ["STOP_NOTICES", "MainWindow"]


class MainWindow(QMainWindow):
    """Conversations with the loaded model, kept in the history."""

    def __init__(self, services: AppServices, settings: Settings, settings_path: Path) -> None:
        """A window on `services` (borrowed: the app, or a test, built them and owns their threads)."""
        super().__init__()
        self.setAcceptDrops(True)
        self.setWindowTitle("gpt-oss desktop")
        self.services = services
        self._can_close = False  # until every thread has ended (closeEvent)
        services.stopped.connect(self._on_services_stopped)
        self.settings = settings
        self._settings_path = settings_path

        self.first_run = FirstRunPanel(self.services.models)
        self.first_run.model_chosen.connect(self.load_model)
        self.chat_view = ChatView()
        self.chat_view.setAccessibleName("Conversation")
        self.composer = Composer()
        self.composer.set_effort(settings.effort)
        self.sidebar = ConversationSidebar()
        self.session = ChatSession(services.chat, services.history, self.chat_view, self)
        self.session.show_reasoning_by_default = settings.show_reasoning
        self.session.python_interpreter = settings.python_interpreter
        self.session.documents_database = app_paths().database
        self.document_strip = DocumentStrip()
        self.source_viewer = SourceViewer()
        self.session.transcript.settings = ConversationSettings(effort=settings.effort)
        self.where = WhereItRuns(self, services.chat, self.session, services.servers, settings.servers)
        self.composer.add_control(self.where.combo)
        self.composer.add_control(self.document_strip.attach_button, first=True)
        bottom = QWidget()  # the documents' strip and the composer, lined up with the conversation's column
        below = QVBoxLayout(bottom)
        below.setContentsMargins(0, 0, 0, 0)
        below.setSpacing(0)
        below.addWidget(self.document_strip)
        below.addWidget(self.composer)
        self._composer_column = CentredColumn(bottom)
        self._composer_column.setObjectName("composerColumn")
        chat_page = QWidget()
        chat_page.setObjectName("chatPage")
        layout = QVBoxLayout(chat_page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.where.banner)
        layout.addWidget(self.chat_view, 1)
        layout.addWidget(self._composer_column)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.first_run)
        self.pages.addWidget(chat_page)
        self.splitter = QSplitter()
        self.panes = Panes(self.splitter, self.sidebar, self.pages, self.source_viewer)
        self.setCentralWidget(self.splitter)
        self.documents = WindowDocuments(
            self, services.documents, self.session, self.document_strip, self.source_viewer
        )
        self.documents.source_shown.connect(self.panes.open_source)
        self.status = StatusLine(self.statusBar())
        self.api_status = ApiStatus(services.api, self.statusBar())
        self.api_status.problem.connect(self._show_problem)
        self.api_status.apply(settings)
        self.dialogs = ConversationDialogs(self, services.chat, self.session, self.where, self.status)
        self.model_label, self.speed_label, self.undo_button = (
            self.status.model_label,
            self.status.speed_label,
            self.status.undo_button,
        )
        self.adapters = WindowAdapters(
            self,
            services.chat,
            self.session,
            lambda: self.settings.adapters,
            lambda paths: self.store_settings(self.settings.with_changes(adapters=paths)),
        )
        self.adapters.refused.connect(self._show_problem)
        self.adapters.added.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self._fit_composer()
        place_window(self, settings.window_geometry)
        self.menu_actions = build_menus(self.menuBar(), self, self._menu_handlers())
        self.records = ConversationRecords(
            self,
            services.history,
            self.session,
            self.sidebar,
            self.status,
            self.menu_actions["undo_delete"],
            self.new_chat,
        )
        self._connect()
        self.menu_actions["export_reasoning"].toggled.connect(self.records.include_reasoning)
        self.menu_actions["stop"].setEnabled(False)
        self.menu_actions["sidebar"].setChecked(True)
        self.menu_actions["sidebar"].toggled.connect(self._want_sidebar)
        self.services.chat.busy_changed.connect(self.menu_actions["stop"].setEnabled)
        self.composer.setEnabled(False)
        self.services.models.find_models()
        # Pygments builds each lexer on first use (tens of ms); do it while the person reads, not mid-stream.
        self.lexer_warm_up = LexerWarmUp(self)
        self.lexer_warm_up.start()

    def _menu_handlers(self) -> dict[str, Callable[[], object]]:
        """What each menu item does (menus.py has the keyboard map)."""
        session = self.session
        return {
            "new": self.new_chat,
            "open_model": self.choose_model,
            "adapters": self.adapters.show_dialog,
            "export_md": lambda: self.export_conversation("md"),
            "export_json": lambda: self.export_conversation("json"),
            "quit": self.close,
            "find": self.sidebar.start_search,
            "undo_delete": self.undo_delete,
            "preferences": self.edit_preferences,
            "stop": session.stop,
            "regenerate": session.regenerate,
            "rename": lambda: self.records.rename(),
            "delete": lambda: self.delete_conversation(session.uid),
            "settings": self.edit_conversation_settings,
            "prompt": lambda: self.dialogs.show_last_prompt(),
            "about": lambda: show_about(self),
        }

    def _connect(self) -> None:
        service, session, sidebar, history = self.services.chat, self.session, self.sidebar, self.services.history
        self.composer.send_requested.connect(self._send)
        self.composer.stop_requested.connect(session.stop)
        self.composer.effort.currentIndexChanged.connect(self._on_effort_chosen)
        self.composer.edit_cancelled.connect(self._cancel_edit)
        self.model_loading = ModelLoading(
            self, service, self.where, self.first_run, self.pages, self.status, self._on_model_loaded
        )
        self.first_run.server_requested.connect(self.where.connect_to_server)
        self.where.presented.connect(self._show_where)
        self.where.chosen.connect(self._show_conversation_page)
        self.where.server_added.connect(self._remember_server)
        self.where.status_message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        service.event_received.connect(self._on_chat_event)
        service.busy_changed.connect(self._on_busy_changed)
        session.opened.connect(self._on_opened)
        session.settings_changed.connect(self._on_conversation_settings)
        session.edit_requested.connect(self._start_edit)
        session.context_notice.connect(lambda text: self.statusBar().showMessage(text, 8000))
        sidebar.new_requested.connect(self.new_chat)
        sidebar.open_requested.connect(session.open)
        sidebar.rename_requested.connect(history.rename)
        sidebar.delete_requested.connect(self.delete_conversation)
        sidebar.search_requested.connect(lambda text, reasoning: history.search(text, reasoning))
        self.records.listed.connect(self.documents.conversations_stored)
        self.records.title_changed.connect(self._show_title)
        history.search_finished.connect(lambda _request, hits: sidebar.show_results(hits))
        history.failed.connect(self._show_problem)
        history.exported.connect(lambda path: self.statusBar().showMessage(f"Exported to {path}", 8000))
        self.services.documents.failed.connect(self._show_problem)
        self.documents.status_message.connect(self.statusBar().showMessage)
        self.services.documents.set_embedding_model(self.settings.embedding_model_path)
        self.chat_view.copied.connect(lambda text: self.statusBar().showMessage(text, 3000))

    # --- conversations -----------------------------------------------------------------------

    @Slot()
    def new_chat(self) -> None:
        """Start an empty conversation with the app's default effort and the model's own sampling."""
        self._cancel_edit()
        self.session.new(ConversationSettings(effort=self.settings.effort))
        self.composer.edit.setFocus()

    def model_sampling(self) -> SamplingParams:
        """What the shown conversation's model samples with unless the person chose otherwise."""
        return self.dialogs.model_sampling()

    @Slot(str)
    def delete_conversation(self, uid: str) -> None:
        """Delete a conversation; Undo brings it back."""
        self.records.delete(uid)

    @Slot()
    def undo_delete(self) -> None:
        """Bring back the conversation deleted last."""
        self.records.undo_delete()

    @Slot(str)
    def _on_opened(self, uid: str) -> None:
        self.status.clear_figures()  # the last answer's figures were another conversation's
        self.sidebar.set_current(uid)
        self.records.update_title()
        if self.session.can_answer:
            self.pages.setCurrentIndex(1)

    @Slot(str)
    def _show_title(self, title: str) -> None:
        self.setWindowTitle(f"{title} — gpt-oss desktop" if title else "gpt-oss desktop")

    def export_conversation(self, kind: ExportFormat) -> None:
        """Save the conversation as Markdown ("md") or JSON ("json")."""
        self.records.export(kind)

    # --- settings ------------------------------------------------------------------------------

    @Slot()
    def edit_preferences(self) -> None:
        """The app's preferences: appearance, default effort, reasoning shown, semantic search, saved servers."""
        dialog = SettingsDialog(self.settings, self.services.models, self)
        if dialog.exec():
            self.apply_settings(dialog.settings())

    def apply_settings(self, settings: Settings) -> None:
        """Use and remember new app settings (appearance changes at once)."""
        if settings.embedding_model_path != self.settings.embedding_model_path:
            self.services.documents.set_embedding_model(settings.embedding_model_path)
        forgotten = [server for server in self.settings.servers if server not in settings.servers]
        self.store_settings(settings)
        self.api_status.apply(settings)
        self.where.forget(forgotten, settings.servers)
        self.session.show_reasoning_by_default = settings.show_reasoning
        self.session.python_interpreter = settings.python_interpreter
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_appearance(app, settings)

    @Slot()
    def edit_conversation_settings(self) -> None:
        """This conversation's instructions, effort and sampling."""
        self.dialogs.edit_settings()

    @Slot(object)
    def _on_conversation_settings(self, settings: ConversationSettings) -> None:
        self.composer.set_effort(settings.effort)
        self.where.show_conversation(settings.server)

    def store_settings(self, settings: Settings) -> None:
        """Remember app settings that change nothing on screen (a server added, the model's path)."""
        self.settings = settings
        save_settings(self._settings_path, settings)

    @Slot()
    def _on_effort_chosen(self) -> None:
        effort = self.composer.current_effort()
        if effort != self.session.settings.effort:
            self.session.update_settings(self.session.settings.with_changes(effort=effort))
        if effort != self.settings.effort:  # the last choice is also the default for new conversations
            self.store_settings(self.settings.with_changes(effort=effort))

    # --- sending -------------------------------------------------------------------------------

    @Slot(str, str)
    def _send(self, text: str, effort: str) -> None:
        replacing = self.composer.editing
        if not self.session.send(text, effort, replacing if isinstance(replacing, UserMessage) else None):
            self.composer.edit.setPlainText(text)  # not sent (the person cancelled): the message stays
            return
        self.composer.set_editing(None)

    @Slot(object)
    def _start_edit(self, message: UserMessage) -> None:
        if self.services.chat.busy:
            return
        self.composer.set_editing(message)
        self.composer.edit.setPlainText(message.text)
        self.composer.edit.setFocus()

    @Slot()
    def _cancel_edit(self) -> None:
        if self.composer.editing is not None:
            self.composer.set_editing(None)
            self.composer.edit.clear()

    @Slot(Presentation)
    def _show_where(self, shown: Presentation) -> None:
        """Where the shown conversation runs, said in the composer, the status line and an empty conversation."""
        self.composer.setEnabled(shown.can_send)
        self.composer.set_reasoning_supported(shown.reasoning_supported)
        self.composer.set_placeholder_model(shown.model_name)
        self.status.show_where(shown.status)
        if shown.empty_conversation and not self.chat_view.turns:
            self.chat_view.set_placeholder(shown.empty_conversation)

    @Slot()
    def _show_conversation_page(self) -> None:
        self.pages.setCurrentIndex(1)
        self.composer.edit.setFocus()

    @Slot(ServerProfile)
    def _remember_server(self, server: ServerProfile) -> None:
        if server not in self.settings.servers:
            self.store_settings(self.settings.with_changes(servers=(*self.settings.servers, server)))

    @Slot(object)
    def _on_chat_event(self, event: ChatEvent) -> None:
        """The status line's part of an answer: its speed and context use once done, map-reduce progress."""
        match event:
            case Done(stats=stats):
                self.status.show_answer(stats)
            case Failed():
                self.status.clear_figures()
            case PartRead(part=part, parts=parts):
                self.statusBar().showMessage(f"Reading the documents: part {part} of {parts}…", 4000)
            case _:
                pass  # the conversation shows the rest

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self.composer.set_busy(busy)
        if busy:
            self.status.show_generating()

    @Slot(str)
    def _show_problem(self, message: str) -> None:
        self.statusBar().showMessage(message, 15_000)

    # --- models ---------------------------------------------------------------------------------

    def load_model(self, path: str) -> None:
        """Load `path` on the engine thread (the window stays usable meanwhile)."""
        self.services.chat.load_model(path)

    @Slot()
    def choose_model(self) -> None:
        """Pick a GGUF file to load."""
        path, _ = QFileDialog.getOpenFileName(self, "Open a GGUF model", "", "GGUF models (*.gguf);;All files (*)")
        if path:
            self.load_model(path)

    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.composer.edit.setFocus()
        self.store_settings(self.settings.with_changes(model_path=str(info.path)))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        """Accept a dragged GGUF file (a model) or other local files and folders (documents)."""
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        """A dropped LoRA adapter is added; another GGUF file is loaded as the model; other files become the
        conversation's documents."""
        adapters = dropped_adapters(event.mimeData())
        if adapters:
            event.acceptProposedAction()
            for adapter in adapters:
                self.adapters.add(adapter)
            return
        path = dropped_model(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.load_model(path)
            return
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.documents.add(files)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """Close in two steps: the first request stops all work (the answer so far is saved, a download
        pauses) and the window says so; it closes once every thread has ended."""
        if self._can_close:
            event.accept()
            return
        event.ignore()
        if self.services.stopping:
            return
        self.store_settings(self.settings.with_changes(window_geometry=saved_geometry(self)))
        self.session.close()
        self.setEnabled(False)
        self.statusBar().showMessage("Closing…")
        self.services.begin_shutdown()

    @Slot(list)
    def _on_services_stopped(self, _still_running: list[str]) -> None:
        self._can_close = True
        # Not close() here: this may run inside the first closeEvent (every thread ended at once), where
        # Qt ignores a nested close.
        QTimer.singleShot(0, self.close)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        """The message box grows with its text up to a quarter of the window's height."""
        super().resizeEvent(event)
        self.composer.edit.limit_height(event.size().height() // 4)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        """The composer's column follows the text size."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_composer()

    def _fit_composer(self) -> None:
        self._composer_column.column.setMaximumWidth(column_width(self.chat_view) + COMPOSER_MARGIN)
        self._composer_column.recentre()

    @Slot(bool)
    def _want_sidebar(self, wanted: bool) -> None:
        """View ▸ Conversation List: shown when there is room beside a usable message box, and said when not."""
        self.panes.set_sidebar_wanted(wanted)
        if wanted and not self.sidebar.isVisible():
            self.statusBar().showMessage("The conversation list shows once the window is wider.", 5000)
