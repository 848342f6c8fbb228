"""The real window with the tiny gpt-oss trained to speak harmony: everything lands where it belongs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTextEdit, QWidget
from pytestqt.qtbot import QtBot

from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from tests.fixtures.chat_events import is_done

from .conftest import WindowFactory


def visible_texts(window: QWidget) -> list[str]:
    texts = [label.text() for label in window.findChildren(QLabel) if label.isVisible()]
    texts += [edit.toPlainText() for edit in window.findChildren(QTextEdit) if edit.isVisible()]
    return texts


def test_window_puts_reasoning_and_answer_where_they_belong(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = make_window(trained_model)
    # The tiny model was trained without a `# Tools` section: this conversation offers none.
    window.session.update_settings(window.session.settings.with_changes(python="off"))
    window.composer.set_effort("high")
    qtbot.keyClicks(window.composer.edit, "What is 12 + 7?")
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=30_000) as finished:
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    assert finished.args[0].stop_reason == "return"
    turn = window.chat_view.turns[-1]
    assert isinstance(turn, AssistantTurn)
    assert "12 + 7" in turn.reasoning.reasoning() and "digit" in turn.reasoning.reasoning()
    assert turn.answer.toPlainText() == "19"
    assert turn.reasoning.toggle.text().startswith("Thought for")
    turn.reasoning.toggle.click()  # unfold: the reasoning is on screen too
    assert all("<|" not in text for text in visible_texts(window))
