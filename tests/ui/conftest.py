"""Fixtures for driving the real window with a real engine thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.settings import load_settings
from gptoss_desktop.services.app_services import AppServices
from gptoss_desktop.services.model_setup import ModelSetupService
from gptoss_desktop.ui.style import apply_style
from gptoss_desktop.ui.window.main_window import MainWindow
from tests.fixtures.windows import close_window

WindowFactory = Callable[..., MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot) -> Iterator[WindowFactory]:
    """Build main windows on the test's home; each is closed (and its thread joined) afterwards."""
    windows: list[MainWindow] = []

    def make(model: Path | None = None, services: AppServices | None = None) -> MainWindow:
        from PySide6.QtWidgets import QApplication

        apply_style(QApplication.instance())  # type: ignore[arg-type]
        paths = app_paths()
        services = services or AppServices(paths.database)
        window = MainWindow(services, load_settings(paths.settings_file), paths.settings_file)
        services.setParent(window)
        # Not qtbot.addWidget: pytest-qt would delete it before its threads have stopped; close_window waits.
        window.show()
        windows.append(window)
        if model is not None:
            with qtbot.waitSignal(window.services.chat.model_loaded, timeout=20_000):
                window.load_model(str(model))
        return window

    yield make
    for window in windows:
        close_window(qtbot, window)


@pytest.fixture
def models() -> Iterator[ModelSetupService]:
    """The app's model manager, for dialogs that borrow it; its thread is joined afterwards."""
    service = ModelSetupService()
    yield service
    assert service.shutdown(10_000)
