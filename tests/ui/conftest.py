"""Fixtures for driving the real window with a real engine thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.settings import load_settings
from gptoss_desktop.services.chat_service import ChatService
from gptoss_desktop.ui.style import apply_style
from gptoss_desktop.ui.window.main_window import MainWindow

WindowFactory = Callable[..., MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot) -> Iterator[WindowFactory]:
    """Build main windows on the test's home; each is closed (and its thread joined) afterwards."""
    windows: list[MainWindow] = []

    def make(model: Path | None = None, service: ChatService | None = None) -> MainWindow:
        from PySide6.QtWidgets import QApplication

        apply_style(QApplication.instance())  # type: ignore[arg-type]
        paths = app_paths()
        window = MainWindow(service or ChatService(), load_settings(paths.settings_file), paths.settings_file)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        if model is not None:
            with qtbot.waitSignal(window.service.model_loaded, timeout=20_000):
                window.load_model(str(model))
        return window

    yield make
    for window in windows:
        window.close()
