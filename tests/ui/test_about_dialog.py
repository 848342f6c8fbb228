"""Help ▸ About in the real window: the version from the package metadata and the licences of what ships."""

from __future__ import annotations

from importlib.metadata import version

from PySide6.QtWidgets import QDialogButtonBox, QTableWidget
from pytestqt.qtbot import QtBot

from gptoss_desktop.ui.dialogs.about import AboutDialog, app_icon

from .conftest import WindowFactory


def open_about(window, qtbot: QtBot) -> AboutDialog:  # type: ignore[no-untyped-def]
    """Pick Help ▸ About gptoss-desktop from the menu bar, as a person would."""
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    entry = next(a for a in help_menu.actions() if a.text() == "&About gptoss-desktop")
    entry.trigger()
    qtbot.waitUntil(lambda: window.findChild(AboutDialog) is not None and window.findChild(AboutDialog).isVisible())
    return window.findChild(AboutDialog)  # type: ignore[no-any-return]


def cell_texts(table: QTableWidget) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_about_shows_the_installed_version_and_the_bundled_licences(make_window: WindowFactory, qtbot: QtBot) -> None:
    window = make_window()
    dialog = open_about(window, qtbot)
    assert dialog.windowTitle() == "About gptoss-desktop"
    assert dialog.version.isVisible()
    assert dialog.version.text() == f"Version {version('gptoss-desktop')}"
    assert "0.0.0+source" not in dialog.version.text()

    rows = {row[0]: row for row in cell_texts(dialog.components)}
    assert rows["Qt for Python (PySide6)"][2] == "LGPL-3.0"
    assert rows["Qt for Python (PySide6)"][1].startswith(version("PySide6-Essentials") + " (Qt 6.")
    assert rows["llama.cpp (llama-cpp-python)"][1:] == [version("llama-cpp-python"), "MIT"]
    assert rows["gpt-oss weights"][1:] == ["separate download", "Apache-2.0"]
    assert rows["Pygments"][2] == "BSD-2-Clause"
    assert rows["PDFium"][1:] == ["inside pypdfium2", "BSD-3-Clause / Apache-2.0"]
    assert {"python-docx", "lxml", "charset-normalizer", "pypdfium2"} <= rows.keys()
    assert [tuple(row) for row in cell_texts(dialog.components)] == dialog.rows()
    assert all(row[1] != "unknown" for row in rows.values()), "every installed component's version is read"
    # The table is on screen and readable, not clipped to nothing.
    assert dialog.components.isVisible() and dialog.components.viewport().height() > 100


def test_about_opens_once_and_closes_with_its_button(make_window: WindowFactory, qtbot: QtBot) -> None:
    window = make_window()
    first = open_about(window, qtbot)
    assert open_about(window, qtbot) is first, "a second click raises the open dialog"
    buttons = first.findChild(QDialogButtonBox)
    buttons.button(QDialogButtonBox.StandardButton.Close).click()
    qtbot.waitUntil(lambda: window.findChild(AboutDialog) is None)


def test_the_app_icon_is_found_at_every_size(qapp: object) -> None:
    sizes = {(s.width(), s.height()) for s in app_icon().availableSizes()}
    assert {(16, 16), (32, 32), (48, 48), (256, 256), (512, 512)} <= sizes
