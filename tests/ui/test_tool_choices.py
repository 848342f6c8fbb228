"""Which tools an answer gets, in the real window: Python ask first / run / off per conversation, none for
other models, another interpreter from Preferences, running without network isolation where the system
cannot provide it (the person's choice), and what a conversation on a server says and does."""

from __future__ import annotations

import json
import sys
import venv
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.remote.profile import ServerProfile
from gptoss_desktop.ui.chat.message_widgets import AssistantTurn
from gptoss_desktop.ui.dialogs.conversation_settings import ConversationSettingsDialog
from gptoss_desktop.ui.dialogs.settings import SettingsDialog
from tests.fixtures.chat_events import is_done
from tests.fixtures.sse_server import Reply, ScriptedServer, delta

from .conftest import WindowFactory
from .test_models_and_prompts import RecordingEngine, recording_window
from .test_server_window import on_known_server
from .tool_windows import ask_and_wait, steps, tool_window

ROOT = Path(__file__).resolve().parents[2]


def system_prompt(turn_owner: Any) -> str:
    """The system and developer part of the last answer's prompt, as the model received it."""
    prompt = turn_owner.session.transcript.messages[-1].prompt
    assert prompt is not None
    return "".join(part.text for part in prompt.parts if part.role in ("system", "developer"))


def test_python_is_asked_first_by_default_and_off_declares_no_tools(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = tool_window(make_window, trained_model, [], python="ask")
    assert window.session.settings.python == "ask"
    ask_and_wait(qtbot, window, "What is 12 + 7?")  # the model calls nothing here
    assert "## python" in system_prompt(window)  # declared: the model may call it

    dialog = ConversationSettingsDialog(window.session.settings, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.python.currentText() == "Ask first" and dialog.python.isVisible()
    assert "8 tool calls" in dialog.python_note.text()  # the step limit, stated
    dialog.python.setCurrentIndex(dialog.python.findData("off"))
    window.session.update_settings(dialog.conversation_settings())
    ask_and_wait(qtbot, window, "What is 12 + 7?")
    assert "# Tools" not in system_prompt(window) and window.chat_view.turns[-1].answer.toPlainText() == "19"  # type: ignore[union-attr]


def test_a_call_to_python_when_it_is_off_is_not_run_and_says_why(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    window = tool_window(make_window, trained_model, [["open('ran.txt', 'w')"]], python="off", undeclared=True)
    turn = ask_and_wait(qtbot, window, "What is 123 * 457?")
    assert [s.title for s in steps(turn)] == ["Not run: Python is off in this conversation"]
    assert "does not offer" in turn.notice.text()


def test_another_model_gets_no_tools_and_no_python_setting(
    make_window: WindowFactory, qtbot: QtBot, smollm2_model: Path
) -> None:
    window = recording_window(make_window, smollm2_model)
    window.session.update_settings(window.session.settings.with_changes(max_tokens=8))
    assert window.session.settings.python == "ask"
    ask_and_wait(qtbot, window, "Say hello")
    assert RecordingEngine.requests[-1].conversation.tools == ()
    dialog = ConversationSettingsDialog(window.session.settings, window, reasoning_supported=False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.python.isVisible() and not dialog.unisolated.isVisible()


def other_python(tmp_path: Path) -> Path:
    """Another Python interpreter: a virtual environment of this one (its own prefix tells them apart)."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(tmp_path / "other-python")
    return tmp_path / "other-python" / "bin" / "python"


def test_preferences_choose_another_python_and_the_code_runs_in_it(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    window = tool_window(make_window, trained_model, [["import sys\nprint(sys.prefix)"]], python="run")
    interpreter = other_python(tmp_path)
    dialog = SettingsDialog(window.settings, window.services.models, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.python.path.placeholderText().startswith("The app's own Python")
    qtbot.keyClicks(dialog.python.path, str(tmp_path / "no-such-python"))
    assert dialog.python.problem.isVisible() and "There is no no-such-python there." in dialog.python.problem.text()
    dialog.python.path.clear()
    qtbot.keyClicks(dialog.python.path, str(interpreter))
    assert not dialog.python.problem.isVisible()
    window.apply_settings(dialog.settings())
    assert window.settings.python_interpreter == str(interpreter)

    turn = ask_and_wait(qtbot, window, "Which Python are you?")
    (step,) = steps(turn)
    assert step.output.toPlainText() == str(interpreter.parent.parent)  # its prefix, not the app's
    assert str(interpreter.parent.parent) != sys.prefix


WITHOUT_USER_NAMESPACES = """#!{python}
import os, sys
sys.path.insert(0, {root!r})
from tests.fixtures.no_user_namespaces import forbid_user_namespaces
forbid_user_namespaces()  # this process and what it becomes: a system that allows no user namespaces
os.execv({python!r}, [{python!r}, *sys.argv[1:]])
"""


def test_where_the_network_cannot_be_cut_off_the_window_says_why_and_the_person_may_run_it_anyway(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path, tmp_path: Path
) -> None:
    """The sandbox's kernel starts on a system without user namespaces (its interpreter installs a seccomp
    filter first): python refuses and says why; the person lets it run without network isolation."""
    interpreter = other_python(tmp_path)
    wrapper = interpreter.with_name("python-without-user-namespaces")
    wrapper.write_text(WITHOUT_USER_NAMESPACES.format(python=str(interpreter), root=str(ROOT)))
    wrapper.chmod(0o755)
    window = tool_window(make_window, trained_model, [["print(6 * 7)"], ["print(6 * 7)"]], python="run")
    window.apply_settings(window.settings.with_changes(python_interpreter=str(wrapper)))

    turn = ask_and_wait(qtbot, window, "What is 6 * 7?")
    assert [s.title for s in steps(turn)] == ["Python is unavailable"]
    assert turn.sandbox_problem.isVisible()
    assert "cannot be cut off from the network" in turn.sandbox_reason.text()
    assert "user namespace" in turn.sandbox_reason.text()
    assert turn.unisolated_button.isVisible()

    with qtbot.waitSignal(window.services.chat.event_received, check_params_cb=is_done, timeout=60_000):
        qtbot.mouseClick(turn.unisolated_button, Qt.MouseButton.LeftButton)  # and the answer is written again
    assert window.session.settings.python_without_network_isolation
    again = window.chat_view.turns[-1]
    assert isinstance(again, AssistantTurn) and again is not turn and again.versions.text == "‹ 2 / 2 ›"
    (step,) = steps(again)
    assert step.title.startswith("Ran Python") and step.output.toPlainText() == "42"

    dialog = ConversationSettingsDialog(window.session.settings, window)
    qtbot.addWidget(dialog)
    assert dialog.unisolated.isChecked()  # the choice is the conversation's, and can be taken back there


def calls_python_once(reply: Reply) -> None:
    """A gpt-oss server with OpenAI tools (vLLM, llama-server --jinja): it calls python, then answers."""
    if any(message.get("role") == "tool" for message in reply.body["messages"]):
        result = next(m["content"] for m in reply.body["messages"] if m.get("role") == "tool")
        reply.stream([delta(reasoning_content="It printed it."), delta(result), delta(finish_reason="stop")])
        return
    call = {"index": 0, "id": "call-1", "type": "function"}
    call["function"] = {"name": "python", "arguments": json.dumps({"code": "print(123 * 457)"})}
    tool_calls = {"choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": None}]}
    reply.stream([delta(reasoning_content="Compute it."), tool_calls, delta(finish_reason="tool_calls")])


def test_on_a_server_the_window_says_python_runs_here_and_it_does(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    with ScriptedServer(script=calls_python_once) as server:
        window = on_known_server(make_window, qtbot, trained_model, ServerProfile(server.url, "gpt-oss-20b"))
        window.session.update_settings(window.session.settings.with_changes(python="run"))
        banner = window.where.banner.text()
        assert "Tools: Python only" in banner and "runs here, on this computer, in the sandbox" in banner
        turn = ask_and_wait(qtbot, window, "What is 123 * 457?")
        (step,) = steps(turn)
        assert step.output.toPlainText() == "56211" and turn.answer.toPlainText() == "56211"
        assert [tool["function"]["name"] for tool in server.requests[0]["tools"]] == ["python"]
        window.session.update_settings(window.session.settings.with_changes(python="off"))
        assert "Tools: none (Python is off in Conversation Settings)." in window.where.banner.text()


def test_a_server_that_refuses_tools_is_said_to_run_without_python(
    make_window: WindowFactory, qtbot: QtBot, trained_model: Path
) -> None:
    def refuses_tools(reply: Reply) -> None:
        if "tools" in reply.body:
            reply.error(500, {"error": {"message": "tools param requires --jinja flag", "type": "server_error"}})
        else:
            reply.stream([delta("About 56,000."), delta(finish_reason="stop")])

    with ScriptedServer(script=refuses_tools) as server:
        window = on_known_server(make_window, qtbot, trained_model, ServerProfile(server.url, "gpt-oss-20b"))
        window.session.update_settings(window.session.settings.with_changes(python="ask"))
        assert "Tools: Python only" in window.where.banner.text()  # until the server says otherwise
        turn = ask_and_wait(qtbot, window, "What is 123 * 457?")
        assert turn.answer.toPlainText() == "About 56,000." and steps(turn) == []
        qtbot.waitUntil(lambda: "refused tool calls" in window.where.banner.text())
        assert "Python is not offered to its model" in window.where.banner.text()
        assert [("tools" in body) for body in server.requests] == [True, False]  # asked again without them
