"""gpt-oss runs Python in the real window: the person's Run or Skip, the steps in the reasoning area in
order, Stop while it waits or runs, the files its code wrote, and all of it after a restart.

The model's calls are scripted (tests/fixtures/scripted_tools.py), so every path can be reached (the model
trained to call python runs unscripted in test_tools_model_window.py); everything else is real: the tool
loop, the sandbox, SQLite, the widgets.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.history.store import Store
from gptoss_desktop.core.paths import app_paths
from gptoss_desktop.core.tools.workspace import conversation_folder
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from tests.fixtures.chat_events import is_done
from tests.fixtures.processes import sandbox_processes
from tests.fixtures.scripted_tools import BEFORE_CALL
from tests.fixtures.windows import close_window

from .conftest import WindowFactory
from .test_conversations import listed, row_of
from .tool_windows import ask_and_wait, coloured, reasoning_parts, send, steps, tool_window

QUESTION = "What is 123 * 457?"
CODE = "x = 123 * 457\nprint(x)"


def test_ask_first_shows_the_code_and_run_runs_it_in_the_sandbox(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = tool_window(make_window, trained_model, [[CODE]])  # Python: ask first, the default
    turn = send(qtbot, window, QUESTION)
    qtbot.waitUntil(lambda: turn.approval is not None and turn.approval.isVisible(), timeout=30_000)
    approval = turn.approval
    assert approval is not None
    assert approval.code.code() == CODE and coloured(approval.code, "print")  # the code, highlighted
    assert approval.run_button.isVisible() and approval.skip_button.isVisible()
    (step,) = steps(turn)
    assert step.title == "Python: waiting for your Run or Skip" and step.code.code() == CODE
    assert window.services.chat.busy  # the answer waits for the person

    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=60_000):
        qtbot.mouseClick(approval.run_button, Qt.MouseButton.LeftButton)
    assert turn.approval is None
    assert step.title.startswith("Ran Python · ") and step.title.endswith(" s")
    assert step.output.toPlainText() == "56211" and step.output.isVisibleTo(step)
    assert not step.stop_button.isVisibleTo(step)
    parts = reasoning_parts(turn)
    assert parts[:2] == [BEFORE_CALL, f"[{step.title}]"]  # the step where it happened: after the reasoning before it
    assert turn.reasoning.toggle.text().endswith(" · 1 tool call")  # "Thought for … · N tokens · 1 tool call"
    assert not turn.reasoning.body.isVisible()  # folded once the answer is done
    assert all("<|" not in part for part in parts) and "<|" not in turn.answer.toPlainText()


def test_skip_runs_nothing_and_the_model_is_told(make_window: WindowFactory, qtbot: QtBot, trained_model: Path) -> None:
    window = tool_window(make_window, trained_model, [["open('ran.txt', 'w').write('it ran')"]])
    turn = send(qtbot, window, QUESTION)
    qtbot.waitUntil(lambda: turn.approval is not None, timeout=30_000)
    assert turn.approval is not None
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=60_000):
        qtbot.mouseClick(turn.approval.skip_button, Qt.MouseButton.LeftButton)
    (step,) = steps(turn)
    assert step.title == "Not run: declined" and turn.approval is None
    assert not (conversation_folder(window.session.uid) / "ran.txt").exists()
    answer = window.session.transcript.messages[-1]
    assert answer.steps[0].model_text == "The person declined to run this."


def test_run_without_asking_again_switches_the_conversation_to_run(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = tool_window(make_window, trained_model, [["print(1)"], ["print(2)"]])
    turn = send(qtbot, window, QUESTION)
    qtbot.waitUntil(lambda: turn.approval is not None, timeout=30_000)
    assert turn.approval is not None
    turn.approval.always.setChecked(True)
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=60_000):
        qtbot.mouseClick(turn.approval.run_button, Qt.MouseButton.LeftButton)
    assert window.session.settings.python == "run"
    second = ask_and_wait(qtbot, window, "And again?")  # no question this time
    assert second.approval is None and [s.output.toPlainText() for s in steps(second)] == ["2"]


def test_stop_while_the_window_asks_ends_the_answer_and_runs_nothing(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = tool_window(make_window, trained_model, [["open('ran.txt', 'w').write('it ran')"]])
    turn = send(qtbot, window, QUESTION)
    qtbot.waitUntil(lambda: turn.approval is not None, timeout=30_000)
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=10_000) as done:
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Escape)  # Esc stops, as Stop does
    assert done.args[0].stop_reason == "cancelled"
    assert turn.approval is None and [s.title for s in steps(turn)] == ["Stopped"]
    assert turn.notice.text() == "Stopped."
    assert not (conversation_folder(window.session.uid) / "ran.txt").exists()


def test_a_running_step_says_so_and_its_stop_stops_the_code_and_the_answer(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    endless = "import time\nprint('started', flush=True)\nwhile True:\n    time.sleep(0.05)"
    window = tool_window(make_window, trained_model, [[endless]], python="run")
    turn = send(qtbot, window, QUESTION)
    qtbot.waitUntil(lambda: bool(steps(turn)) and steps(turn)[0].stop_button.isVisible(), timeout=30_000)
    (step,) = steps(turn)
    assert step.title.startswith("Running Python…") and step.code.code() == endless
    qtbot.waitUntil(lambda: step.title.startswith("Running Python… 1 s"), timeout=5_000)  # it counts the seconds
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=10_000) as done:
        qtbot.mouseClick(step.stop_button, Qt.MouseButton.LeftButton)
    assert done.args[0].stop_reason == "cancelled" and turn.notice.text() == "Stopped."
    assert step.title.startswith("Python stopped · ") and not step.stop_button.isVisibleTo(step)
    assert "started" in step.output.toPlainText()
    close_window(qtbot, window)
    assert sandbox_processes(os.getpid()) == []  # the kernel went with the app


class Opened(QObject):
    """Stands in for the system's handler of file URLs (the desktop would open the file in its app)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_files_the_code_wrote_are_listed_under_the_answer_and_open(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    code = "with open('table.csv', 'w') as f:\n    f.write('a,b\\n1,2\\n')"
    window = tool_window(make_window, trained_model, [[code]], python="run")
    turn = ask_and_wait(qtbot, window, "Write me a table")
    written = conversation_folder(window.session.uid) / "table.csv"
    assert written.read_text() == "a,b\n1,2\n"
    assert turn.files.isVisible() and "table.csv" in turn.files.text() and "(8 bytes)" in turn.files.text()
    opened = Opened()
    QDesktopServices.setUrlHandler("file", opened, "open")
    try:
        turn.files.setFocus(Qt.FocusReason.TabFocusReason)  # Tab reaches the link, Enter opens it
        qtbot.keyClick(turn.files, Qt.Key.Key_Tab)
        qtbot.keyClick(turn.files, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(opened.urls))
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [url.toLocalFile() for url in opened.urls] == [str(written)]


def test_the_steps_come_back_after_a_restart_exactly_as_they_were_shown(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    two_calls = ["x = 6 * 7\nprint(x)", "open('x.txt', 'w').write(str(x + 1))\nx + 1"]  # the session keeps x
    window = tool_window(make_window, trained_model, [two_calls], python="run")
    turn = ask_and_wait(qtbot, window, "Six times seven, plus one?")
    assert [s.output.toPlainText() for s in steps(turn)] == ["42", "43"]
    summary, parts, answer = turn.reasoning.toggle.text(), reasoning_parts(turn), turn.answer.toPlainText()
    assert summary.endswith(" · 2 tool calls") and parts[:4] == [
        BEFORE_CALL, f"[{steps(turn)[0].title}]", "Once more. ", f"[{steps(turn)[1].title}]"
    ]  # fmt: skip
    files = turn.files.text()
    qtbot.waitUntil(lambda: listed(window) == ["Six times seven, plus one?"])
    close_window(qtbot, window)

    again = tool_window(make_window, trained_model, [], python="off")
    qtbot.waitUntil(lambda: listed(again) == ["Six times seven, plus one?"])
    row = again.sidebar.list.item(row_of(again, "Six times seven, plus one?"))
    again.session.open(row.data(Qt.ItemDataRole.UserRole))
    qtbot.waitUntil(lambda: len(again.chat_view.turns) == 2 and all(t.isVisible() for t in again.chat_view.turns))
    reopened = again.chat_view.turns[-1]
    assert isinstance(reopened, AssistantTurn)
    assert reopened.reasoning.toggle.text() == summary and reasoning_parts(reopened) == parts
    assert reopened.answer.toPlainText() == answer and reopened.files.text() == files
    assert [(s.code.code(), s.output.toPlainText()) for s in steps(reopened)] == [
        (two_calls[0], "42"), (two_calls[1], "43")
    ]  # fmt: skip
    assert not any(s.expanded for s in steps(reopened))  # each folded to its line
    reopened.reasoning.toggle.click()  # unfold the reasoning: the steps' lines show, not their code
    second = steps(reopened)[1]
    assert second.toggle.isVisible() and not second.code.isVisible()
    second.toggle.click()
    assert second.code.isVisible() and second.output.isVisible()
    second.toggle.click()
    assert not second.output.isVisible()

    # The next answer's prompt leaves the steps out: analysis of a finished turn is dropped.
    with qtbot.waitSignal(again.services.chat.event_received, check_params_cb=is_done, timeout=60_000):
        send(qtbot, again, "Thanks")
    prompt = again.session.transcript.messages[-1].prompt
    assert prompt is not None and "to=python" not in "".join(p.text for p in prompt.parts)
    assert two_calls[0] not in "".join(p.text for p in prompt.parts)


def test_steps_are_written_while_the_answer_streams(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    """A crash after a call loses none of it: the step is in the database before the answer ends."""
    window = tool_window(make_window, trained_model, [[CODE]])
    turn = send(qtbot, window, QUESTION)
    qtbot.waitUntil(lambda: turn.approval is not None, timeout=30_000)

    def stored_steps() -> list[str]:
        store = Store(app_paths().database, recover=False)
        try:
            return [s.arguments for c in store.conversations() for m in store.messages(c.id) for s in m.tool_steps]
        finally:
            store.close()

    qtbot.waitUntil(lambda: stored_steps() == [CODE], timeout=5_000)
    assert turn.approval is not None
    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=60_000):
        qtbot.mouseClick(turn.approval.skip_button, Qt.MouseButton.LeftButton)
