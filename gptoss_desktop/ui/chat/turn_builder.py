"""The widgets of a transcript's messages: built, wired and kept in step with the branch shown.

A long conversation opens at its end at once; older turns are built one per idle step, so the
window keeps answering. The turns' requests (edit, flip a version, regenerate, show the prompt,
open a source) come out as signals naming the message, for the ChatSession to act on.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal, Slot

from ...core.documents.prompting import Source
from ...core.history.transcript import Transcript, TranscriptMessage
from ...core.tools.loop import DEFAULT_STEP_LIMIT
from .chat_view import ChatView
from .message_widgets import AssistantTurn, UserMessage

STOP_NOTICES = {
    "cancelled": "Stopped.",
    "length": "The reply reached the token limit and was cut short.",
    "call": "The model asked to call a tool this conversation does not offer, and stopped there.",
    "tool_limit": f"The answer used its {DEFAULT_STEP_LIMIT} tool calls and was told to answer; it called again and "
    "was stopped there.",
}
STORED_NOTICES = {
    "stopped": "Stopped.",
    "interrupted": "The app closed before this answer was finished; this is what had been written.",
}
#: Messages built before the first paint when a conversation opens (the newest exchange); older ones
#: follow, newest first, a few at a time between paints, so the window answers input all along.
FIRST_MESSAGES = 2


def stored_notice(message: TranscriptMessage) -> str:
    """What an answer that did not simply finish says under it once reopened."""
    if message.state == "error":
        return message.ending or "This answer failed."
    return STORED_NOTICES.get(message.state, "") or STOP_NOTICES.get(message.ending, "")


class TurnBuilder(QObject):
    """Builds the ChatView's turns from a Transcript (GUI thread)."""

    edit_requested = Signal(UserMessage)
    version_requested = Signal(str, int)  # message uid, -1 / +1
    prompt_requested = Signal(str)  # answer uid
    regenerate_requested = Signal()
    source_requested = Signal(Source)
    citation_requested = Signal(object)  # Citation: a browsed answer's verified citation was clicked

    def __init__(self, view: ChatView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.transcript = Transcript()
        self._unbuilt = 0  # transcript messages [0, _unbuilt) have no widget yet (older ones, built on idle)
        self._loader = QTimer(self)
        self._loader.setInterval(0)
        self._loader.timeout.connect(self._load_older)

    @property
    def loading(self) -> bool:
        """True while older turns of an opened conversation are still being added."""
        return self._loader.isActive()

    def stop(self) -> None:
        """Leave the older turns unbuilt (the conversation is left)."""
        self._loader.stop()

    def show_all(self, transcript: Transcript, keep: int | None = None) -> None:
        """Show `transcript` from scratch: its newest turns now, older ones on idle steps; message `keep` (an
        index) is built at once too."""
        self._loader.stop()
        self.transcript = transcript
        self.view.clear()
        shown = transcript.messages
        first = len(shown) - FIRST_MESSAGES
        if keep is not None:
            first = min(first, keep)
        self._unbuilt = max(first, 0)
        for message in shown[self._unbuilt :]:
            self.add(message)
        self.mark_last_answer()
        if self._unbuilt:
            self._loader.start()

    def rebuild_from(self, index: int) -> None:
        """The branch changed from message `index` on (a version was flipped): its turns are built again."""
        offset = max(index - self._unbuilt, 0)
        if offset < len(self.view.turns):
            self.view.remove_from(offset)
        for message in self.transcript.messages[max(index, self._unbuilt) :]:
            self.add(message)
        self.mark_last_answer()

    def widget_of(self, uid: str) -> UserMessage | AssistantTurn | None:
        """The turn showing message `uid`, if it is built."""
        return next((turn for turn in self.view.turns if turn.uid == uid), None)

    def add(self, message: TranscriptMessage, at_top: bool = False) -> None:
        """The widget for a message that is not streaming."""
        if message.role == "user":
            user = self.view.add_user_message(message.content, uid=message.uid, at_top=at_top)
            user.edit_requested.connect(self._on_edit_requested)
            user.version_requested.connect(self._on_version_requested)
            user.show_version(*self.transcript.version_of(message.uid))
            return
        turn = self.view.add_assistant_turn(
            show_reasoning=bool(message.reasoning or message.steps),
            uid=message.uid,
            expand_reasoning=False,
            at_top=at_top,
        )
        self.connect_turn(turn)
        turn.set_regenerate_visible(False)
        turn.show_version(*self.transcript.version_of(message.uid))
        turn.show_stored(message, stored_notice(message))

    def add_streaming(self, answer: TranscriptMessage, shows_reasoning: bool, expand_reasoning: bool) -> AssistantTurn:
        """The widget of an answer that starts streaming now, under the last turn."""
        for turn in self.view.turns:
            if isinstance(turn, AssistantTurn):
                turn.set_regenerate_visible(False)
        turn = self.view.add_assistant_turn(
            show_reasoning=shows_reasoning, uid=answer.uid, expand_reasoning=expand_reasoning
        )
        self.connect_turn(turn)
        turn.show_version(*self.transcript.version_of(answer.uid))
        return turn

    def connect_turn(self, turn: AssistantTurn) -> None:
        """Wire an answer's buttons and links."""
        turn.regenerate_requested.connect(self.regenerate_requested)
        turn.source_requested.connect(self.source_requested)
        turn.citation_requested.connect(self.citation_requested)
        turn.version_requested.connect(self._on_version_requested)
        turn.prompt_requested.connect(self._on_prompt_requested)

    def mark_last_answer(self) -> None:
        """Regenerate is offered under the last answer only."""
        last = self.transcript.last_answer
        for turn in self.view.turns:
            if isinstance(turn, AssistantTurn):
                turn.set_regenerate_visible(last is not None and turn.uid == last.uid)

    def unfold_if_found_in_reasoning(self, uid: str, matched: str) -> None:
        """A search hit whose words are in the answer's reasoning, not in its text: unfold the reasoning."""
        widget, message = self.widget_of(uid), self.transcript.find(uid)
        words = [word.casefold() for word in matched.split()]
        if not isinstance(widget, AssistantTurn) or message is None or not words:
            return
        content, reasoning = message.content.casefold(), message.reasoning.casefold()
        if not all(word in content for word in words) and any(word in reasoning for word in words):
            widget.reasoning.set_expanded(True)

    @Slot()
    def _load_older(self) -> None:
        """One idle step: show the message the last step built, or build the next older one.

        Building a stored answer (Markdown, highlighting) and showing it (style, layout) each
        cost 5-15 ms here; one per step, with its layout done inside the step rather than
        merged into the next one, keeps every pause short while a long conversation loads.
        """
        if self.view.reveal_older():
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        elif self._unbuilt:
            self._unbuilt -= 1
            self.add(self.transcript.messages[self._unbuilt], at_top=True)
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if not self._unbuilt and not self.view.has_hidden():
            self._loader.stop()

    @Slot()
    def _on_edit_requested(self) -> None:
        sender = self.sender()
        if isinstance(sender, UserMessage):
            self.edit_requested.emit(sender)

    @Slot(int)
    def _on_version_requested(self, step: int) -> None:
        sender = self.sender()
        if isinstance(sender, UserMessage | AssistantTurn):
            self.version_requested.emit(sender.uid, step)

    @Slot()
    def _on_prompt_requested(self) -> None:
        sender = self.sender()
        if isinstance(sender, AssistantTurn):
            self.prompt_requested.emit(sender.uid)
