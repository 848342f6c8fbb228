"""The window's side of the local API: switching it on and off with the settings, and the status line
saying where it serves and when a program is being answered."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QLabel, QStatusBar

from ...core.api.server import ServeError
from ...core.settings import Settings
from ...services.api_service import ApiService


class ApiStatus(QObject):
    """Owns the status line's API label; `problem` says why the API could not start."""

    problem = Signal(str)

    def __init__(self, api: ApiService, status_bar: QStatusBar) -> None:
        super().__init__(status_bar)
        self._api = api
        self._port: int | None = None
        self.label = QLabel()
        self.label.setAccessibleName("Local API")
        self.label.setVisible(False)
        status_bar.addPermanentWidget(self.label)
        api.answering_changed.connect(self._on_answering)

    def apply(self, settings: Settings) -> None:
        """Serve, or stop serving, as the settings say (a change of port restarts the server)."""
        wanted = settings.api_port if settings.api_enabled else None
        if wanted == self._port:
            return
        self._api.stop()
        self._port = None
        if wanted is not None:
            try:
                self._api.start(wanted)
            except ServeError as exc:
                self.problem.emit(f"The API for other programs could not start: {exc}")
            else:
                self._port = wanted
        self._show(answering=False)

    @Slot(bool)
    def _on_answering(self, answering: bool) -> None:
        self._show(answering)

    def _show(self, answering: bool) -> None:
        url = self._api.base_url
        self.label.setVisible(url is not None)
        if url is None:
            return
        self.label.setText("API: answering a program…" if answering else f"API: {url}")
        self.label.setToolTip(f"Programs use the model at {url} (OpenAI-compatible)")
