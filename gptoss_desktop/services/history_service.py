"""Conversation history on its own thread: the GUI names rows by uid and never waits for SQLite.

The GUI thread tells the storage thread what happened (a conversation began, a
message was sent, an answer grew, a title changed) and carries on; requests run
in order on the storage thread, so a row is always created before it is updated.
Streaming answers are written at most every WRITE_INTERVAL_MS: a crash loses at
most that much of an answer, and a fast model does not turn into a write per token.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..core.documents.prompting import Source
from ..core.events import Citation
from ..core.history.answer_adapters import AnswerAdapter
from ..core.history.export import ExportError, export_json, export_markdown, write_export
from ..core.history.store import MessageStats, SearchHit, State, Store, StoredConversation, StoredMessage
from ..core.history.tool_steps import ToolStep
from ..core.history.transcript import TranscriptMessage
from ..core.prompt_record import PromptSent
from .threads import ThreadOwner, Worker

#: A streaming answer reaches the database at most this often.
WRITE_INTERVAL_MS = 500


def problem_message(action: str, exc: Exception) -> str:
    """A message for people: what could not be done and why, in their words."""
    full = (isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL) or (
        isinstance(exc, OSError) and exc.errno == errno.ENOSPC
    )
    code = getattr(exc, "sqlite_errorcode", None) if isinstance(exc, sqlite3.Error) else None
    if full:
        text = "the disk is full. Free some space; the conversation stays in the window meanwhile"
    elif code is not None and code & 0xFF == sqlite3.SQLITE_READONLY:
        text = "the history is read-only, so nothing new is saved; the conversation stays in the window meanwhile"
    else:
        text = str(exc)
    return f"Could not {action}: {text}."


class HistoryWorker(Worker):
    """Owns the Store on the storage thread; every slot runs there."""

    conversations_listed = Signal(list)  # list[StoredConversation]
    conversation_loaded = Signal(StoredConversation, list)  # the conversation, list[StoredMessage]
    search_finished = Signal(int, list)  # request number, list[SearchHit]
    exported = Signal(str)  # path
    failed = Signal(str)
    prompt_loaded = Signal(str, object)  # message uid, PromptSent or None

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._store: Store | None = None

    def open(self) -> None:
        """Open (and migrate) the database, then list what it holds."""
        try:
            self._store = Store(self._path)
        except (sqlite3.Error, OSError) as exc:
            self.failed.emit(
                problem_message(f"open the conversation history at {self._path}", exc)
                + " New conversations will not be saved in this session."
            )
            return
        if self._store.read_only:
            self.failed.emit(
                f"The conversation history at {self._path} is read-only: you can read, search and export it, "
                "but new conversations and answers will not be saved in this session."
            )
        self.list_conversations()

    def _run(self, action: str, relist: bool, operation: Callable[[Store], object]) -> None:
        """Run one change; a database error becomes a message for people, never an exception."""
        if self._store is None:
            return
        try:
            operation(self._store)
        except (sqlite3.Error, OSError) as exc:
            self.failed.emit(problem_message(action, exc))
            return
        if relist:
            self.list_conversations()

    def _conversation(self, uid: str) -> int | None:
        return self._store.conversation_id(uid) if self._store is not None else None

    def list_conversations(self) -> None:
        """Emit the conversations, newest first."""
        if self._store is not None:
            self.conversations_listed.emit(self._store.conversations())

    def create(self, uid: str, title: str, settings: str) -> None:
        """Store a new conversation."""
        self._run("save the new conversation", True, lambda store: store.create_conversation(title, settings, uid))

    def add_message(
        self,
        conversation: str,
        uid: str,
        role: str,
        content: str,
        state: State,
        effort: str | None,
        model: str | None,
        parent: str,
    ) -> None:
        """Add a message after `parent` ("" for the first; an answer starts empty and `streaming`)."""
        conversation_id = self._conversation(conversation)
        if conversation_id is None or self._store is None:
            return
        try:
            self._store.add_message(
                conversation_id,
                role,
                content,
                state,
                uid=uid,
                effort=effort,
                model=model,
                parent=parent,
            )
        except sqlite3.Error as exc:
            self.failed.emit(problem_message("save the message", exc))
            return
        self.list_conversations()

    def update_message(self, uid: str, content: str, reasoning: str, state: State, stats: MessageStats | None) -> None:
        """Write an answer's current text (and its cost once it ended)."""
        if self._store is None:
            return
        message_id = self._store.message_id(uid)
        if message_id is not None:
            self._run(
                "save the answer",
                False,
                lambda store: store.update_message(
                    message_id, content=content, reasoning=reasoning, state=state, stats=stats
                ),
            )

    def set_sources(self, message: str, sources: tuple[Source, ...], cited: bool) -> None:
        """Keep the sources an answer cited (or, citing none, was given) with it."""
        message_id = self._store.message_id(message) if self._store is not None else None
        if message_id is not None:
            self._run("save the answer's sources", False, lambda store: store.set_sources(message_id, sources, cited))

    def set_tool_steps(self, message: str, steps: tuple[ToolStep, ...]) -> None:
        """Keep an answer's tool steps as they are now."""
        message_id = self._store.message_id(message) if self._store is not None else None
        if message_id is not None:
            self._run("save the answer's tool steps", False, lambda store: store.set_tool_steps(message_id, steps))

    def set_citations(self, message: str, citations: tuple[Citation, ...]) -> None:
        """Keep what a browsed answer cites with it."""
        message_id = self._store.message_id(message) if self._store is not None else None
        if message_id is not None:
            self._run("save the answer's citations", False, lambda store: store.set_citations(message_id, citations))

    def set_adapters(self, message: str, adapters: tuple[AnswerAdapter, ...]) -> None:
        """Keep the adapters an answer is written with."""
        message_id = self._store.message_id(message) if self._store is not None else None
        if message_id is not None:
            self._run("save the answer's adapters", False, lambda store: store.set_adapters(message_id, adapters))

    def set_prompt(self, message: str, prompt: bytes) -> None:
        """Keep the prompt an answer's model received with it."""
        message_id = self._store.message_id(message) if self._store is not None else None
        if message_id is not None:
            self._run("save the answer's prompt", False, lambda store: store.set_prompt(message_id, prompt))

    def choose(self, message: str, chosen_at: float) -> None:
        """Remember that this version of a message is the one shown."""
        message_id = self._store.message_id(message) if self._store is not None else None
        if message_id is not None:
            self._run("remember the version shown", False, lambda store: store.choose_message(message_id, chosen_at))

    def load_prompt(self, message: str) -> None:
        """Emit the prompt kept with an answer (None when there is none)."""
        message_id = self._store.message_id(message) if self._store is not None else None
        stored = self._store.prompt_of(message_id) if self._store is not None and message_id is not None else None
        self.prompt_loaded.emit(message, PromptSent.from_bytes(stored))

    def rename(self, conversation: str, title: str) -> None:
        """Change a conversation's title."""
        conversation_id = self._conversation(conversation)
        if conversation_id is not None:
            self._run("rename the conversation", True, lambda store: store.rename_conversation(conversation_id, title))

    def set_settings(self, conversation: str, settings: str) -> None:
        """Store a conversation's settings (JSON)."""
        conversation_id = self._conversation(conversation)
        if conversation_id is not None:
            self._run(
                "save the conversation's settings",
                False,
                lambda store: store.set_conversation_settings(conversation_id, settings),
            )

    def delete(self, conversation: str) -> None:
        """Hide a conversation (undoable until the app quits)."""
        conversation_id = self._conversation(conversation)
        if conversation_id is not None:
            self._run("delete the conversation", True, lambda store: store.delete_conversation(conversation_id))

    def restore(self, conversation: str) -> None:
        """Undo a delete."""
        conversation_id = self._conversation(conversation)
        if conversation_id is not None:
            self._run("restore the conversation", True, lambda store: store.restore_conversation(conversation_id))

    def load(self, conversation: str) -> None:
        """Emit a conversation with all its messages."""
        conversation_id = self._conversation(conversation)
        if conversation_id is None or self._store is None:
            return
        record = self._store.conversation(conversation_id)
        if record is not None:
            self.conversation_loaded.emit(record, self._store.messages(conversation_id))

    def search(self, request: int, text: str, include_reasoning: bool) -> None:
        """Emit the messages matching `text`, best first."""
        if self._store is not None:
            self.search_finished.emit(request, self._store.search(text, include_reasoning, per_conversation=True))

    def export(self, conversation: str, path: str, kind: str, include_reasoning: bool) -> None:
        """Write a conversation to a Markdown or JSON file."""
        conversation_id = self._conversation(conversation)
        if conversation_id is None or self._store is None:
            self.failed.emit("Could not export: the conversation has not been saved yet.")
            return
        record = self._store.conversation(conversation_id)
        if record is None:
            return
        messages = self._store.messages(conversation_id)
        render = export_json if kind == "json" else export_markdown
        try:
            write_export(Path(path), render(record, messages, include_reasoning))
        except ExportError as exc:
            self.failed.emit(str(exc))
            return
        self.exported.emit(path)

    def release(self) -> None:
        """Close the database before the thread ends."""
        if self._store is not None:
            self._store.close()
            self._store = None


class HistoryService(ThreadOwner):
    """The GUI thread's handle on the history. Every method runs on the GUI thread and returns at once."""

    conversations_listed = Signal(list)  # list[StoredConversation]
    conversation_loaded = Signal(StoredConversation, list)  # the conversation, list[StoredMessage]
    search_finished = Signal(int, list)  # request number, list[SearchHit]
    exported = Signal(str)
    failed = Signal(str)
    prompt_loaded = Signal(str, object)  # message uid, PromptSent or None

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        self._worker = HistoryWorker(path)
        super().__init__(self._worker, "storage", parent)
        worker = self._worker
        worker.conversations_listed.connect(self.conversations_listed)
        worker.conversation_loaded.connect(self.conversation_loaded)
        worker.search_finished.connect(self.search_finished)
        worker.exported.connect(self.exported)
        worker.failed.connect(self.failed)
        worker.prompt_loaded.connect(self.prompt_loaded)
        #: Answers streaming now, read from the transcript (the one copy of their text) when written.
        self._streaming: dict[str, TranscriptMessage] = {}
        self._behind: set[str] = set()  # streaming answers whose latest text is not yet written
        self._searches = 0
        self._write_timer = QTimer(self)
        self._write_timer.setSingleShot(True)
        self._write_timer.setInterval(WRITE_INTERVAL_MS)
        self._write_timer.timeout.connect(self._write_streaming)
        self.submit(worker.open)

    def create_conversation(self, uid: str, title: str, settings: str) -> None:
        """Store a new conversation named `uid`."""
        self.submit(self._worker.create, uid, title, settings)

    def add_user_message(self, conversation: str, message: TranscriptMessage) -> None:
        """Store what the person sent."""
        self.submit(
            self._worker.add_message,
            conversation,
            message.uid,
            "user",
            message.content,
            "complete",
            None,
            None,
            message.parent,
        )

    def begin_answer(self, conversation: str, answer: TranscriptMessage) -> None:
        """An answer starts streaming: stored at once, empty, as `streaming`, with the adapters it is written with;
        its text is read from `answer` as it grows."""
        self._streaming[answer.uid] = answer
        self.submit(
            self._worker.add_message,
            conversation,
            answer.uid,
            "assistant",
            "",
            "streaming",
            answer.effort,
            answer.model,
            answer.parent,
        )
        if answer.adapters:
            self.submit(self._worker.set_adapters, answer.uid, answer.adapters)

    def answer_grew(self, answer: TranscriptMessage) -> None:
        """The streaming answer has more text: written with the next flush (at most every WRITE_INTERVAL_MS)."""
        if answer.uid in self._streaming:
            self._behind.add(answer.uid)
            if not self._write_timer.isActive():
                self._write_timer.start()

    def steps_changed(self, answer: TranscriptMessage) -> None:
        """The streaming answer called a tool or got a result: its steps are written now (they are few)."""
        if answer.uid in self._streaming:
            self.submit(self._worker.set_tool_steps, answer.uid, tuple(answer.steps))

    def end_answer(self, answer: TranscriptMessage) -> None:
        """The answer ended (complete, stopped or error): write all of it now, with its cost, sources and citations."""
        if self._streaming.pop(answer.uid, None) is None:
            return
        self._behind.discard(answer.uid)
        self.submit(
            self._worker.update_message, answer.uid, answer.content, answer.reasoning, answer.state, answer.stats
        )
        if answer.sources:
            self.submit(self._worker.set_sources, answer.uid, answer.sources, answer.sources_cited)
        if answer.steps:
            self.submit(self._worker.set_tool_steps, answer.uid, tuple(answer.steps))
        if answer.citations:
            self.submit(self._worker.set_citations, answer.uid, answer.citations)
        if answer.prompt is not None:
            self.submit(self._worker.set_prompt, answer.uid, answer.prompt.to_bytes())

    def rename(self, conversation: str, title: str) -> None:
        """Give a conversation a new title."""
        self.submit(self._worker.rename, conversation, title)

    def set_settings(self, conversation: str, settings: str) -> None:
        """Store a conversation's settings (JSON)."""
        self.submit(self._worker.set_settings, conversation, settings)

    def delete(self, conversation: str) -> None:
        """Delete a conversation; restore() undoes it until the app quits."""
        self.submit(self._worker.delete, conversation)

    def restore(self, conversation: str) -> None:
        """Undo delete()."""
        self.submit(self._worker.restore, conversation)

    def choose(self, messages: list[TranscriptMessage]) -> None:
        """These versions are the ones shown now (Transcript.choose): remember it for the next opening."""
        for message in messages:
            self.submit(self._worker.choose, message.uid, message.chosen_at)

    def load_prompt(self, message: str) -> None:
        """Ask for the prompt kept with an answer; prompt_loaded follows."""
        self.submit(self._worker.load_prompt, message)

    def load(self, conversation: str) -> None:
        """Ask for a conversation's messages; conversation_loaded follows."""
        self.submit(self._worker.load, conversation)

    def search(self, text: str, include_reasoning: bool = False) -> int:
        """Search all conversations; search_finished follows with the returned request number."""
        self._searches += 1
        self.submit(self._worker.search, self._searches, text, include_reasoning)
        return self._searches

    def export(self, conversation: str, path: str, kind: str, include_reasoning: bool) -> None:
        """Write a conversation to `path` as "md" or "json"; exported or failed follows."""
        self.submit(self._worker.export, conversation, path, kind, include_reasoning)

    def stop_work(self) -> None:
        """Before the storage thread closes: write what is still pending."""
        self._write_streaming()
        self._write_timer.stop()

    @Slot()
    def _write_streaming(self) -> None:
        for uid in self._behind:
            answer = self._streaming[uid]
            self.submit(self._worker.update_message, uid, answer.content, answer.reasoning, "streaming", None)
        self._behind.clear()


__all__ = ["HistoryService", "HistoryWorker", "SearchHit", "StoredConversation", "StoredMessage"]
