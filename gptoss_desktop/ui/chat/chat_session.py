"""The conversation in the window: the transcript shown as turns, sent to the engine, kept in the history.

The Transcript (core) is the one record of what was said. This object applies the engine's
events to it, renders each change in the ChatView, and tells the history service what to store;
the next prompt is built from the transcript, never from the widgets. Regenerate and edit add
versions; flipping between them re-renders the branch from the message flipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import assert_never, cast

from PySide6.QtCore import QObject, QTimer, Signal, Slot

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
    MalformedMessage,
    MessageEnded,
    PromptSent,
    ReasoningDelta,
    ToolApproval,
    ToolCall,
    ToolResult,
)
from ...core.harmony import Effort
from ...core.history.answer_adapters import AnswerAdapter
from ...core.history.store import StoredConversation, StoredMessage, new_uid
from ...core.history.titles import title_from
from ...core.history.transcript import Transcript, TranscriptMessage
from ...core.sampling import SamplingParams
from ...core.tools.loop import DEFAULT_STEP_LIMIT
from ...services.chat_service import ChatEvent, ChatService
from ...services.chat_worker import DocumentsRef
from ...services.history_service import HistoryService
from .chat_view import ChatView
from .message_widgets import AssistantTurn, UserMessage
from .tool_turn import ToolTurn, tool_choice
from .turn_builder import STOP_NOTICES, TurnBuilder

#: Under an answer on a server that was not given the conversation's documents.
WITHOUT_DOCUMENTS = "Answered without the documents: they were not sent to the server."


__all__ = ["STOP_NOTICES", "ChatSession"]


class ChatSession(QObject):
    """One conversation at a time: send, stop, regenerate, edit and resend, open from history."""

    opened = Signal(str)  # conversation uid ("" for a new, unsaved one)
    settings_changed = Signal(ConversationSettings)
    context_notice = Signal(str)
    edit_requested = Signal(UserMessage)
    source_requested = Signal(Source)  # a cited source was clicked
    citation_requested = Signal(object)  # Citation: a browsed answer's verified citation was clicked
    #: The prompt of an answer is known (or known not to have been kept): the window shows it.
    prompt_ready = Signal(object)  # TranscriptMessage

    def __init__(
        self, chat: ChatService, history: HistoryService, view: ChatView, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.chat = chat
        self.history = history
        self.view = view
        self.show_reasoning_by_default = True
        #: The history database, where the documents of a conversation are found (None: no documents).
        self.documents_database: Path | None = None
        #: Whether this conversation has documents that can be asked about (the window keeps it current).
        self.has_documents = False
        #: Asked before documents first go to the conversation's server: True send them, False answer
        #: without them this time, None send nothing. Without it, documents never go to a server.
        self.documents_consent: Callable[[], bool | None] | None = None
        #: Documents of this conversation that could not be read ("report.pdf: it is password-protected"),
        #: named when an answer says how the documents were used (the window keeps it current).
        self.refused_documents: list[str] = []
        #: What the model samples with where the conversation's settings leave it to the model.
        self.model_sampling: Callable[[], SamplingParams] = SamplingParams
        #: Another Python for the python tool (Preferences; the window keeps it current), None: the app's own.
        self.python_interpreter: str | None = None
        #: An adapter's name as its file says it (the window knows, once the engine thread has read it).
        self.adapter_name: Callable[[Path], str] = lambda path: path.stem
        self._turn: AssistantTurn | None = None  # the widget of the answer streaming now
        self.tools = ToolTurn(self)  # the streaming answer's tool steps, and the person's Run or Skip
        self.tools.always_run.connect(lambda: self.update_settings(self.settings.with_changes(python="run")))
        self._scroll_target = ""
        self.turns = TurnBuilder(view, self)
        self.turns.edit_requested.connect(self.edit_requested)
        self.turns.version_requested.connect(self.show_version)
        self.turns.prompt_requested.connect(self.show_prompt)
        self.turns.regenerate_requested.connect(self.regenerate)
        self.turns.source_requested.connect(self.source_requested)
        self.turns.citation_requested.connect(self.citation_requested)
        chat.event_received.connect(self._on_event)
        history.conversation_loaded.connect(self._show_stored)
        history.prompt_loaded.connect(self._on_prompt_loaded)
        self._reveal = ""  # words a search matched: an opened hit found only in the reasoning unfolds it

    # --- conversations -------------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        """The conversation shown (the turn builder renders it)."""
        return self.turns.transcript

    @transcript.setter
    def transcript(self, transcript: Transcript) -> None:
        self.turns.transcript = transcript

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
        self.turns.show_all(Transcript(settings=settings))
        self.has_documents = False
        self.refused_documents = []
        self.settings_changed.emit(settings)
        self.opened.emit("")

    def open(self, uid: str, message_uid: str = "", matched: str = "") -> None:
        """Show a stored conversation (scrolled to `message_uid` if given, on whichever version it is; its
        reasoning unfolded when the `matched` words are there and not in the answer)."""
        self._scroll_target = message_uid
        self._reveal = matched
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
            self._branch_before(replacing.uid)
        if effort != self.settings.effort:
            self.update_settings(self.settings.with_changes(effort=effort))
        self.ensure_saved(title_from(text))
        message = self.transcript.add_user(text)
        self.turns.add(message)
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
        self._branch_before(last.uid)
        self._answer(self.settings.effort, with_documents)

    @Slot(str, int)
    def show_version(self, uid: str, step: int) -> None:
        """Flip message `uid` to its version before (-1) or after (+1): the branch from there is shown instead;
        the history remembers the choice."""
        if self.transcript.answer is not None or self.turns.loading:
            return  # not while an answer streams (it belongs to the branch shown) or older turns are built
        versions = self.transcript.versions(uid)
        index = next((i for i, m in enumerate(versions) if m.uid == uid), None)
        if index is None or not 0 <= index + step < len(versions):
            return
        target = versions[index + step].uid
        chosen = self.transcript.choose(target)
        if self.uid:
            self.history.choose(chosen)
        position = self.transcript.index_of(target)
        if position is not None:
            self.turns.rebuild_from(position)

    @Slot(str)
    def show_prompt(self, uid: str) -> None:
        """The prompt answer `uid` received: prompt_ready follows (at once if it is in memory)."""
        message = self.transcript.find(uid)
        if message is None:
            return
        if message.prompt is not None or not self.uid:
            self.prompt_ready.emit(message)
        else:
            self.history.load_prompt(uid)

    def stop(self) -> None:
        """Stop the answer; what was written stays."""
        self.chat.stop()

    def close(self) -> None:
        """The window is closing: a running answer is stored as stopped, with what it had."""
        self._end_streaming()
        self.turns.stop()

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
        conversation = self.transcript.prompt(effort, dt.date.today().isoformat())
        adapters = self.settings.adapters if server is None else ()  # they change the model on this computer
        used = tuple(AnswerAdapter(self.adapter_name(a.path), str(a.path), a.scale) for a in adapters)
        answer = self.transcript.begin_answer(effort, model_name, used)
        self._turn = self.turns.add_streaming(answer, shows_reasoning, self.show_reasoning_by_default)
        self._turn.show_adapters(model_name, used)
        self._turn.stop_requested.connect(self.stop)
        self._turn.unisolated_python_requested.connect(self._allow_unisolated_python)
        self.tools.begin(self._turn, answer)
        self.history.begin_answer(self.uid, answer)
        # Documents go to a server only with the person's consent for this conversation and that server.
        allowed = with_documents and (server is None or self.settings.documents_may_go_to_server)
        browse = self.settings.documents == "browse"
        database = self.documents_database
        documents = DocumentsRef(database, self.uid, browse) if database and allowed else None
        if self.has_documents and documents is None:
            self._turn.show_notice(WITHOUT_DOCUMENTS)
        sampling = self.settings.sampling(self.model_sampling())
        tools = tool_choice(self.uid, self.settings, self.chat.model_info, self.python_interpreter)
        self.chat.send(ChatRequest(conversation, sampling, adapters=adapters), documents, server, tools)

    def _branch_before(self, uid: str) -> None:
        """The branch shown ends before message `uid` (kept as a version): in the transcript and on screen."""
        self.transcript.branch_before(uid)
        index = next((i for i, turn in enumerate(self.view.turns) if turn.uid == uid), None)
        if index is not None:
            self.view.remove_from(index)

    def _end_streaming(self) -> None:
        """Stop a running answer and store it as stopped before the view changes."""
        if self.transcript.answer is not None:
            self.chat.stop()  # also answers a "run this code?" still asked: Stop counts as Skip
            answer = self.transcript.stop_streaming()
            if answer is not None:
                self.history.end_answer(answer)
        self._turn = None
        self.tools.end()

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
            case ToolCall() | ToolApproval() | ToolResult():
                self.tools.show(event, not self.settings.python_without_network_isolation)
                self.history.steps_changed(answer)
            case MalformedMessage():
                pass  # the engine answers or resamples it; none of it is shown
            case ContextTrimmed(dropped_messages=dropped):
                notice = (
                    f"The conversation no longer fits in the model's context: the oldest {dropped} messages were "
                    "left out of this reply (the instructions were kept)."
                )
                turn.show_notice(notice)
                self.context_notice.emit(notice)
            case DocumentsUsed(note=note, strategy=strategy):
                if strategy == "browse":
                    note = f"{note.rstrip('.')}, in up to {DEFAULT_STEP_LIMIT} steps."
                turn.show_notice(self._with_refused(note))
            case PartRead():
                pass  # the window's status line says it
            case SourcesCited(sources=sources, cited=cited):
                if sources:
                    turn.show_sources(sources, cited)
            case Done(stop_reason=reason, stats=stats):
                self._end_turn(answer)
                turn.show_citations(answer.citations)
                turn.finish(stats, STOP_NOTICES.get(reason, ""))
            case Failed(message=message):
                self._end_turn(answer)
                turn.finish(None, message)
            case _:
                assert_never(event)

    def _end_turn(self, answer: TranscriptMessage) -> None:
        """The answer ended: stored whole; a tool step it left open shows how it ended."""
        self._turn = None
        self.tools.end()
        self.history.end_answer(answer)

    @Slot()
    def _allow_unisolated_python(self) -> None:
        """The person lets python run without network isolation here: stored, and the answer that could not
        run it written again (if it is the last one and nothing runs now)."""
        self.update_settings(self.settings.with_changes(python_without_network_isolation=True))
        sender = self.sender()
        last = self.transcript.last_answer
        if isinstance(sender, AssistantTurn) and last is not None and sender.uid == last.uid and not last.streaming:
            self.regenerate()

    # --- opening from history -----------------------------------------------------------------

    @Slot(StoredConversation, list)
    def _show_stored(self, record: StoredConversation, messages: list[StoredMessage]) -> None:
        transcript = Transcript.from_stored(record, messages)
        target, matched = self._scroll_target, self._reveal
        self._scroll_target = self._reveal = ""
        if target and transcript.index_of(target) is None:
            self.history.choose(transcript.choose(target))  # a search hit on another version: show that one
        self.has_documents = False  # until the documents thread lists them
        self.refused_documents = []
        self.turns.show_all(transcript, keep=transcript.index_of(target) if target else None)
        self.settings_changed.emit(self.settings)
        self.opened.emit(self.uid)
        widget = self.turns.widget_of(target) if target else None
        if widget is not None:
            self.turns.unfold_if_found_in_reasoning(target, matched)
            QTimer.singleShot(0, self.view, lambda: self.view.scroll_to(widget))

    def _with_refused(self, note: str) -> str:
        """How the documents were used, naming those that could not be read (they were not)."""
        if not self.refused_documents:
            return note
        return f"{note.rstrip('.')} that could be read. Not used: {'; '.join(self.refused_documents)}."

    @Slot(str, object)
    def _on_prompt_loaded(self, uid: str, prompt: PromptSent | None) -> None:
        message = self.transcript.find(uid)
        if message is not None:
            message.prompt = prompt
            self.prompt_ready.emit(message)

    @property
    def loading(self) -> bool:
        """True while older turns of an opened conversation are still being added."""
        return self.turns.loading
