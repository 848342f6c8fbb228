"""The conversation in the window: its turns, settings and requests, kept in step with the history.

The widgets in the ChatView are the turns; the prompt is rebuilt from them for
every request, so what the model gets is exactly what the person sees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import cast

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal, Slot

from ...core.conversation_settings import ConversationSettings
from ...core.engine import ChatRequest
from ...core.events import Done
from ...core.harmony import Conversation, Effort, Message
from ...core.history.store import State, StoredConversation, StoredMessage, new_uid
from ...core.history.titles import title_from
from ...services.chat_service import ChatService
from ...services.chat_worker import DocumentsRef
from ...services.history_service import HistoryService
from .chat_view import ChatView
from .message_widgets import AssistantTurn, UserMessage

STOP_NOTICES = {
    "cancelled": "Stopped.",
    "length": "The reply reached the token limit and was cut short.",
    "call": "The model asked to call a tool; tools are not available in this app yet.",
}
STORED_NOTICES = {
    "stopped": "Stopped.",
    "interrupted": "The app closed before this answer was finished; this is what had been written.",
    "error": "This answer failed.",
}
#: Under an answer on a server that was not given the conversation's documents.
WITHOUT_DOCUMENTS = "Answered without the documents: they were not sent to the server."
#: Messages built before the first paint when a conversation opens (the newest exchange); older ones
#: follow, newest first, a few at a time between paints, so the window answers input all along.
FIRST_MESSAGES = 2


class ChatSession(QObject):
    """One conversation at a time: send, stop, regenerate, edit and resend, open from history."""

    opened = Signal(str)  # conversation uid ("" for a new, unsaved one)
    settings_changed = Signal(object)  # ConversationSettings
    context_notice = Signal(str)

    def __init__(
        self, chat: ChatService, history: HistoryService, view: ChatView, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.chat = chat
        self.history = history
        self.view = view
        self.uid = ""
        self.settings = ConversationSettings()
        self.show_reasoning_by_default = True
        #: The history database, where the documents of a conversation are found (None: no documents).
        self.documents_database: Path | None = None
        #: Whether this conversation has documents that can be asked about (the window keeps it current).
        self.has_documents = False
        #: Asked before documents first go to the conversation's server: True send them, False answer
        #: without them this time, None send nothing. Without it, documents never go to a server.
        self.documents_consent: Callable[[], bool | None] | None = None
        self._turn: AssistantTurn | None = None
        self._pending: list[StoredMessage] = []
        self._scroll_target = ""
        self._loader = QTimer(self)
        self._loader.setInterval(0)
        self._loader.timeout.connect(self._load_older)
        chat.reasoning_received.connect(self._on_reasoning)
        chat.answer_received.connect(self._on_answer)
        chat.generation_finished.connect(self._on_finished)
        chat.generation_failed.connect(self._on_failed)
        chat.context_trimmed.connect(self._on_context_trimmed)
        chat.documents_used.connect(self._on_documents_used)
        chat.sources_cited.connect(self._on_sources_cited)
        history.conversation_loaded.connect(self._show_stored)

    # --- conversations -------------------------------------------------------------------

    def new(self, settings: ConversationSettings) -> None:
        """An empty conversation; it is stored when the first message is sent."""
        self._end_streaming()
        self._loader.stop()
        self.uid = ""
        self.has_documents = False
        self.settings = settings
        self.view.clear()
        self.settings_changed.emit(settings)
        self.opened.emit("")

    def open(self, uid: str, message_uid: str = "") -> None:
        """Show a stored conversation (scrolled to `message_uid` if given)."""
        self._scroll_target = message_uid
        if uid == self.uid and not message_uid:
            return
        self._end_streaming()
        self.history.load(uid)

    def update_settings(self, settings: ConversationSettings) -> None:
        """The person changed this conversation's settings (stored once the conversation is)."""
        self.settings = settings
        if self.uid:
            self.history.set_settings(self.uid, settings.to_json())
        self.settings_changed.emit(settings)

    # --- turns -----------------------------------------------------------------------------

    @property
    def can_answer(self) -> bool:
        """True when something can answer this conversation: its server, or the loaded model."""
        return self.settings.server is not None or self.chat.model_info is not None

    def send(self, text: str, effort: str, replacing: UserMessage | None = None) -> bool:
        """Send a message; `replacing` is an earlier message being edited (it and what follows go).
        False when nothing was sent (no model, busy, or the person cancelled sending documents)."""
        if not self.can_answer or self.chat.busy:
            return False
        with_documents = self._documents_may_go()
        if with_documents is None:
            return False
        if replacing is not None and replacing in self.view.turns:
            self._drop_from(self.view.turns.index(replacing))
        if effort != self.settings.effort:
            self.update_settings(replace(self.settings, effort=cast(Effort, effort)))
        self.ensure_saved(title_from(text))
        user = self.view.add_user_message(text, uid=new_uid())
        user.edit_requested.connect(self._on_edit_requested)
        self.history.add_user_message(self.uid, user.uid, text)
        self._answer(cast(Effort, effort), with_documents)
        return True

    def _documents_may_go(self) -> bool | None:
        """Whether this answer may use the documents: always here; on a server once the person agreed."""
        settings = self.settings
        if settings.server is None or not self.has_documents or settings.documents_may_go_to_server:
            return True
        return self.documents_consent() if self.documents_consent is not None else False

    def ensure_saved(self, title: str) -> str:
        """The conversation's uid, storing it first (titled `title`) if it is new: documents need a home."""
        if not self.uid:
            self.uid = new_uid()
            self.history.create_conversation(self.uid, title, self.settings.to_json())
            self.opened.emit(self.uid)
        return self.uid

    def regenerate(self) -> None:
        """Write the last answer again."""
        if self.chat.busy or not self.can_answer or not self.view.turns:
            return
        last = self.view.turns[-1]
        if not isinstance(last, AssistantTurn):
            return
        with_documents = self._documents_may_go()
        if with_documents is None:
            return
        self._drop_from(len(self.view.turns) - 1)
        self._answer(self.settings.effort, with_documents)

    def stop(self) -> None:
        """Stop the answer; what was written stays."""
        self.chat.stop()

    def close(self) -> None:
        """The window is closing: a running answer is stored as stopped, with what it had."""
        self._end_streaming()
        self._loader.stop()

    edit_requested = Signal(object)  # UserMessage
    source_requested = Signal(object)  # Source: a cited source was clicked

    @Slot()
    def _on_edit_requested(self) -> None:
        sender = self.sender()
        if isinstance(sender, UserMessage):
            self.edit_requested.emit(sender)

    def _answer(self, effort: Effort, with_documents: bool = True) -> None:
        server = self.settings.server
        info = self.chat.model_info
        if server is not None:  # whether it reasons shows when its reasoning arrives
            shows_reasoning, model_name = True, server.label
        else:
            assert info is not None
            shows_reasoning, model_name = info.is_harmony, info.name
        for turn in self.view.turns:
            if isinstance(turn, AssistantTurn):
                turn.set_regenerate_visible(False)
        conversation = Conversation(
            messages=self.prompt_messages(),
            effort=effort,
            instructions=self.settings.instructions or None,
            date=dt.date.today().isoformat(),
        )
        self._turn = self.view.add_assistant_turn(
            show_reasoning=shows_reasoning, uid=new_uid(), expand_reasoning=self.show_reasoning_by_default
        )
        self._turn.regenerate_requested.connect(self.regenerate)
        self.history.begin_answer(self.uid, self._turn.uid, effort, model_name)
        # Documents go to a server only with the person's consent for this conversation and that server.
        allowed = with_documents and (server is None or self.settings.documents_may_go_to_server)
        documents = DocumentsRef(self.documents_database, self.uid) if self.documents_database and allowed else None
        if self.has_documents and documents is None:
            self._turn.show_notice(WITHOUT_DOCUMENTS)
        self.chat.send(ChatRequest(conversation, self.settings.sampling()), documents, server)

    def prompt_messages(self) -> tuple[Message, ...]:
        """The prompt's turns: older ones not yet built, then what is on screen (empty answers left out)."""
        messages = [
            Message("user", m.content) if m.role == "user" else Message("assistant", m.content, m.reasoning)
            for m in self._pending
            if m.role == "user" or m.content
        ]
        for turn in self.view.turns:
            if isinstance(turn, UserMessage):
                messages.append(Message("user", turn.text))
            elif turn.answer_text():
                messages.append(Message("assistant", turn.answer_text(), turn.reasoning.reasoning()))
        return tuple(messages)

    def _drop_from(self, index: int) -> None:
        """Forget turn `index` and later ones, on screen and in the history."""
        first = self.view.turns[index]
        if self.uid and first.uid:
            self.history.delete_messages_from(self.uid, first.uid)
        self.view.remove_from(index)

    def _end_streaming(self) -> None:
        """Stop a running answer and store it as stopped before the view changes."""
        if self._turn is not None and self.chat.busy:
            self.chat.stop()
            self.history.end_answer(self._turn.uid, "stopped", None)
        self._turn = None

    # --- the stream ------------------------------------------------------------------------

    @Slot(str)
    def _on_reasoning(self, text: str) -> None:
        if self._turn is not None:
            self._turn.append_reasoning(text)
            self.history.append_reasoning(self._turn.uid, text)

    @Slot(str)
    def _on_answer(self, text: str) -> None:
        if self._turn is not None:
            self._turn.append_answer(text)
            self.history.append_answer(self._turn.uid, text)

    @Slot(object)
    def _on_finished(self, done: Done) -> None:
        turn, self._turn = self._turn, None
        if turn is None:
            return
        state: State = "stopped" if done.stop_reason == "cancelled" else "complete"
        self.history.end_answer(turn.uid, state, done.stats)
        turn.finish(done.stats, STOP_NOTICES.get(done.stop_reason, ""))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        turn, self._turn = self._turn, None
        if turn is None:
            return
        self.history.end_answer(turn.uid, "error", None)
        turn.finish(None, message)

    @Slot(object)
    def _on_documents_used(self, used: object) -> None:
        if self._turn is not None:
            self._turn.show_notice(str(getattr(used, "note", "")))

    @Slot(object)
    def _on_sources_cited(self, sources: object) -> None:
        if self._turn is not None and isinstance(sources, tuple) and sources:
            self._turn.show_sources(sources)
            self._turn.source_requested.connect(self.source_requested)
            self.history.set_sources(self._turn.uid, sources)

    @Slot(object)
    def _on_context_trimmed(self, event: object) -> None:
        dropped = int(getattr(event, "dropped_messages", 0))
        notice = (
            f"The conversation no longer fits in the model's context: the oldest {dropped} messages were left "
            "out of this reply (the instructions were kept)."
        )
        if self._turn is not None:
            self._turn.show_notice(notice)
        self.context_notice.emit(notice)

    # --- opening from history -----------------------------------------------------------------

    @Slot(object, object)
    def _show_stored(self, record: StoredConversation, messages: list[StoredMessage]) -> None:
        self._loader.stop()
        self.uid = record.uid
        self.has_documents = False  # until the documents thread lists them
        self.settings = ConversationSettings.from_json(record.settings)
        self.view.clear()
        self.settings_changed.emit(self.settings)
        self.opened.emit(self.uid)
        # The newest turns first, so the window paints at once; older ones follow on idle.
        first = len(messages) - FIRST_MESSAGES
        if self._scroll_target:
            target = next((i for i, m in enumerate(messages) if m.uid == self._scroll_target), first)
            first = min(first, target)
        first = max(first, 0)
        self._pending = messages[:first]
        for message in messages[first:]:
            self._add_stored(message, at_top=False)
        for turn in self.view.turns:
            if isinstance(turn, AssistantTurn):
                turn.set_regenerate_visible(turn is self.view.turns[-1])
        if self._scroll_target:
            widget = next((t for t in self.view.turns if t.uid == self._scroll_target), None)
            if widget is not None:
                QTimer.singleShot(0, lambda: self.view.scroll_to(widget))
            self._scroll_target = ""
        if self._pending:
            self._loader.start()

    @Slot()
    def _load_older(self) -> None:
        """One idle step: show the message the last step built, or build the next older one.

        Building a stored answer (Markdown, highlighting) and showing it (style, layout) each
        cost 5-15 ms here; one per step, with its layout done inside the step rather than
        merged into the next one, keeps every pause short while a long conversation loads.
        """
        if self.view.reveal_older():
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        elif self._pending:
            self._add_stored(self._pending.pop(), at_top=True)
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if not self._pending and not self.view.has_hidden():
            self._loader.stop()

    def _add_stored(self, message: StoredMessage, at_top: bool) -> None:
        if message.role == "user":
            user = self.view.add_user_message(message.content, uid=message.uid, at_top=at_top)
            user.edit_requested.connect(self._on_edit_requested)
            return
        turn = self.view.add_assistant_turn(
            show_reasoning=bool(message.reasoning), uid=message.uid, expand_reasoning=False, at_top=at_top
        )
        turn.regenerate_requested.connect(self.regenerate)
        turn.set_regenerate_visible(False)
        turn.show_stored(message.reasoning, message.content, STORED_NOTICES.get(message.state, ""))
        if message.sources:
            turn.show_sources(message.sources)
            turn.source_requested.connect(self.source_requested)

    @property
    def loading(self) -> bool:
        """True while older turns of an opened conversation are still being added."""
        return self._loader.isActive()
