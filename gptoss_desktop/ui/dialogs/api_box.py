"""Preferences ▸ Other programs: serve the loaded model through a local OpenAI-compatible API."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLabel, QSpinBox

from ...core.settings import Settings


class ApiBox(QGroupBox):
    """A switch (off by default) and the port; the base URL programs use is shown below."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("Other programs")
        self.enabled = QCheckBox("&Let programs on this computer use the model (OpenAI-compatible API)")
        self.enabled.setAccessibleName("Serve the model to other programs")
        self.enabled.setToolTip(
            "Editors, scripts and agents can use the loaded model through the OpenAI API, on this computer "
            "only; their requests wait their turn with yours"
        )
        self.port = QSpinBox()
        self.port.setRange(1024, 65535)
        self.port.setAccessibleName("API port")
        self.url = QLabel()
        self.url.setAccessibleName("API base URL")
        self.url.setWordWrap(True)  # never the widest line of Preferences, at any text size
        self.url.setTextInteractionFlags(
            self.url.textInteractionFlags() | self.url.textInteractionFlags().TextSelectableByMouse
        )
        form = QFormLayout(self)
        form.addRow(self.enabled)
        form.addRow("&Port:", self.port)
        form.addRow(self.url)
        self.enabled.setChecked(settings.api_enabled)
        self.port.setValue(max(settings.api_port, self.port.minimum()))
        self.enabled.toggled.connect(self._show_url)
        self.port.valueChanged.connect(self._show_url)
        self._show_url()

    def _show_url(self) -> None:
        self.port.setEnabled(self.enabled.isChecked())
        url = f"http://127.0.0.1:{self.port.value()}/v1"
        self.url.setText(f"Base URL: {url}" if self.enabled.isChecked() else f"Off (base URL {url} when on)")
