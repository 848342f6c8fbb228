"""Where a conversation runs: this computer or a server, chosen beside the message box and always in view.

The "Runs on" dropdown offers this computer, the servers used before and "Connect to a Server…";
the choice belongs to the conversation. While a conversation runs on a server a banner above it
says where, and so do the status line, the message box and the empty conversation, so a person
never sends a message without seeing where it goes. Documents go to a server only after the
person agreed, once per conversation and server. The banner also says which tools work there: only
Python, run on this computer when the server's model calls it through OpenAI tool calls, and not
at all once the server refused those.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from ...core.remote.profile import ServerProfile
from ...services.chat_service import ChatService
from ...services.server_service import ServerService
from ..chat.chat_session import ChatSession
from ..chat.composer import ShrinkingComboBox
from ..dialogs.server import ServerDialog

if TYPE_CHECKING:
    from ...core.remote.openai_engine import ServerModelInfo

LOCAL_LABEL = "This computer"
CONNECT_LABEL = "Connect to a Server…"
_CONNECT = "connect"  # item data of the last entry


@dataclass(frozen=True)
class Presentation:
    """What the window says about where the shown conversation runs, outside the banner and the dropdown."""

    can_send: bool  # the message box is usable: something can answer
    reasoning_supported: bool  # the effort dropdown applies
    status: str  # the status line's model part
    model_name: str  # the message box's placeholder names it
    empty_conversation: str  # what an empty conversation says (HTML; "" leaves it as it is)


class WhereItRuns(QObject):
    """The window's part that knows where the shown conversation runs: it owns the "Runs on" dropdown and the
    banner, and tells the window what to show elsewhere (`presented`) instead of reaching into it."""

    #: Show this in the composer, status line and empty conversation.
    presented = Signal(Presentation)
    #: A conversation was moved to a server (or back here) and can be answered: show the conversation.
    chosen = Signal()
    #: A server was connected to for the first time: remember it in the app's settings.
    server_added = Signal(ServerProfile)
    #: Something to say in the status line for a while.
    status_message = Signal(str)

    def __init__(
        self,
        parent: QWidget,
        chat: ChatService,
        session: ChatSession,
        service: ServerService,
        servers: tuple[ServerProfile, ...],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._chat = chat
        self._session = session
        self._service = service
        self._servers = list(servers)
        self._current: ServerProfile | None = None
        self._infos: dict[ServerProfile, ServerModelInfo] = {}  # what each server said when it first answered
        self._tools_refused: set[ServerProfile] = set()  # servers that refused OpenAI tools (no python there)
        #: What the status line and the empty conversation say about the model on this computer.
        self.local_label = "No model"
        self.local_placeholder = ""
        self.combo = ShrinkingComboBox()
        self.combo.setObjectName("runsOnBox")
        self.combo.setAccessibleName("Runs on")
        self.combo.setToolTip("Where this conversation runs: this computer, or a server")
        self.combo.setSizeAdjustPolicy(ShrinkingComboBox.SizeAdjustPolicy.AdjustToContents)
        self.banner = QLabel()
        self.banner.setObjectName("serverBanner")
        self.banner.setAccessibleName("Where this conversation runs")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setVisible(False)
        self.shown = Presentation(False, True, "No model", "gpt-oss", "")
        self._fill()
        self.combo.activated.connect(self._on_activated)
        service.key_saved.connect(self._on_key_saved)
        service.key_forgotten.connect(self._on_key_forgotten)
        chat.server_ready.connect(self._on_server_ready)
        chat.tools_refused.connect(self._on_tools_refused)
        session.documents_consent = self.ask_to_send_documents

    def show_conversation(self, server: ServerProfile | None) -> None:
        """A conversation was opened or its settings changed: show where it runs, everywhere."""
        self._current = server
        if server is not None and server not in self._servers:
            self._servers.append(server)  # a conversation's server stays offered even if settings forgot it
        self._fill()
        self.update()

    def update(self) -> None:
        """Banner, and what the window shows elsewhere (`presented`), for where the shown conversation runs."""
        server = self._current
        empty = not self._session.transcript.messages
        self.banner.setVisible(server is not None)
        if server is None:
            local = self._chat.model_info
            self.banner.clear()
            self._present(
                Presentation(
                    can_send=self._session.can_answer,
                    reasoning_supported=local is None or local.is_harmony,
                    status=self.local_label,
                    model_name="gpt-oss" if local is None or local.is_harmony else local.name,
                    empty_conversation=self.local_placeholder if empty else "",
                )
            )
            return
        info = self._infos.get(server)
        where = html.escape(server.where)
        note = info.effort_note if info is not None else ""
        self.banner.setText(
            f"<b>Runs {where}.</b> Your messages, and any documents you agree to send, go there."
            + (f" {html.escape(note)}" if note else "")
            + f"<br>{html.escape(self.tools_note(server, info))}"
        )
        self._present(
            Presentation(
                can_send=self._session.can_answer,
                reasoning_supported=info is None or info.is_harmony,  # unknown until it answers
                status=self._status(server, info),
                model_name=server.label,
                empty_conversation=(
                    f"<h3>{html.escape(server.label)}</h3><p>This conversation runs {where}: "
                    "what you write here is sent there.</p>"
                    if empty
                    else ""
                ),
            )
        )

    def tools_note(self, server: ServerProfile, info: ServerModelInfo | None) -> str:
        """Which tools the model on `server` can use, in one sentence."""
        if info is not None and not info.is_harmony:
            return "Tools: none (the model is not gpt-oss)."
        if server in self._tools_refused:
            return (
                "Tools: none. This server refused tool calls (llama-server needs --jinja), so Python is not "
                "offered to its model."
            )
        if self._session.settings.python == "off":
            return "Tools: none (Python is off in Conversation Settings)."
        return (
            "Tools: Python only. When the model calls it through the server's tool calls, the code runs here, "
            "on this computer, in the sandbox, and its output goes back to the server."
        )

    @Slot(object)
    def _on_tools_refused(self, server: ServerProfile) -> None:
        if server not in self._tools_refused:
            self._tools_refused.add(server)
            if server == self._current:
                self.update()

    def _present(self, shown: Presentation) -> None:
        self.shown = shown
        self.presented.emit(shown)

    @property
    def reasoning_supported(self) -> bool:
        """Whether the shown conversation's model has a reasoning effort."""
        return self.shown.reasoning_supported

    @property
    def model_name(self) -> str:
        """The name of the shown conversation's model (or server)."""
        return self.shown.model_name

    @Slot()
    def connect_to_server(self) -> ServerProfile | None:
        """Connect to a Server…: the dialog; the server chosen there becomes the conversation's."""
        dialog = ServerDialog(self._service, self._parent)
        try:
            if not dialog.exec():
                return None
            server, key = dialog.profile(), dialog.key_to_save()
        finally:
            dialog.deleteLater()
        if server is None:
            return None
        if key:
            self._service.save_key(server.base_url, key)  # usable at once; key_saved follows
            self._chat.forget_server(server.base_url)  # connections with an old key are dropped
        if server not in self._servers:
            self._servers.append(server)
        self.server_added.emit(server)
        self._choose(server)
        return server

    def forget(self, servers: list[ServerProfile], saved: tuple[ServerProfile, ...]) -> None:
        """Preferences ▸ Servers ▸ Forget: no longer offered (unless this conversation runs there), open
        connections dropped, and the API key deleted once none of the `saved` servers is on that address."""
        still_saved = {server.base_url for server in saved}
        for server in servers:
            if server in self._servers and server != self._current:
                self._servers.remove(server)
            if server.base_url not in still_saved:
                self._chat.forget_server(server.base_url)
                self._service.forget_key(server.base_url)
                still_saved.add(server.base_url)  # once per address
        self._fill()

    def ask_to_send_documents(self) -> bool | None:
        """Before the documents of the conversation first go to its server: True to send them (and from now on),
        False to answer without them this time, None to send nothing."""
        session = self._session
        server = session.settings.server
        if server is None:
            return True
        question = QMessageBox(self._parent)
        question.setObjectName("documentsConsent")
        question.setIcon(QMessageBox.Icon.Question)
        question.setWindowTitle("Send documents to the server?")
        question.setText(f"This conversation runs {server.where}.")
        question.setInformativeText(
            "To answer from this conversation's documents, passages of them are sent to that server "
            "with your message. Send them, now and for the rest of this conversation?"
        )
        send = question.addButton("Send Documents", QMessageBox.ButtonRole.AcceptRole)
        without = question.addButton("Answer Without Them", QMessageBox.ButtonRole.RejectRole)
        question.addButton(QMessageBox.StandardButton.Cancel)
        question.setDefaultButton(without)
        question.exec()
        clicked = question.clickedButton()
        question.deleteLater()
        if clicked is send:
            session.update_settings(session.settings.with_changes(documents_to_server=server.base_url))
            return True
        return False if clicked is without else None

    def _choose(self, server: ServerProfile | None) -> None:
        self._session.update_settings(self._session.settings.with_changes(server=server))
        if self._session.can_answer:
            self.chosen.emit()

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data == _CONNECT:
            if self.connect_to_server() is None:
                self._fill()  # back to where it was
            return
        server = data if isinstance(data, ServerProfile) else None
        if server != self._current:
            self._choose(server)

    @Slot(object, object)
    def _on_server_ready(self, server: ServerProfile, info: ServerModelInfo) -> None:
        self._infos[server] = info
        if server == self._current:
            self.update()

    @Slot(str, str)
    def _on_key_forgotten(self, base_url: str, problem: str) -> None:
        if problem:
            self.status_message.emit(f"The API key for {base_url} could not be deleted: {problem}")

    @Slot(str, bool)
    def _on_key_saved(self, _base_url: str, session_only: bool) -> None:
        if session_only:
            self.status_message.emit("No system keyring is available: the API key is kept only until the app quits.")

    @staticmethod
    def _status(server: ServerProfile, info: ServerModelInfo | None) -> str:
        if info is None:
            return f"{server.label} {server.where}"
        assumed = "" if info.context_known else " (assumed: the server does not say)"
        return f"{info.name} {server.where} · context {info.context_size:,} tokens{assumed}"

    def _fill(self) -> None:
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(LOCAL_LABEL, None)
        for server in self._servers:
            self.combo.addItem(server.label, server)
        self.combo.insertSeparator(self.combo.count())
        self.combo.addItem(CONNECT_LABEL, _CONNECT)
        self.combo.setCurrentIndex(self._servers.index(self._current) + 1 if self._current in self._servers else 0)
        self.combo.blockSignals(False)
