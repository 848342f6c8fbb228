"""Start the desktop app: QApplication, chat service, main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from .. import __version__
from ..core.paths import app_paths
from ..core.settings import load_settings
from ..services.chat_service import ChatService
from .main_window import MainWindow
from .style import apply_style


def create_window(model_path: str | None = None) -> MainWindow:
    """Build the window (an application object must exist); load the given or remembered model."""
    paths = app_paths()
    settings = load_settings(paths.settings_file)
    window = MainWindow(ChatService(), settings, paths.settings_file)
    path = model_path or settings.model_path
    if path:
        window.load_model(path)
    return window


def run_app(model_path: str | None = None) -> int:
    """Run the app until its window closes; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("gptoss-desktop")
    app.setApplicationDisplayName("gpt-oss desktop")
    app.setApplicationVersion(__version__)
    apply_style(app)
    window = create_window(model_path)
    window.show()
    return app.exec()
