"""Windows whose gpt-oss calls python, for the tool tests: the real tiny model with its calls scripted
(tests/fixtures/scripted_tools.py), the real tool loop, sandbox, history and widgets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette, QTextCursor
from PySide6.QtWidgets import QTextEdit
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.conversation_settings import ConversationSettings, PythonChoice
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.services.app_services import AppServices
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from gptoss_desktop.ui.chat.tool_views import CodeView, ToolStepView
from gptoss_desktop.ui.window.main_window import MainWindow
from tests.fixtures.chat_events import is_done
from tests.fixtures.scripted_tools import CallsPython

from .conftest import WindowFactory


def tool_window(
    make_window: WindowFactory,
    model: Path,
    script: Sequence[Sequence[str]],
    python: PythonChoice = "ask",
    undeclared: bool = False,
) -> MainWindow:
    """A window on the tiny gpt-oss whose next turns call python with `script`'s code; deterministic sampling."""
    services = AppServices(app_paths().database, engine_factory=lambda path: CallsPython(path, script, undeclared))
    window = make_window(model, services)
    window.session.update_settings(ConversationSettings(temperature=0.0, seed=1, python=python))
    return window


def send(qtbot: QtBot, window: MainWindow, text: str) -> AssistantTurn:
    """Type a message and press Enter; the answer's turn (it streams on)."""
    window.composer.edit.setFocus()
    qtbot.keyClicks(window.composer.edit, text)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    return turn


def ask_and_wait(qtbot: QtBot, window: MainWindow, text: str) -> AssistantTurn:
    """Send and wait for the answer to end (python on "run": nothing to decide)."""
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=60_000):
        turn = send(qtbot, window, text)
    return turn


def steps(turn: AssistantTurn) -> list[ToolStepView]:
    return turn.reasoning.steps


def reasoning_parts(turn: AssistantTurn) -> list[str]:
    """What the reasoning area shows, top to bottom: its texts and its steps' titles (in brackets)."""
    layout = turn.reasoning.body.layout()
    assert layout is not None
    parts = []
    for index in range(layout.count()):
        item = layout.itemAt(index)
        widget = item.widget() if item is not None else None
        if isinstance(widget, ToolStepView):
            parts.append(f"[{widget.title}]")
        elif widget is not None and widget.isVisibleTo(turn.reasoning.body):
            text = widget.findChild(QTextEdit)  # a text part, in the frame that draws its bar
            assert text is not None
            parts.append(text.toPlainText())
    return parts


def coloured(view: CodeView, word: str) -> bool:
    """Whether `word` in the code is drawn in another colour than plain text (it is highlighted)."""
    start = view.code().index(word)
    cursor = QTextCursor(view.document())
    cursor.setPosition(start + 1)
    colour = cursor.charFormat().foreground().color()
    return cursor.charFormat().hasProperty(cursor.charFormat().Property.ForegroundBrush) and (
        colour != view.palette().color(QPalette.ColorRole.Text)
    )
