"""The engine thread's python sessions: one sandboxed kernel per conversation, kept across its turns.

A session is made with the options the conversation's answer asks for (another interpreter, the
person's choice to run without network isolation); when they change, the old kernel goes and the
next call starts one with the new options. A call the sandbox cannot run comes back as a
PythonUnavailable result, a ToolResult that also says whether running without network isolation
would help, so the window can offer exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.cancel import CancelFlag
from ..core.events import ToolCall, ToolResult
from ..core.tools.python_calls import PythonCalls
from ..core.tools.python_tool import PythonSession, SandboxOptions, SandboxUnavailableError
from ..core.tools.workspace import conversation_folder


@dataclass(frozen=True)
class PythonUnavailable(ToolResult):
    """The sandbox could not start, so the call did not run (the model reads why). `network_only`: it would
    start if the person let it run without network isolation."""

    reason: str = ""
    network_only: bool = False


class SandboxedPython:
    """The loop's `python` for one conversation (engine thread): PythonCalls, telling an unavailable sandbox apart."""

    def __init__(self, session: PythonSession) -> None:
        self.session = session
        self._calls = PythonCalls(session)

    def run(self, call: ToolCall, cancel: CancelFlag) -> ToolResult:
        """Start the kernel if it is not running (it stays for the next calls), then run the call's code."""
        try:
            self.session.start()
        except SandboxUnavailableError as exc:
            text = f"Python cannot run here: {exc.reason}"
            return PythonUnavailable(
                call.recipient, "Python is unavailable", text, text, "refused", reason=exc.reason,
                network_only=exc.network_only,
            )  # fmt: skip
        return self._calls.run(call, cancel)


class PythonSessions:
    """Every conversation's session on the engine thread; `close` ends their kernels."""

    def __init__(self) -> None:
        self._sessions: dict[str, PythonSession] = {}

    def tool(self, conversation: str, options: SandboxOptions) -> SandboxedPython:
        """The python tool of `conversation` (its uid), with `options`: its session, or a new one."""
        session = self._sessions.get(conversation)
        if session is not None and session.options != options:
            session.close()  # another interpreter, or the network choice changed: a fresh kernel
            session = None
        if session is None:
            session = self._sessions[conversation] = PythonSession(conversation_folder(conversation), options)
        return SandboxedPython(session)

    def close(self) -> None:
        """End every kernel and what it started (the engine thread is ending)."""
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
