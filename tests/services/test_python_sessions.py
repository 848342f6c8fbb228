"""The engine thread's python sessions: one per conversation, kept across its turns, started again when the
options its answers ask for change (real sandbox kernels)."""

from __future__ import annotations

import os

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.events import ToolCall
from gptoss_desktop.services.chat_worker import ToolChoice
from gptoss_desktop.services.python_sessions import PythonSessions, PythonUnavailable
from tests.fixtures.processes import sandbox_processes


def call(code: str) -> ToolCall:
    return ToolCall("python", "analysis", "code", code, declared=True)


def test_a_conversation_keeps_its_state_until_its_options_change() -> None:
    sessions = PythonSessions()
    try:
        choice = ToolChoice("c1", "run")
        sessions.tool("c1", choice.sandbox_options()).run(call("x = 41"), CancelFlag())
        kept = sessions.tool("c1", choice.sandbox_options()).run(call("print(x + 1)"), CancelFlag())
        assert kept.output == "42"  # the same kernel: a notebook, as the model was trained
        other = sessions.tool("c2", choice.sandbox_options()).run(call("print('x' in dir())"), CancelFlag())
        assert other.output == "False"  # another conversation, another kernel
        unisolated = ToolChoice("c1", "run", network_isolation=False).sandbox_options()
        assert not unisolated.require_network_isolation
        fresh = sessions.tool("c1", unisolated).run(call("print('x' in dir())"), CancelFlag())
        assert fresh.output == "False"  # the person's new choice starts a new kernel
    finally:
        sessions.close()
    assert sandbox_processes(os.getpid()) == []


def test_another_interpreter_that_cannot_start_is_said_and_offers_nothing_else() -> None:
    sessions = PythonSessions()
    try:
        options = ToolChoice("c1", "run", interpreter="/nonexistent/python3").sandbox_options()
        result = sessions.tool("c1", options).run(call("print(1)"), CancelFlag())
    finally:
        sessions.close()
    assert result.status == "refused" and result.summary == "Python is unavailable"
    assert result.model_text.startswith("Python cannot run here: the Python kernel could not be started")
    assert isinstance(result, PythonUnavailable) and not result.network_only  # running unisolated would not help
