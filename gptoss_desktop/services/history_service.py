"""Conversation history on its own thread: the GUI names rows by uid and never waits for SQLite.

The GUI thread tells the storage thread what happened (a conversation began, a
message was sent, an answer grew, a title changed) and carries on; requests run
in order on the storage thread, so a row is always created before it is updated.
Streaming answers are written at most every WRITE_INTERVAL_MS: a crash loses at
most that much of an answer, and a fast model does not turn into a write per token.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..core.events import Stats
from ..core.history.export import ExportError, export_json, export_markdown, write_export
from ..core.history.store import MessageStats, SearchHit, State, Store, StoredConversation, StoredMessage
from .threads import ThreadOwner, Worker

#: A streaming answer reaches the database at most this often.
WRITE_INTERVAL_MS = 500


def _problem(action: str, exc: Exception) -> str:
    """A message for people: what could not be done and why, in their words."""
    text = str(exc)
    if "full" in text.lower():
        text = "the disk is full. Free some space; the conversation stays in the window meanwhile"
    return f"Could not {action}: {text}."


class HistoryWorker(Worker):
    """Owns the Store on the storage thread; every slot runs there."""

    conversations_listed = Signal(object)  # list[StoredConversation]
    conversation_loaded = Signal(object, object)  # StoredConversation, list[StoredMessage]
    search_finished = Signal(int, object)  # request number, list[SearchHit]
    exported = Signal(str)  # path
    failed = Signal(str)

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._store: Store | None = None

    @Slot()
    def open(self) -> None:
        """Open (and migrate) the database, then list what it holds."""
        try:
            self._store = Store(self._path)
        except (sqlite3.Error, OSError) as exc:
            self.failed.emit(
                _problem(f"open the conversation history at {self._path}", exc)
                + " New conversations will not be saved in this session."
            )
            return
        self.list_conversations()

    def _run(self, action: str, relist: bool, operation: Callable[[Store], object]) -> None:
        """Run one change; a database error becomes a message for people, never an exception."""
        if self._store is None:
            return
        try:
            operation(self._store)
        except (sqlite3.Error, OSError) as exc:
            self.failed.emit(_problem(action, exc))
            return
        if relist:
            self.list_conversations()

    def _conversation(self, uid: str) -> int | None:
        return self._store.conversation_id(uid) if self._store is not None else None

    @Slot()
    def list_conversations(self) -> None:
        """Emit the conversations, newest first."""
        if self._store is not None:
            self.conversations_listed.emit(self._store.conversations())

    @Slot(str, str, str)
    def create(self, uid: str, title: str, settings: str) -> None:
        """Store a new conversation."""
        self._run("save the new conversation", True, lambda store: store.create_conversation(title, settings, uid))

    @Slot(str, str, str, str, str, object, object)
    def add_message(
        self, conversation: str, uid: str, role: str, content: str, state: str, effort: object, model: object
    ) -> None:
        """Append a message (an answer starts empty and `streaming`)."""
        conversation_id = self._conversation(conversation)
        if conversation_id is None or self._store is None:
            return
        try:
            self._store.add_message(
                conversation_id,
                role,
                content,
                state,  # type: ignore[arg-type]
                uid=uid,
                effort=effort if isinstance(effort, str) else None,
                model=model if isinstance(model, str) else None,
            )
        except sqlite3.Error as exc:
            self.failed.emit(_problem("save the message", exc))
            return
        self.list_conversations()

    @Slot(str, str, str, str, object)
    def update_message(self, uid: str, content: str, reasoning: str, state: str, stats: object) -> None:
        """Write an answer's current text (and its cost once it ended)."""
        if self._store is None:
            return
        message_id = self._store.message_id(uid)
        if message_id is not None:
            cost = stats if isinstance(stats, MessageStats) else None
            self._run(
                "save the answer",
                False,
                lambda store: store.update_message(
                    message_id, content=content, reasoning=reasoning, state=cast(State, state), stats=cost
                ),
            )

    @Slot(str, object)
    def set_sources(self, message: str, sources: object) -> None:
        """Keep the sources an answer cited with it."""
        message_id = self._store.message_id(message) if self._store is not None else None
        if message_id is not None and isinstance(sources, tuple):
            self._run("save the answer's sources", False, lambda store: store.set_sources(message_id, sources))

    @Slot(str, str)
    def rename(self, conversation: str, title: str) -> None:
        """Change a conversation's title."""
        conversation_id = self._conversation(conversation)
        if conversation_id is not None:
            self._run("rename the conversation", True, lambda store: store.rename_conversation(conversation_id, title))

    @Slot(str, str)
    def set_settings(self, conversation: str, settings: str) -> None:
        """Store a conversation's settings (JSON)."""
        conversation_id = self._conversation(conversation)
        if conversation_id is not None:
            self._run(
                "save the conversation's settings",
                False,
                lambda store: store.set_conversation_settings(conversation_id, settings),
            )

    @Slot(str)
    def delete(self, conversation: str) -> None:
        """Hide a conversation (undoable until the app quits)."""
        conversation_id = self._conversation(conversation)
        if conversation_id is not None:
            self._run("delete the conversation", True, lambda store: store.delete_conversation(conversation_id))

    @Slot(str)
    def restore(self, conversation: str) -> None:
        """Undo a delete."""
        conversation_id = self._conversation(conversation)
        if conversation_id is not None:
            self._run("restore the conversation", True, lambda store: store.restore_conversation(conversation_id))

    @Slot(str, str)
    def delete_messages_from(self, conversation: str, message: str) -> None:
        """Drop a message and everything after it (regenerate, edit and resend)."""
        if self._store is None:
            return
        conversation_id, message_id = self._conversation(conversation), self._store.message_id(message)
        if conversation_id is not None and message_id is not None:
            self._run(
                "replace the later messages",
                False,
                lambda store: store.delete_messages_from(conversation_id, message_id),
            )

    @Slot(str)
    def load(self, conversation: str) -> None:
        """Emit a conversation with all its messages."""
        conversation_id = self._conversation(conversation)
        if conversation_id is None or self._store is None:
            return
        record = self._store.conversation(conversation_id)
        if record is not None:
            self.conversation_loaded.emit(record, self._store.messages(conversation_id))

    @Slot(int, str, bool)
    def search(self, request: int, text: str, include_reasoning: bool) -> None:
        """Emit the messages matching `text`, best first."""
        if self._store is not None:
            self.search_finished.emit(request, self._store.search(text, include_reasoning))

    @Slot(str, str, str, bool)
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


@dataclass
class _Answer:
    """An answer being streamed: its text so far, and whether the database is behind."""

    reasoning: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    dirty: bool = False


class HistoryService(ThreadOwner):
    """The GUI thread's handle on the history. Every method runs on the GUI thread and returns at once."""

    conversations_listed = Signal(object)
    conversation_loaded = Signal(object, object)
    search_finished = Signal(int, object)
    exported = Signal(str)
    failed = Signal(str)

    _open_requested = Signal()
    _create_requested = Signal(str, str, str)
    _add_requested = Signal(str, str, str, str, str, object, object)
    _update_requested = Signal(str, str, str, str, object)
    _rename_requested = Signal(str, str)
    _sources_requested = Signal(str, object)
    _settings_requested = Signal(str, str)
    _delete_requested = Signal(str)
    _restore_requested = Signal(str)
    _truncate_requested = Signal(str, str)
    _load_requested = Signal(str)
    _search_requested = Signal(int, str, bool)
    _export_requested = Signal(str, str, str, bool)

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        self._worker = HistoryWorker(path)
        super().__init__(self._worker, "storage", parent)
        worker = self._worker
        pairs = (
            (self._open_requested, worker.open),
            (self._create_requested, worker.create),
            (self._add_requested, worker.add_message),
            (self._update_requested, worker.update_message),
            (self._rename_requested, worker.rename),
            (self._sources_requested, worker.set_sources),
            (self._settings_requested, worker.set_settings),
            (self._delete_requested, worker.delete),
            (self._restore_requested, worker.restore),
            (self._truncate_requested, worker.delete_messages_from),
            (self._load_requested, worker.load),
            (self._search_requested, worker.search),
            (self._export_requested, worker.export),
            (worker.conversations_listed, self.conversations_listed),
            (worker.conversation_loaded, self.conversation_loaded),
            (worker.search_finished, self.search_finished),
            (worker.exported, self.exported),
            (worker.failed, self.failed),
        )
        for signal, slot in pairs:
            signal.connect(slot)
        self._answers: dict[str, _Answer] = {}
        self._searches = 0
        self._write_timer = QTimer(self)
        self._write_timer.setSingleShot(True)
        self._write_timer.setInterval(WRITE_INTERVAL_MS)
        self._write_timer.timeout.connect(self._write_streaming)
        self._open_requested.emit()

    def create_conversation(self, uid: str, title: str, settings: str) -> None:
        """Store a new conversation named `uid`."""
        self._create_requested.emit(uid, title, settings)

    def add_user_message(self, conversation: str, uid: str, text: str) -> None:
        """Store what the person sent."""
        self._add_requested.emit(conversation, uid, "user", text, "complete", None, None)

    def begin_answer(self, conversation: str, uid: str, effort: str, model: str) -> None:
        """An answer starts streaming: stored at once, empty, as `streaming`."""
        self._answers[uid] = _Answer()
        self._add_requested.emit(conversation, uid, "assistant", "", "streaming", effort, model)

    def append_reasoning(self, uid: str, text: str) -> None:
        """More reasoning for a streaming answer (written with the next flush)."""
        self._grow(uid, text, reasoning=True)

    def append_answer(self, uid: str, text: str) -> None:
        """More text for a streaming answer (written with the next flush)."""
        self._grow(uid, text, reasoning=False)

    def end_answer(self, uid: str, state: State, stats: Stats | None) -> None:
        """The answer ended (complete, stopped or error): write all of it now, with its cost."""
        answer = self._answers.pop(uid, None)
        if answer is None:
            return
        cost = None
        if stats is not None:
            seconds = stats.prefill_seconds + stats.generation_seconds
            cost = MessageStats(stats.prompt_tokens, stats.completion_tokens, stats.reasoning_tokens, seconds)
        self._update_requested.emit(uid, "".join(answer.content), "".join(answer.reasoning), state, cost)

    def set_sources(self, message: str, sources: tuple[object, ...]) -> None:
        """Store the sources an answer cited (shown again when the conversation is opened, and exported)."""
        self._sources_requested.emit(message, sources)

    def rename(self, conversation: str, title: str) -> None:
        """Give a conversation a new title."""
        self._rename_requested.emit(conversation, title)

    def set_settings(self, conversation: str, settings: str) -> None:
        """Store a conversation's settings (JSON)."""
        self._settings_requested.emit(conversation, settings)

    def delete(self, conversation: str) -> None:
        """Delete a conversation; restore() undoes it until the app quits."""
        self._delete_requested.emit(conversation)

    def restore(self, conversation: str) -> None:
        """Undo delete()."""
        self._restore_requested.emit(conversation)

    def delete_messages_from(self, conversation: str, message: str) -> None:
        """Drop `message` and every later one."""
        self._answers.pop(message, None)
        self._truncate_requested.emit(conversation, message)

    def load(self, conversation: str) -> None:
        """Ask for a conversation's messages; conversation_loaded follows."""
        self._load_requested.emit(conversation)

    def search(self, text: str, include_reasoning: bool = False) -> int:
        """Search all conversations; search_finished follows with the returned request number."""
        self._searches += 1
        self._search_requested.emit(self._searches, text, include_reasoning)
        return self._searches

    def export(self, conversation: str, path: str, kind: str, include_reasoning: bool) -> None:
        """Write a conversation to `path` as "md" or "json"; exported or failed follows."""
        self._export_requested.emit(conversation, path, kind, include_reasoning)

    def stop_work(self) -> None:
        """Before the storage thread closes: write what is still pending."""
        self._write_streaming()
        self._write_timer.stop()

    def _grow(self, uid: str, text: str, reasoning: bool) -> None:
        answer = self._answers.get(uid)
        if answer is None or not text:
            return
        (answer.reasoning if reasoning else answer.content).append(text)
        answer.dirty = True
        if not self._write_timer.isActive():
            self._write_timer.start()

    @Slot()
    def _write_streaming(self) -> None:
        for uid, answer in self._answers.items():
            if answer.dirty:
                answer.dirty = False
                answer.content[:] = ["".join(answer.content)]  # join each piece once, not at every flush
                answer.reasoning[:] = ["".join(answer.reasoning)]
                self._update_requested.emit(uid, answer.content[0], answer.reasoning[0], "streaming", None)


__all__ = ["HistoryService", "HistoryWorker", "SearchHit", "StoredConversation", "StoredMessage"]
