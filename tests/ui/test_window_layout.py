"""The window's layout as a person meets it: 800x600, 200 % text, the source pane open, the divider dragged,
and a window that never opens larger than the screen and comes back where it was."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.documents.prompting import Source
from gptoss_desktop.core.settings import Settings
from gptoss_desktop.ui.chat.composer import MIN_LINE_CHARS
from gptoss_desktop.ui.style import apply_appearance, system_font_size
from gptoss_desktop.ui.window.main_window import MainWindow
from tests.fixtures.windows import close_window

from .conftest import WindowFactory
from .test_conversations import ask, exact_window

CONTROLS = (QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit)


@pytest.fixture(params=[1, 2], ids=["100 % text", "200 % text"])
def text_size(request: pytest.FixtureRequest) -> Iterator[int]:
    """The text size the window is shown at (Preferences ▸ Font size), put back afterwards."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_appearance(app, Settings(font_size=request.param * system_font_size()))
    yield request.param
    apply_appearance(app, Settings())


def line_room(window: MainWindow) -> int:
    """How many characters a line of the message box holds now."""
    edit = window.composer.edit
    width = edit.viewport().width() - 2 * int(edit.document().documentMargin())
    return width // edit.fontMetrics().horizontalAdvance("x")


def misplaced(window: MainWindow) -> list[str]:
    """Controls a person can see that stick out of the window or are squeezed below their own minimum."""
    bounds = window.rect()
    out = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or not widget.isVisible() or widget.width() == 0:
            continue
        if window.chat_view.isAncestorOf(widget) or window.first_run.isAncestorOf(widget):
            continue  # these scroll: their buttons may be out of view, not out of the window
        place = QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())
        name = f"{type(widget).__name__} {widget.accessibleName() or widget.objectName()!r}"
        if not bounds.contains(place):
            out.append(f"{name} at {place} outside {bounds}")
        elif widget.width() < widget.minimumSizeHint().width():
            out.append(f"{name} squeezed to {widget.width()} of {widget.minimumSizeHint().width()}")
    return out


def settle(qtbot: QtBot, window: MainWindow, width: int, height: int) -> None:
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.width() == width and window.height() == height)
    qtbot.waitUntil(lambda: not misplaced(window) and line_room(window) >= MIN_LINE_CHARS, timeout=3_000)


def test_at_800x600_the_message_box_keeps_its_room_and_every_control_shows(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, text_size: int
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    with contextlib.suppress(qtbot.TimeoutError):
        settle(qtbot, window, 800, 600)
    assert misplaced(window) == []
    assert line_room(window) >= MIN_LINE_CHARS
    assert window.composer.button.isVisible() and window.composer.effort.isVisible()
    if text_size == 2:  # no room for the list beside a 40-character box: it folded away, and says so
        assert not window.sidebar.isVisible()
    else:
        assert window.sidebar.isVisible()

    # The message box grows with what is typed, up to a limit, and never past the window.
    short = window.composer.edit.height()
    window.composer.edit.setPlainText("\n".join(f"line {n}" for n in range(30)))
    qtbot.waitUntil(lambda: window.composer.edit.height() > short)
    assert window.composer.edit.height() <= window.height() // 4
    qtbot.waitUntil(lambda: not misplaced(window), timeout=2_000)  # once the window has laid itself out again


def test_an_opened_source_and_a_dragged_divider_never_squeeze_the_message_box(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, text_size: int
) -> None:
    window = exact_window(make_window, trained_model)
    ask(qtbot, window, "What is 12 + 7?")
    window.resize(800, 600)
    qtbot.waitUntil(lambda: window.width() == 800)
    source = Source(1, "doc", "lease.md", 0, "lines 1-2", "The rent is 900 euros.")
    window.source_viewer.show_passage(source, "The rent is 900 euros a month.\nIt is paid on the first.")
    window.panes.open_source()
    qtbot.waitUntil(lambda: window.source_viewer.width() > 100)
    with contextlib.suppress(qtbot.TimeoutError):
        qtbot.waitUntil(lambda: not misplaced(window), timeout=2_000)
    assert line_room(window) >= MIN_LINE_CHARS and misplaced(window) == [], (window.splitter.sizes(), misplaced(window))
    runs_on = window.where.combo  # a dropdown squeezed by the pane says less, and shows that it does
    assert runs_on.width() < runs_on.sizeHint().width()
    assert runs_on.shown_text().startswith("This") and runs_on.shown_text().endswith("…")
    # The dividers dragged as far as they go: the conversation holds its ground, no pane is squeezed.
    for index, position in ((2, 0), (2, window.splitter.width()), (1, window.splitter.width())):
        window.splitter.moveSplitter(position, index)
        assert line_room(window) >= MIN_LINE_CHARS and misplaced(window) == [], (index, position, misplaced(window))
    window.source_viewer.close_button.click()
    if text_size == 1:
        qtbot.waitUntil(window.sidebar.isVisible)  # the list comes back once the pane is closed


def test_the_window_opens_no_larger_than_the_screen_and_where_it_was(make_window: WindowFactory, qtbot: QtBot) -> None:
    window = make_window()
    free = window.screen().availableGeometry()
    assert window.width() <= free.width() and window.height() <= free.height()
    window.resize(700, 500)
    qtbot.waitUntil(lambda: window.size().width() == 700)
    close_window(qtbot, window)
    again = make_window()
    assert (again.width(), again.height()) == (700, 500)


def test_twice_the_text_size_in_a_small_window_still_opens_within_the_screen(
    make_window: WindowFactory, qtbot: QtBot, text_size: int
) -> None:
    """The first-run screen wraps and scrolls: it never makes the window wider than the screen."""
    window = make_window()
    free = window.screen().availableGeometry()
    assert window.minimumSizeHint().width() <= 800 and window.minimumSizeHint().height() <= 600
    assert window.width() <= free.width()
    qtbot.waitUntil(lambda: not misplaced(window), timeout=3_000)
