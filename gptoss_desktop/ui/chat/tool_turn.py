"""The tool part of the answer streaming now: which tools it may call, its steps shown, the person's Run or Skip.

The ChatSession hands every tool event here once the transcript has taken it; this object shows
the step where it happened, asks before python runs on "ask first" and passes the person's
choice back to the waiting turn (Stop answers it too: the engine thread treats it as Skip).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from ...core.conversation_settings import ConversationSettings
from ...core.engine import ModelInfo
from ...core.events import ToolApproval, ToolCall, ToolResult
from ...core.history.transcript import TranscriptMessage
from ...services.chat_worker import ToolChoice
from ...services.python_sessions import PythonUnavailable
from .message_widgets import AssistantTurn

ToolEvent = ToolCall | ToolApproval | ToolResult


def tool_choice(
    uid: str, settings: ConversationSettings, model: ModelInfo | None, interpreter: str | None
) -> ToolChoice | None:
    """The tools an answer may call: python unless it is off, for gpt-oss (here, or possibly on a server: the
    engine thread offers tools only to a model that speaks harmony)."""
    if settings.server is None and (model is None or not model.is_harmony):
        return None
    if settings.python == "off":
        return None
    return ToolChoice(uid, settings.python, interpreter, not settings.python_without_network_isolation)


class ToolTurn(QObject):
    """Shows the streaming answer's tool steps and asks before its code runs (GUI thread)."""

    #: The person ticked "Run without asking in this conversation" and pressed Run.
    always_run = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._decide: Callable[[bool], None] | None = None  # answers the "run this code?" asked now
        self._turn: AssistantTurn | None = None
        self._answer: TranscriptMessage | None = None

    def begin(self, turn: AssistantTurn, answer: TranscriptMessage) -> None:
        """An answer starts streaming in `turn`."""
        self._turn, self._answer, self._decide = turn, answer, None
        turn.tool_decided.connect(self._on_decided)

    def end(self) -> None:
        """The answer ended (or the conversation was left): a step still open shows how it ended."""
        turn, answer = self._turn, self._answer
        self._turn = self._answer = self._decide = None
        if turn is not None and answer is not None:
            for index, step in enumerate(answer.steps):
                turn.show_step(index, step)

    def show(self, event: ToolEvent, network_isolated: bool) -> None:
        """A tool event the transcript has taken: the step as it is now, the question, or the result."""
        turn, answer = self._turn, self._answer
        if turn is None or answer is None or not answer.steps:
            return
        turn.show_step(len(answer.steps) - 1, answer.steps[-1])
        match event:
            case ToolApproval(call=call, decide=decide):
                self._decide = decide
                turn.ask_approval(call.arguments, call.recipient, network_isolated)
            case ToolResult():
                self._decide = None
                turn.close_approval()
                turn.show_files([file for step in answer.steps for file in step.files])
                if isinstance(event, PythonUnavailable):
                    turn.show_python_unavailable(event.reason, event.network_only)
            case ToolCall():
                pass

    @Slot(bool, bool)
    def _on_decided(self, run: bool, always: bool) -> None:
        """Run or Skip; `always`: python runs without asking in this conversation from now on."""
        decide, self._decide = self._decide, None
        turn, answer = self._turn, self._answer
        if decide is None or turn is None or answer is None:
            return
        if always:
            self.always_run.emit()
        turn.close_approval()
        if run:
            turn.mark_step_running(len(answer.steps) - 1)
        decide(run)
