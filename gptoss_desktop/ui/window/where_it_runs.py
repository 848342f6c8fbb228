"""Where a conversation runs: this computer or a server, chosen beside the message box and always in view.

The "Runs on" dropdown offers this computer, the servers used before and "Connect to a Server…";
the choice belongs to the conversation. While a conversation runs on a server a banner above it
says where, and so do the status line, the message box and the empty conversation, so a person
never sends a message without seeing where it goes. Documents go to a server only after the
person agreed, once per conversation and server.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QComboBox, QLabel, QMessageBox

from ...core.remote.profile import ServerProfile
from ...services.server_service import ServerService
from ..dialogs.server import ServerDialog

if TYPE_CHECKING:
    from ...core.remote.openai_engine import ServerModelInfo
    from .main_window import MainWindow

LOCAL_LABEL = "This computer"
CONNECT_LABEL = "Connect to a Server…"
_CONNECT = "connect"  # item data of the last entry


class WhereItRuns(QObject):
    """The window's part that knows where the shown conversation runs, and says it everywhere it matters."""

    def __init__(self, window: MainWindow, service: ServerService, servers: tuple[ServerProfile, ...]) -> None:
        super().__init__(window)
        self._window = window
        self._service = service
        self._servers = list(servers)
        self._current: ServerProfile | None = None
        self._infos: dict[ServerProfile, ServerModelInfo] = {}  # what each server said when it first answered
        #: What the status line and the empty conversation say about the model on this computer.
        self.local_label = "No model"
        self.local_placeholder = ""
        self.combo = QComboBox()
        self.combo.setObjectName("runsOnBox")
        self.combo.setAccessibleName("Runs on")
        self.combo.setToolTip("Where this conversation runs: this computer, or a server")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.banner = QLabel()
        self.banner.setObjectName("serverBanner")
        self.banner.setAccessibleName("Where this conversation runs")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setVisible(False)
        self._fill()
        self.combo.activated.connect(self._on_activated)
        service.key_saved.connect(self._on_key_saved)
        service.key_forgotten.connect(self._on_key_forgotten)
        window.service.server_ready.connect(self._on_server_ready)
        window.session.documents_consent = self.ask_to_send_documents

    @property
    def current(self) -> ServerProfile | None:
        """The server the shown conversation runs on (None: this computer)."""
        return self._current

    def show_conversation(self, server: ServerProfile | None) -> None:
        """A conversation was opened or its settings changed: show where it runs, everywhere."""
        self._current = server
        if server is not None and server not in self._servers:
            self._servers.append(server)  # a conversation's server stays offered even if settings forgot it
        self._fill()
        self.update()

    def update(self) -> None:
        """Composer, effort, banner, placeholders and status line for where the shown conversation runs."""
        window, server = self._window, self._current
        window.composer.setEnabled(window.session.can_answer)
        self.banner.setVisible(server is not None)
        if server is None:
            local = window.service.model_info
            window.composer.set_reasoning_supported(local is None or local.is_harmony)
            self.banner.clear()
            window.model_label.setText(self.local_label)
            window.composer.set_placeholder_model("gpt-oss" if local is None or local.is_harmony else local.name)
            if self.local_placeholder and not window.chat_view.turns:
                window.chat_view.set_placeholder(self.local_placeholder)
            return
        info = self._infos.get(server)
        window.composer.set_reasoning_supported(info is None or info.is_harmony)  # unknown until it answers
        where = html.escape(server.where)
        note = info.effort_note if info is not None else ""
        self.banner.setText(
            f"<b>Runs {where}.</b> Your messages, and any documents you agree to send, go there."
            + (f" {html.escape(note)}" if note else "")
        )
        window.model_label.setText(self._status(server, info))
        window.composer.set_placeholder_model(server.label)
        if not window.chat_view.turns:
            window.chat_view.set_placeholder(
                f"<h3>{html.escape(server.label)}</h3><p>This conversation runs {where}: "
                "what you write here is sent there.</p>"
            )

    @Slot()
    def connect_to_server(self) -> ServerProfile | None:
        """Connect to a Server…: the dialog; the server chosen there becomes the conversation's."""
        dialog = ServerDialog(self._service, self._window)
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
            self._window.service.forget_server(server.base_url)  # connections with an old key are dropped
        if server not in self._servers:
            self._servers.append(server)
        if server not in self._window.settings.servers:
            self._window.store_settings(
                self._window.settings.with_changes(servers=(*self._window.settings.servers, server))
            )
        self._choose(server)
        return server

    def forget(self, servers: list[ServerProfile]) -> None:
        """Preferences ▸ Servers ▸ Forget: no longer offered (unless this conversation runs there), open
        connections dropped, and the API key deleted once no saved server on that address is left."""
        still_saved = {server.base_url for server in self._window.settings.servers}
        for server in servers:
            if server in self._servers and server != self._current:
                self._servers.remove(server)
            if server.base_url not in still_saved:
                self._window.service.forget_server(server.base_url)
                self._service.forget_key(server.base_url)
                still_saved.add(server.base_url)  # once per address
        self._fill()

    def ask_to_send_documents(self) -> bool | None:
        """Before the documents of the conversation first go to its server: True to send them (and from now on),
        False to answer without them this time, None to send nothing."""
        session = self._window.session
        server = session.settings.server
        if server is None:
            return True
        question = QMessageBox(self._window)
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
        window = self._window
        window.session.update_settings(window.session.settings.with_changes(server=server))
        if window.session.can_answer:
            window.pages.setCurrentIndex(1)
            window.composer.edit.setFocus()

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
            self._window.statusBar().showMessage(f"The API key for {base_url} could not be deleted: {problem}", 10_000)

    @Slot(str, bool)
    def _on_key_saved(self, _base_url: str, session_only: bool) -> None:
        if session_only:
            self._window.statusBar().showMessage(
                "No system keyring is available: the API key is kept only until the app quits.", 10_000
            )

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
