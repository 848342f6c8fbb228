"""The conversation in the window: the transcript shown as turns, sent to the engine, kept in the history.

The Transcript (core) is the one record of what was said. This object applies the engine's
events to it, renders each change in the ChatView, and tells the history service what to store;
the next prompt is built from the transcript, never from the widgets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import assert_never, cast

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal, Slot

from ...core.conversation_settings import ConversationSettings
from ...core.documents.answer import DocumentsUsed, PartRead, SourcesCited
from ...core.documents.prompting import Source
from ...core.engine import ChatRequest
from ...core.events import (
    AnswerDelta,
    ChannelDelta,
    ContextTrimmed,
    Done,
    Failed,
    MessageEnded,
    PromptSent,
    ReasoningDelta,
)
from ...core.harmony import Effort
from ...core.history.store import StoredConversation, StoredMessage, new_uid
from ...core.history.titles import title_from
from ...core.history.transcript import Transcript, TranscriptMessage
from ...services.chat_service import ChatEvent, ChatService
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
    settings_changed = Signal(ConversationSettings)
    context_notice = Signal(str)
    edit_requested = Signal(UserMessage)
    source_requested = Signal(Source)  # a cited source was clicked

    def __init__(
        self, chat: ChatService, history: HistoryService, view: ChatView, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.chat = chat
        self.history = history
        self.view = view
        self.transcript = Transcript()
        self.show_reasoning_by_default = True
        #: The history database, where the documents of a conversation are found (None: no documents).
        self.documents_database: Path | None = None
        #: Whether this conversation has documents that can be asked about (the window keeps it current).
        self.has_documents = False
        #: Asked before documents first go to the conversation's server: True send them, False answer
        #: without them this time, None send nothing. Without it, documents never go to a server.
        self.documents_consent: Callable[[], bool | None] | None = None
        self._turn: AssistantTurn | None = None  # the widget of the answer streaming now
        self._unbuilt = 0  # transcript messages [0, _unbuilt) have no widget yet (older ones, built on idle)
        self._scroll_target = ""
        self._loader = QTimer(self)
        self._loader.setInterval(0)
        self._loader.timeout.connect(self._load_older)
        chat.event_received.connect(self._on_event)
        history.conversation_loaded.connect(self._show_stored)

    # --- conversations -------------------------------------------------------------------

    @property
    def uid(self) -> str:
        """The shown conversation's uid ("" until it is stored)."""
        return self.transcript.uid

    @property
    def settings(self) -> ConversationSettings:
        """The shown conversation's settings."""
        return self.transcript.settings

    def new(self, settings: ConversationSettings) -> None:
        """An empty conversation; it is stored when the first message is sent."""
        self._end_streaming()
        self._loader.stop()
        self.transcript = Transcript(settings=settings)
        self.has_documents = False
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
        self.transcript.settings = settings
        if self.uid:
            self.history.set_settings(self.uid, settings.to_json())
        self.settings_changed.emit(settings)

    def ensure_saved(self, title: str) -> str:
        """The conversation's uid, storing it first (titled `title`) if it is new: documents need a home."""
        if not self.transcript.uid:
            self.transcript.uid = new_uid()
            self.history.create_conversation(self.uid, title, self.settings.to_json())
            self.opened.emit(self.uid)
        return self.uid

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
        if replacing is not None:
            self._drop_from(replacing.uid)
        if effort != self.settings.effort:
            self.update_settings(self.settings.with_changes(effort=effort))
        self.ensure_saved(title_from(text))
        message = self.transcript.add_user(text)
        self._add_widget(message)
        self.history.add_user_message(self.uid, message)
        self._answer(cast(Effort, effort), with_documents)
        return True

    def regenerate(self) -> None:
        """Write the last answer again."""
        last = self.transcript.last_answer
        if self.chat.busy or not self.can_answer or last is None:
            return
        with_documents = self._documents_may_go()
        if with_documents is None:
            return
        self._drop_from(last.uid)
        self._answer(self.settings.effort, with_documents)

    def stop(self) -> None:
        """Stop the answer; what was written stays."""
        self.chat.stop()

    def close(self) -> None:
        """The window is closing: a running answer is stored as stopped, with what it had."""
        self._end_streaming()
        self._loader.stop()

    def _documents_may_go(self) -> bool | None:
        """Whether this answer may use the documents: always here; on a server once the person agreed."""
        settings = self.settings
        if settings.server is None or not self.has_documents or settings.documents_may_go_to_server:
            return True
        return self.documents_consent() if self.documents_consent is not None else False

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
        conversation = self.transcript.prompt(effort, dt.date.today().isoformat())
        answer = self.transcript.begin_answer(effort, model_name)
        self._turn = self.view.add_assistant_turn(
            show_reasoning=shows_reasoning, uid=answer.uid, expand_reasoning=self.show_reasoning_by_default
        )
        self._turn.regenerate_requested.connect(self.regenerate)
        self._turn.source_requested.connect(self.source_requested)
        self.history.begin_answer(self.uid, answer)
        # Documents go to a server only with the person's consent for this conversation and that server.
        allowed = with_documents and (server is None or self.settings.documents_may_go_to_server)
        documents = DocumentsRef(self.documents_database, self.uid) if self.documents_database and allowed else None
        if self.has_documents and documents is None:
            self._turn.show_notice(WITHOUT_DOCUMENTS)
        self.chat.send(ChatRequest(conversation, self.settings.sampling()), documents, server)

    def _drop_from(self, uid: str) -> None:
        """Forget message `uid` and every later one: in the transcript, on screen and in the history."""
        if self.uid:
            self.history.delete_messages_from(self.uid, uid)
        self.transcript.truncate_from(uid)
        index = next((i for i, turn in enumerate(self.view.turns) if turn.uid == uid), None)
        if index is not None:
            self.view.remove_from(index)

    def _end_streaming(self) -> None:
        """Stop a running answer and store it as stopped before the view changes."""
        if self.transcript.answer is not None:
            self.chat.stop()
            answer = self.transcript.stop_streaming()
            if answer is not None:
                self.history.end_answer(answer)
        self._turn = None

    @Slot()
    def _on_edit_requested(self) -> None:
        sender = self.sender()
        if isinstance(sender, UserMessage):
            self.edit_requested.emit(sender)

    # --- the stream ------------------------------------------------------------------------

    @Slot(object)
    def _on_event(self, event: ChatEvent) -> None:
        """One event of the answer streaming now: into the transcript, onto the screen, to the history."""
        turn = self._turn
        answer = self.transcript.apply(event)
        if turn is None or answer is None:
            return  # a stopped answer's last events, after the conversation was left
        match event:
            case ReasoningDelta(text=text):
                turn.append_reasoning(text)
                self.history.answer_grew(answer)
            case AnswerDelta(text=text):
                turn.append_answer(text)
                self.history.answer_grew(answer)
            case ChannelDelta() | MessageEnded() | PromptSent():
                pass  # other channels and whole messages: nothing to show yet; the prompt is in the transcript
            case ContextTrimmed(dropped_messages=dropped):
                notice = (
                    f"The conversation no longer fits in the model's context: the oldest {dropped} messages were "
                    "left out of this reply (the instructions were kept)."
                )
                turn.show_notice(notice)
                self.context_notice.emit(notice)
            case DocumentsUsed(note=note):
                turn.show_notice(note)
            case PartRead():
                pass  # the window's status line says it
            case SourcesCited(sources=sources):
                if sources:
                    turn.show_sources(sources)
            case Done(stop_reason=reason, stats=stats):
                self._turn = None
                self.history.end_answer(answer)
                turn.finish(stats, STOP_NOTICES.get(reason, ""))
            case Failed(message=message):
                self._turn = None
                self.history.end_answer(answer)
                turn.finish(None, message)
            case _:
                assert_never(event)

    # --- opening from history -----------------------------------------------------------------

    @Slot(StoredConversation, list)
    def _show_stored(self, record: StoredConversation, messages: list[StoredMessage]) -> None:
        self._loader.stop()
        self.transcript = Transcript.from_stored(record, messages)
        self.has_documents = False  # until the documents thread lists them
        self.view.clear()
        self.settings_changed.emit(self.settings)
        self.opened.emit(self.uid)
        # The newest turns first, so the window paints at once; older ones follow on idle.
        shown = self.transcript.messages
        first = len(shown) - FIRST_MESSAGES
        if self._scroll_target:
            target = self.transcript.index_of(self._scroll_target)
            first = min(first, target if target is not None else first)
        self._unbuilt = max(first, 0)
        for message in shown[self._unbuilt :]:
            self._add_widget(message)
        last = self.transcript.last_answer
        for turn in self.view.turns:
            if isinstance(turn, AssistantTurn):
                turn.set_regenerate_visible(last is not None and turn.uid == last.uid)
        if self._scroll_target:
            widget = next((t for t in self.view.turns if t.uid == self._scroll_target), None)
            if widget is not None:
                QTimer.singleShot(0, lambda: self.view.scroll_to(widget))
            self._scroll_target = ""
        if self._unbuilt:
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
        elif self._unbuilt:
            self._unbuilt -= 1
            self._add_widget(self.transcript.messages[self._unbuilt], at_top=True)
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if not self._unbuilt and not self.view.has_hidden():
            self._loader.stop()

    def _add_widget(self, message: TranscriptMessage, at_top: bool = False) -> None:
        """The widget for a message that is not streaming."""
        if message.role == "user":
            user = self.view.add_user_message(message.content, uid=message.uid, at_top=at_top)
            user.edit_requested.connect(self._on_edit_requested)
            return
        turn = self.view.add_assistant_turn(
            show_reasoning=bool(message.reasoning), uid=message.uid, expand_reasoning=False, at_top=at_top
        )
        turn.regenerate_requested.connect(self.regenerate)
        turn.source_requested.connect(self.source_requested)
        turn.set_regenerate_visible(False)
        turn.show_stored(message.reasoning, message.content, STORED_NOTICES.get(message.state, ""))
        if message.sources:
            turn.show_sources(message.sources)

    @property
    def loading(self) -> bool:
        """True while older turns of an opened conversation are still being added."""
        return self._loader.isActive()
