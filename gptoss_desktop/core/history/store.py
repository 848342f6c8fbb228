"""Conversations in SQLite: WAL mode, named migrations recorded in the database, full-text search.

Messages are written while they stream (state `streaming`); a process that dies
mid-answer leaves its partial answer behind, and the next start marks it
`interrupted`, so nothing typed or generated is ever lost.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..documents.index import DocumentIndex
from ..documents.prompting import Source
from ..events import Citation
from ..sqlite_transaction import write_transaction
from .answer_adapters import AnswerAdapter, read_adapters, write_adapters
from .answer_citations import read_citations, write_citations
from .migrations import MIGRATIONS, Migration, migrate
from .read_only import check_schema_readable, open_read_only, writable
from .tool_steps import ToolStep, files_to_json, step_from_row

State = Literal["complete", "stopped", "interrupted", "error", "streaming"]


_CONVERSATION_COLUMNS = "id, uid, title, settings, created_at, updated_at"
_MESSAGE_COLUMNS = (
    "m.id, m.uid, m.conversation_id, m.role, m.content, m.reasoning, m.state, m.effort, m.model, "
    "m.prompt_tokens, m.completion_tokens, m.reasoning_tokens, m.seconds, m.created_at, "
    "coalesce(p.uid, ''), coalesce(m.chosen_at, m.created_at), m.reasoning_seconds"
)


def _step_row(step: ToolStep) -> tuple[object, ...]:
    """A tool step's columns after message_id and ordinal."""
    return (step.at, step.recipient, step.arguments, step.summary, step.output, step.model_text, step.status,
            step.seconds, files_to_json(step.files))  # fmt: skip


def new_uid() -> str:
    """A fresh row identity, made wherever the row is first thought of."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class StoredConversation:
    """A conversation: what the sidebar lists, and its settings (JSON, see ConversationSettings)."""

    id: int
    uid: str
    title: str
    settings: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class StoredMessage:
    """One turn with what was generated so far, how it ended, and what it cost."""

    id: int
    uid: str
    conversation_id: int
    role: str
    content: str
    reasoning: str
    state: str
    effort: str | None = None
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    seconds: float | None = None
    created_at: float = 0.0
    parent_uid: str = ""  # the message this one follows ("" for the first); versions share it
    chosen_at: float = 0.0  # when this version was made or last shown: the newest among its versions shows
    reasoning_seconds: float | None = None
    sources: tuple[Source, ...] = ()  # what the answer cited from the conversation's documents
    sources_cited: bool = True  # False: the answer cited nothing, these are the passages it was given
    tool_steps: tuple[ToolStep, ...] = ()  # the tools it called, in order
    adapters: tuple[AnswerAdapter, ...] = ()  # the LoRA adapters it was written with, at their scales
    citations: tuple[Citation, ...] = ()  # what a browsed answer cites, in its order


@dataclass(frozen=True)
class MessageStats:
    """What a finished answer cost, stored with it."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    seconds: float
    reasoning_seconds: float | None = None  # None: not recorded (answers stored before it was)


#: Around each matched word in `SearchHit.snippet`: private-use characters, so brackets in the text stay text.
MATCH_START, MATCH_END = "\ue000", "\ue001"


@dataclass(frozen=True)
class SearchHit:
    """A message matching a search, with its conversation's title and a snippet of where it matched."""

    conversation_id: int
    message_id: int
    snippet: str  # matched words between MATCH_START and MATCH_END
    conversation_uid: str = ""
    title: str = ""
    message_uid: str = ""

    def runs(self) -> list[tuple[str, bool]]:
        """The snippet as (text, matched) pieces, whitespace runs made single spaces, for display."""
        text = re.sub(r"\s+", " ", self.snippet)
        pieces = re.split(f"{MATCH_START}(.*?){MATCH_END}", text)
        return [(piece, index % 2 == 1) for index, piece in enumerate(pieces) if piece]

    @property
    def plain_snippet(self) -> str:
        """The snippet without match markers."""
        return "".join(text for text, _matched in self.runs())


#: How many times opening tries to switch a new database to WAL while another connection holds it.
WAL_SWITCH_ATTEMPTS = 100


class Store:
    """One SQLite database; open it on the thread that uses it (sqlite3 connections are per thread)."""

    def __init__(
        self,
        path: Path,
        migrations: tuple[Migration, ...] = MIGRATIONS,
        recover: bool = True,
    ):
        """Open (creating and migrating as needed). `recover` is for the app's first connection only:
        it labels what the last process left half-done; a second connection (the documents thread)
        must not, or it would mark the answer streaming right now as interrupted."""
        #: The database could only be opened for reading (a read-only file, folder or disk): the history
        #: can be read, searched and exported; every change fails with SQLite's "readonly" error.
        self.read_only = path.exists() and not writable(path)
        if self.read_only:
            self._db = open_read_only(path)
            self._db.text_factory = functools.partial(str, encoding="utf-8", errors="replace")
            check_schema_readable(self._db, migrations)
            self.applied: list[str] = []
            self.document_index = DocumentIndex(self._db)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        # Text that is not UTF-8 (written by another tool, or damage) reads with U+FFFD instead of failing
        # every query that touches it: one binary title hid the whole history.
        self._db.text_factory = functools.partial(str, encoding="utf-8", errors="replace")
        self._use_wal()
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this crash-safe for the app (not for a power cut)
        self.applied = migrate(self._db, migrations)
        #: The documents of every conversation, on this connection (so on this thread).
        self.document_index = DocumentIndex(self._db)
        if recover:
            self._recover()

    def _use_wal(self) -> None:
        """WAL mode (kept in the file). Switching a new database takes a lock SQLite does not wait for:
        when another connection is switching it at the same moment, try again shortly."""
        for _ in range(WAL_SWITCH_ATTEMPTS - 1):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                time.sleep(0.02)
        self._db.execute("PRAGMA journal_mode=WAL")

    def _recover(self) -> None:
        # Whatever was streaming when the last process died is a partial answer, kept and labelled.
        self._db.execute("UPDATE messages SET state = 'interrupted' WHERE state = 'streaming'")
        # A delete can be undone until the app quits; the next start makes it final.
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(conversations)")}
        if "deleted_at" in columns:  # absent only in a test's deliberately old schema
            self._db.execute("DELETE FROM conversations WHERE deleted_at IS NOT NULL")
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "documents" in tables:  # a document being indexed when the last process died never became ready
            self.document_index.fail_interrupted()

    def migrations_applied(self) -> list[str]:
        """Names of every migration recorded in this database, in order."""
        return [row[0] for row in self._db.execute("SELECT name FROM migrations ORDER BY name")]

    def create_conversation(
        self, title: str = "", settings: str = "{}", uid: str | None = None, effort: str = "medium"
    ) -> int:
        """A new, empty conversation; returns its id."""
        now = time.time()
        cursor = self._db.execute(
            "INSERT INTO conversations (uid, title, settings, effort, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (uid or new_uid(), title, settings, effort, now, now),
        )
        return int(cursor.lastrowid or 0)

    def conversation_id(self, uid: str) -> int | None:
        """The id of the conversation with `uid`, if it exists."""
        row = self._db.execute("SELECT id FROM conversations WHERE uid = ?", (uid,)).fetchone()
        return int(row[0]) if row else None

    def message_id(self, uid: str) -> int | None:
        """The id of the message with `uid`, if it exists."""
        row = self._db.execute("SELECT id FROM messages WHERE uid = ?", (uid,)).fetchone()
        return int(row[0]) if row else None

    def conversation(self, conversation_id: int) -> StoredConversation | None:
        """One conversation (deleted ones too, until the delete is final)."""
        row = self._db.execute(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        return StoredConversation(*row) if row else None

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        """Give a conversation the title the person chose."""
        self._db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def set_conversation_settings(self, conversation_id: int, settings: str) -> None:
        """Store a conversation's settings (JSON)."""
        self._db.execute("UPDATE conversations SET settings = ? WHERE id = ?", (settings, conversation_id))

    def delete_conversation(self, conversation_id: int) -> None:
        """Hide a conversation; restore_conversation undoes it until the next start."""
        self._db.execute("UPDATE conversations SET deleted_at = ? WHERE id = ?", (time.time(), conversation_id))

    def restore_conversation(self, conversation_id: int) -> None:
        """Undo delete_conversation."""
        self._db.execute("UPDATE conversations SET deleted_at = NULL WHERE id = ?", (conversation_id,))

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str = "",
        state: State = "complete",
        *,
        uid: str | None = None,
        effort: str | None = None,
        model: str | None = None,
        parent: str | None = None,
    ) -> int:
        """Add a turn after `parent` (a message uid; "" for a first message, None for the conversation's latest
        message); an answer starts as `streaming` and is updated as it grows."""
        now = time.time()
        with write_transaction(self._db):
            if parent is None:
                row = self._db.execute("SELECT max(id) FROM messages WHERE conversation_id = ?", (conversation_id,))
                parent_id = row.fetchone()[0]
            else:
                parent_id = self.message_id(parent) if parent else None
            cursor = self._db.execute(
                "INSERT INTO messages (uid, conversation_id, role, content, state, effort, model, created_at, "
                "parent_id, chosen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (uid or new_uid(), conversation_id, role, content, state, effort, model, now, parent_id, now),
            )
            self._db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
        return int(cursor.lastrowid or 0)

    def update_message(
        self, message_id: int, *, content: str, reasoning: str, state: State, stats: MessageStats | None = None
    ) -> None:
        """Write what a streaming answer holds now (call it throttled, not per token), and its cost once done."""
        if stats is None:
            self._db.execute(
                "UPDATE messages SET content = ?, reasoning = ?, state = ? WHERE id = ?",
                (content, reasoning, state, message_id),
            )
            return
        self._db.execute(
            "UPDATE messages SET content = ?, reasoning = ?, state = ?, prompt_tokens = ?, completion_tokens = ?, "
            "reasoning_tokens = ?, seconds = ?, reasoning_seconds = ? WHERE id = ?",
            (
                content,
                reasoning,
                state,
                stats.prompt_tokens,
                stats.completion_tokens,
                stats.reasoning_tokens,
                stats.seconds,
                stats.reasoning_seconds,
                message_id,
            ),
        )

    def choose_message(self, message_id: int, chosen_at: float) -> None:
        """The person flipped to this version (of a message and what follows it): it shows from now on."""
        self._db.execute("UPDATE messages SET chosen_at = ? WHERE id = ?", (chosen_at, message_id))

    def set_prompt(self, message_id: int, prompt: bytes) -> None:
        """Keep the exact prompt an answer's model received (PromptSent.to_bytes)."""
        self._db.execute("UPDATE messages SET prompt = ? WHERE id = ?", (prompt, message_id))

    def prompt_of(self, message_id: int) -> bytes | None:
        """The prompt kept with an answer, if any (read only when a person asks to see it)."""
        row = self._db.execute("SELECT prompt FROM messages WHERE id = ?", (message_id,)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def conversations(self) -> list[StoredConversation]:
        """Newest first, without deleted ones."""
        rows = self._db.execute(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE deleted_at IS NULL "
            "ORDER BY updated_at DESC, id DESC"
        )
        return [StoredConversation(*row) for row in rows]

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        """The turns of a conversation, in order."""
        rows = self._db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages m LEFT JOIN messages p ON p.id = m.parent_id "
            "WHERE m.conversation_id = ? ORDER BY m.id",
            (conversation_id,),
        )
        messages = [StoredMessage(*row) for row in rows]
        listed, steps = self._sources_of(conversation_id), self._steps_of(conversation_id)
        adapters, citations = read_adapters(self._db, conversation_id), read_citations(self._db, conversation_id)
        for index, message in enumerate(messages):
            sources, cited = listed.get(message.id, ((), True))
            if sources or message.id in steps or message.id in adapters or message.id in citations:
                messages[index] = dataclasses.replace(
                    message,
                    sources=sources,
                    sources_cited=cited,
                    tool_steps=steps.get(message.id, ()),
                    adapters=adapters.get(message.id, ()),
                    citations=citations.get(message.id, ()),
                )
        return messages

    def set_citations(self, message_id: int, citations: Sequence[Citation]) -> None:
        """Keep what a browsed answer cites, resolved to documents' pages and lines."""
        write_citations(self._db, message_id, citations)

    def set_adapters(self, message_id: int, adapters: Sequence[AnswerAdapter]) -> None:
        """Keep the LoRA adapters an answer was written with, at their scales."""
        write_adapters(self._db, message_id, adapters)

    def set_tool_steps(self, message_id: int, steps: Sequence[ToolStep]) -> None:
        """Keep an answer's tool steps (all of them, as they are now: a step's result replaces its call)."""
        with write_transaction(self._db):
            self._db.execute("DELETE FROM tool_steps WHERE message_id = ?", (message_id,))
            self._db.executemany(
                "INSERT INTO tool_steps (message_id, ordinal, reasoning_offset, recipient, arguments, summary, "
                "output, model_text, status, seconds, files) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(message_id, ordinal, *_step_row(step)) for ordinal, step in enumerate(steps)],
            )

    def _steps_of(self, conversation_id: int) -> dict[int, tuple[ToolStep, ...]]:
        rows = self._db.execute(
            "SELECT t.message_id, t.reasoning_offset, t.recipient, t.arguments, t.summary, t.output, t.model_text, "
            "t.status, t.seconds, t.files FROM tool_steps t JOIN messages m ON m.id = t.message_id "
            "WHERE m.conversation_id = ? ORDER BY t.message_id, t.ordinal",
            (conversation_id,),
        )
        steps: dict[int, list[ToolStep]] = {}
        for message_id, *fields in rows:
            steps.setdefault(message_id, []).append(step_from_row(fields))
        return {message_id: tuple(listed) for message_id, listed in steps.items()}

    def set_sources(self, message_id: int, sources: Sequence[Source], cited: bool = True) -> None:
        """Keep the sources an answer cited with it (they outlive the document's removal); `cited` False: it
        cited none, and these are passages it was given."""
        with write_transaction(self._db):
            self._db.execute("DELETE FROM message_sources WHERE message_id = ?", (message_id,))
            self._db.executemany(
                "INSERT INTO message_sources (message_id, number, document_uid, document_name, chunk_ordinal, "
                "snippet, anchor, cited) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (message_id, s.number, s.document_uid, s.document_name, s.chunk_ordinal, s.snippet, s.anchor, cited)
                    for s in sources
                ],
            )

    def _sources_of(self, conversation_id: int) -> dict[int, tuple[tuple[Source, ...], bool]]:
        rows = self._db.execute(
            "SELECT s.message_id, s.cited, s.number, s.document_uid, s.document_name, s.chunk_ordinal, s.anchor, "
            "s.snippet FROM message_sources s JOIN messages m ON m.id = s.message_id WHERE m.conversation_id = ? "
            "ORDER BY s.message_id, s.number",
            (conversation_id,),
        )
        listed: dict[int, list[Source]] = {}
        cited: dict[int, bool] = {}
        for message_id, was_cited, *fields in rows:
            listed.setdefault(message_id, []).append(Source(*fields))
            cited[message_id] = bool(was_cited)
        return {message_id: (tuple(sources), cited[message_id]) for message_id, sources in listed.items()}

    def search(
        self, text: str, include_reasoning: bool = False, limit: int = 50, per_conversation: bool = False
    ) -> list[SearchHit]:
        """Messages containing every word of `text` (prefix match on the last one), best first; with
        `per_conversation`, only the best match of each conversation."""
        words = [w.replace('"', '""') for w in text.split()]
        if not words:
            return []
        query = " ".join(f'"{w}"' for w in words[:-1]) + (" " if len(words) > 1 else "") + f'"{words[-1]}"*'
        if not include_reasoning:
            query = f"content : ({query})"
        rows = self._db.execute(
            "SELECT m.conversation_id, m.id, snippet(messages_fts, -1, ?, ?, '…', 12), c.uid, c.title, m.uid "
            "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
            "JOIN conversations c ON c.id = m.conversation_id "
            "WHERE messages_fts MATCH ? AND c.deleted_at IS NULL ORDER BY rank",
            (MATCH_START, MATCH_END, query),
        )
        hits: list[SearchHit] = []
        seen: set[int] = set()
        for row in rows:  # best first: the first hit of a conversation is its best
            if per_conversation and row[0] in seen:
                continue
            seen.add(row[0])
            hits.append(SearchHit(*row))
            if len(hits) >= limit:
                break
        return hits

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        self._db.close()
