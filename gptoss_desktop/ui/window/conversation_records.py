"""The window's part that keeps the stored conversations in view: titles, delete with Undo, rename, export."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget

from ...core.history.export import ExportFormat, suggested_filename
from ...core.history.store import StoredConversation
from ...services.history_service import HistoryService
from ..chat.chat_session import ChatSession
from .sidebar import UNTITLED, ConversationSidebar
from .status_line import StatusLine

#: How long "Deleted … Undo" stays in the status bar.
UNDO_MS = 10_000


class ConversationRecords(QObject):
    """Knows the stored conversations as the history lists them (GUI thread)."""

    #: The listed conversations changed (uids of those stored).
    listed = Signal(set)
    #: The window's title should read this ("" when the conversation has none yet).
    title_changed = Signal(str)

    def __init__(
        self,
        parent: QWidget,
        history: HistoryService,
        session: ChatSession,
        sidebar: ConversationSidebar,
        status: StatusLine,
        undo_action: QAction,
        new_chat: Callable[[], None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._history = history
        self._session = session
        self._sidebar = sidebar
        self._status = status
        self._undo_action = undo_action
        self._new_chat = new_chat
        self.include_reasoning_in_exports = False
        self._conversations: dict[str, StoredConversation] = {}  # by uid, as the history lists them
        self._deleted: tuple[str, str] | None = None  # (uid, title) of the last delete, for undo
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(UNDO_MS)
        self._undo_timer.timeout.connect(self._forget_undo)
        undo_action.setEnabled(False)
        status.undo_button.clicked.connect(self.undo_delete)
        history.conversations_listed.connect(self._on_conversations)

    def title(self, uid: str) -> str:
        """A stored conversation's title ("" when it has none, or is not stored yet)."""
        conversation = self._conversations.get(uid)
        return conversation.title if conversation is not None else ""

    @Slot(str)
    def delete(self, uid: str) -> None:
        """Delete a conversation; Undo in the status bar (and the Edit menu) brings it back."""
        if not uid:
            return
        title = self.title(uid) or UNTITLED
        self._history.delete(uid)
        if uid == self._session.uid:
            self._new_chat()
        self._deleted = (uid, title)
        self._status.say(f"Deleted “{title}”.", UNDO_MS)
        self._status.undo_button.setVisible(True)
        self._undo_action.setEnabled(True)
        self._undo_timer.start()

    @Slot()
    def undo_delete(self) -> None:
        """Bring back the conversation deleted last."""
        if self._deleted is None:
            return
        uid, title = self._deleted
        self._history.restore(uid)
        self._forget_undo()
        self._status.say(f"Restored “{title}”.", 4000)

    @Slot()
    def _forget_undo(self) -> None:
        self._deleted = None
        self._status.undo_button.setVisible(False)
        self._undo_action.setEnabled(False)
        self._undo_timer.stop()

    @Slot()
    def rename(self) -> None:
        """Edit the shown conversation's title in the list."""
        self._sidebar.set_current(self._session.uid)
        self._sidebar.rename_current()

    def export(self, kind: ExportFormat) -> None:
        """Save the shown conversation as Markdown ("md") or JSON ("json"), where the person picks."""
        uid = self._session.uid
        if not uid:
            self._status.say("Nothing to export yet: send a message first.", 5000)
            return
        conversation = self._conversations.get(uid)
        name = suggested_filename(conversation, kind) if conversation is not None else f"conversation.{kind}"
        filters = "Markdown (*.md)" if kind == "md" else "JSON (*.json)"
        path, _ = QFileDialog.getSaveFileName(self._parent, "Export conversation", name, filters)
        if path:
            self._history.export(uid, path, kind, self.include_reasoning_in_exports)

    @Slot(bool)
    def include_reasoning(self, include: bool) -> None:
        """File ▸ Include Reasoning in Exports."""
        self.include_reasoning_in_exports = include

    def update_title(self) -> None:
        """Say the shown conversation's title (the window puts it in its title bar)."""
        self.title_changed.emit(self.title(self._session.uid) if self._session.uid else "")

    @Slot(list)
    def _on_conversations(self, conversations: list[StoredConversation]) -> None:
        self._conversations = {c.uid: c for c in conversations}
        self.listed.emit(set(self._conversations))
        self._sidebar.set_conversations(conversations)
        self.update_title()
