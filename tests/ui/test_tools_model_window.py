"""The real window with a tiny gpt-oss that really calls python: nothing scripted.

The model (tests/fixtures/gpt-oss-tiny-tools.gguf) writes its analysis, calls python with the
expression of the question, and answers with the value the sandbox computed. The engine thread,
the tool loop, the sandbox, the history and the widgets are the app's own.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.conversation_settings import ConversationSettings, PythonChoice
from gptoss_desktop.ui.window.main_window import MainWindow
from tests.fixtures.chat_events import is_done
from tests.fixtures.processes import sandbox_processes
from tests.fixtures.windows import close_window

from .conftest import WindowFactory
from .tool_windows import reasoning_parts, send, steps

TOOLS_MODEL = Path(__file__).parents[1] / "fixtures" / "gpt-oss-tiny-tools.gguf"
#: About 2.5 s of Python, time to press Stop (the model copies operands of up to 5 digits reliably; these 6 too).
SLOW_QUESTION, SLOW_CODE = "What is 981134 ** 926995?", "981134 ** 926995"


def window_on_tools_model(make_window: WindowFactory, python: PythonChoice) -> MainWindow:
    window = make_window(TOOLS_MODEL)
    window.session.update_settings(ConversationSettings(temperature=0.0, seed=1, python=python))
    return window


def test_the_model_calls_python_the_sandbox_computes_and_the_answer_is_right(
    make_window: WindowFactory, qtbot: QtBot
) -> None:
    window = window_on_tools_model(make_window, "ask")
    turn = send(qtbot, window, "What is 123 * 457?")
    qtbot.waitUntil(lambda: turn.approval is not None and turn.approval.isVisible(), timeout=30_000)
    assert turn.approval is not None and turn.approval.code.code() == "123 * 457"  # the model's own code
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=60_000) as done:
        qtbot.mouseClick(turn.approval.run_button, Qt.MouseButton.LeftButton)
    assert done.args[0].stop_reason == "return"
    (step,) = steps(turn)
    assert step.title.startswith("Ran Python · ") and step.code.code() == "123 * 457"
    assert step.output.toPlainText() == "56211"
    assert turn.answer.toPlainText() == "56211"
    parts = reasoning_parts(turn)
    assert "product" in parts[0] and parts[1] == f"[{step.title}]"  # its reasoning, then the step
    assert turn.reasoning.toggle.text().endswith(" · 1 tool call")
    assert all("<|" not in part for part in parts)
    stored = window.session.transcript.messages[-1]
    assert stored.content == "56211" and [s.arguments for s in stored.steps] == ["123 * 457"]
    close_window(qtbot, window)
    assert sandbox_processes(os.getpid()) == []  # the kernel went with the window


def test_stop_while_the_models_code_runs_stops_it_and_leaves_nothing_running(
    make_window: WindowFactory, qtbot: QtBot
) -> None:
    window = window_on_tools_model(make_window, "run")
    turn = send(qtbot, window, SLOW_QUESTION)
    qtbot.waitUntil(lambda: bool(steps(turn)) and steps(turn)[0].stop_button.isVisible(), timeout=30_000)
    (step,) = steps(turn)
    assert step.title.startswith("Running Python…") and step.code.code() == SLOW_CODE
    # Stop at once: the conversation's first sandbox may still be starting, and the code is stopped all the same.
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=10_000) as done:
        qtbot.mouseClick(step.stop_button, Qt.MouseButton.LeftButton)
    assert done.args[0].stop_reason == "cancelled" and turn.notice.text() == "Stopped."
    assert step.title.startswith("Python stopped · ") and not step.stop_button.isVisibleTo(step)
    assert turn.answer.toPlainText() == ""
    assert "KeyboardInterrupt" in step.output.toPlainText() or "Stopped before it ran." in step.output.toPlainText()
    close_window(qtbot, window)
    assert sandbox_processes(os.getpid()) == []
