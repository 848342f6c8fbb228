"""Connect to a Server: an address, an optional API key (into the keyring), and a model from the server's list."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.remote.profile import ServerProfile
from ...services.server_service import ServerModels, ServerService

INTRO = (
    "Run conversations on gpt-oss (or another model) on an OpenAI-compatible server: vLLM, llama.cpp's "
    "llama-server, Ollama or LM Studio. What you write in those conversations is sent to that server."
)


class ServerDialog(QDialog):
    """Asks the server for its models before it can be used, so a wrong address or key shows here, not mid-chat."""

    def __init__(self, service: ServerService, parent: QWidget | None = None, address: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to a Server")
        self._service = service
        self._listed: ServerModels | None = None
        self._request = 0  # the listing this dialog waits for; replies to others are not ours
        self._key = ""  # the key typed for the listing: saved only once the server is used
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.address = QLineEdit(address)
        self.address.setAccessibleName("Server address")
        self.address.setPlaceholderText("http://gpu-box:8000/v1")
        self.api_key = QLineEdit()
        self.api_key.setAccessibleName("API key")
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("if the server wants one; kept in the system keyring once used")
        self.ca_file = QLineEdit()
        self.ca_file.setAccessibleName("Certificate authority file")
        self.ca_file.setPlaceholderText("optional: a PEM file, for a server with its own certificates")
        choose_ca = QPushButton("Choose…")
        choose_ca.setAccessibleName("Choose a certificate authority file")
        choose_ca.clicked.connect(self._choose_ca_file)
        ca_row = QHBoxLayout()
        ca_row.setContentsMargins(0, 0, 0, 0)
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(choose_ca)
        self.connect_button = QPushButton("Connect")
        self.connect_button.setAccessibleName("Connect to the server")
        self.connect_button.clicked.connect(self.connect_to_server)
        self.model = QComboBox()
        self.model.setAccessibleName("Model on the server")
        self.model.setEnabled(False)
        self.status = QLabel("Enter the server's address, then Connect.")
        self.status.setObjectName("serverStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        form.addRow("Address:", self.address)
        form.addRow("API key:", self.api_key)
        form.addRow("CA file:", ca_row)
        form.addRow("", self.connect_button)
        form.addRow("Model:", self.model)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.use_button = self.buttons.addButton("Use This Server", QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.address.textEdited.connect(self._forget_listing)
        self.address.returnPressed.connect(self.connect_to_server)
        service.listed.connect(self._on_listed)
        service.failed.connect(self._on_failed)
        self.api_key.textEdited.connect(self._forget_listing)
        self.resize(560, self.sizeHint().height())

    def key_to_save(self) -> str:
        """The API key the server accepted, to keep once the person uses it ("" if none was typed)."""
        return self._key if self._listed is not None else ""

    def profile(self) -> ServerProfile | None:
        """The server and model chosen, once connected."""
        if self._listed is None:
            return None
        model = self.model.currentText() or None
        return ServerProfile(self._listed.server.base_url, model=model, ca_file=self._listed.server.ca_file)

    @Slot()
    def connect_to_server(self) -> None:
        """Ask the server for its models (on the server thread), with the key typed if any (not saved yet)."""
        address = self.address.text().strip()
        if not self.connect_button.isEnabled():
            return  # already asking (Enter pressed twice)
        if not address:
            self.status.setText("Enter the server's address first.")
            return
        self._forget_listing()
        self.connect_button.setEnabled(False)
        self.status.setText(f"Connecting to {address}…")
        self._key = self.api_key.text().strip()
        self._request = self._service.list_models(address, self._key or None, self.ca_file.text().strip() or None)

    @Slot()
    def _forget_listing(self) -> None:
        self._listed = None
        self.model.clear()
        self.model.setEnabled(False)
        self.use_button.setEnabled(False)

    @Slot(int, object)
    def _on_listed(self, request: int, listed: ServerModels) -> None:
        if request != self._request:
            return
        self.connect_button.setEnabled(True)
        self._listed = listed
        self.model.clear()
        self.model.addItems(list(listed.models))
        self.model.setCurrentText(listed.chosen)
        self.model.setEnabled(True)
        self.use_button.setEnabled(True)
        count = len(listed.models)
        offered = f"{count} model{'s' if count != 1 else ''} offered."
        note = f" {listed.effort_note}" if listed.effort_note else ""
        plain = self._key and listed.server.base_url.startswith("http://") and "this computer" not in listed.where
        warning = " The API key travels unencrypted to this server." if plain else ""
        self.status.setText(f"Connected: conversations will run {listed.where}. {offered}{note}{warning}")

    @Slot(int, str)
    def _on_failed(self, request: int, message: str) -> None:
        if request != self._request:
            return
        self.connect_button.setEnabled(True)
        self.status.setText(message)

    @Slot()
    def _choose_ca_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Certificate authority", "", "Certificates (*.pem *.crt);;All (*)")
        if path:
            self.ca_file.setText(path)
            self._forget_listing()
