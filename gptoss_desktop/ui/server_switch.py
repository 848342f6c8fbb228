"""Where a conversation runs: this computer or a server, chosen beside the message box and always in view.

The "Runs on" dropdown offers this computer, the servers used before and "Connect to a Server…";
the choice belongs to the conversation. While a conversation runs on a server a banner above it
says where, so a person never sends a message without seeing where it goes.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QLabel, QMessageBox, QWidget

from ..core.remote.profile import ServerProfile
from ..services.server_service import ServerService
from .server_dialog import ServerDialog

LOCAL_LABEL = "This computer"
CONNECT_LABEL = "Connect to a Server…"
_CONNECT = "connect"  # item data of the last entry


class ServerSwitch(QObject):
    """Owns the Runs-on dropdown and the where-it-runs banner; says which server the person chose."""

    #: The person chose where the current conversation runs: a ServerProfile, or None for this computer.
    chosen = Signal(object)
    #: A server was added through the dialog: the app remembers it in its settings.
    server_added = Signal(object)  # ServerProfile

    def __init__(self, service: ServerService, servers: tuple[ServerProfile, ...], parent: QWidget) -> None:
        super().__init__(parent)
        self._service = service
        self._window = parent
        self._servers = list(servers)
        self._current: ServerProfile | None = None
        self._notes: dict[ServerProfile, str] = {}  # what a connected server told us (effort ignored)
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

    @property
    def current(self) -> ServerProfile | None:
        """The server the shown conversation runs on (None: this computer)."""
        return self._current

    def show_conversation(self, server: ServerProfile | None) -> None:
        """A conversation was opened or changed: show where it runs."""
        self._current = server
        if server is not None and server not in self._servers:
            self._servers.append(server)  # a conversation's server stays offered even if settings forgot it
        self._fill()
        self._update_banner()

    def note(self, server: ServerProfile, text: str) -> None:
        """What the server said when it answered (e.g. that it ignores the reasoning effort)."""
        self._notes[server] = text
        self._update_banner()

    @Slot()
    def connect_to_server(self) -> ServerProfile | None:
        """Connect to a Server…: the dialog; the server chosen there becomes the conversation's."""
        dialog = ServerDialog(self._service, self._window)
        try:
            if not dialog.exec():
                return None
            server = dialog.profile()
        finally:
            dialog.deleteLater()
        if server is None:
            return None
        if server not in self._servers:
            self._servers.append(server)
            self.server_added.emit(server)
        self.show_conversation(server)
        self.chosen.emit(server)
        return server

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data == _CONNECT:
            if self.connect_to_server() is None:
                self._fill()  # back to where it was
            return
        server = data if isinstance(data, ServerProfile) else None
        if server != self._current:
            self.show_conversation(server)
            self.chosen.emit(server)

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

    def _update_banner(self) -> None:
        server = self._current
        self.banner.setVisible(server is not None)
        if server is None:
            self.banner.clear()
            return
        note = self._notes.get(server, "")
        self.banner.setText(
            f"<b>Runs {html.escape(server.where)}.</b> Your messages, and any documents you agree to send, "
            f"go there.{' ' + html.escape(note) if note else ''}"
        )


def ask_to_send_documents(parent: QWidget, server: ServerProfile) -> bool | None:
    """Before documents first go to a server: True to send them (from now on in this conversation),
    False to answer without them this time, None to not send the message at all."""
    question = QMessageBox(parent)
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
        return True
    return False if clicked is without else None
