"""Conversations in SQLite: WAL mode, named migrations recorded in the database, full-text search.

Messages are written while they stream (state `streaming`); a process that dies
mid-answer leaves its partial answer behind, and the next start marks it
`interrupted`, so nothing typed or generated is ever lost.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .documents.index import DocumentIndex
from .documents.prompting import Source
from .sqlite_transaction import write_transaction

State = Literal["complete", "stopped", "interrupted", "error", "streaming"]


def _run(db: sqlite3.Connection, *statements: str) -> None:
    # One statement at a time: executescript() would COMMIT the migration's transaction first.
    for statement in statements:
        db.execute(statement)


def _create_conversations(db: sqlite3.Connection) -> None:
    _run(
        db,
        """CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            instructions TEXT NOT NULL DEFAULT '',
            effort TEXT NOT NULL DEFAULT 'medium',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL DEFAULT '',
            reasoning TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL DEFAULT 'complete',
            effort TEXT,
            model TEXT,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            reasoning_tokens INTEGER,
            seconds REAL,
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX messages_by_conversation ON messages(conversation_id, id)",
    )


def _create_search(db: sqlite3.Connection) -> None:
    _run(
        db,
        """CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, reasoning, content='messages', content_rowid='id', tokenize='unicode61'
        )""",
        "INSERT INTO messages_fts(rowid, content, reasoning) SELECT id, content, reasoning FROM messages",
        """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, content, reasoning) VALUES (new.id, new.content, new.reasoning);
        END""",
        """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content, reasoning)
            VALUES ('delete', old.id, old.content, old.reasoning);
        END""",
        """CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, reasoning ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content, reasoning)
            VALUES ('delete', old.id, old.content, old.reasoning);
            INSERT INTO messages_fts(rowid, content, reasoning) VALUES (new.id, new.content, new.reasoning);
        END""",
    )


def _add_identities_and_settings(db: sqlite3.Connection) -> None:
    """Stable uids (the GUI names rows before the storage thread has written them), settings, undoable delete."""
    _run(
        db,
        "ALTER TABLE conversations ADD COLUMN uid TEXT",
        "ALTER TABLE conversations ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE conversations ADD COLUMN deleted_at REAL",
        "ALTER TABLE messages ADD COLUMN uid TEXT",
        "UPDATE conversations SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL",
        "UPDATE messages SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL",
        "CREATE UNIQUE INDEX conversations_by_uid ON conversations(uid)",
        "CREATE UNIQUE INDEX messages_by_uid ON messages(uid)",
    )


def _create_documents(db: sqlite3.Connection) -> None:
    """Documents dropped into a conversation, their chunks with full-text search, and the sources answers cite."""
    _run(
        db,
        """CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            size_bytes INTEGER NOT NULL DEFAULT 0,
            sha256 TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'indexing' CHECK (status IN ('indexing', 'ready', 'failed')),
            error TEXT,
            chunk_count INTEGER NOT NULL DEFAULT 0,
            chars INTEGER NOT NULL DEFAULT 0,
            added_at REAL NOT NULL
        )""",
        "CREATE INDEX documents_by_conversation ON documents(conversation_id, id)",
        """CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            text TEXT NOT NULL,
            page INTEGER,
            line_start INTEGER,
            line_end INTEGER,
            heading TEXT,
            UNIQUE (document_id, ordinal)
        )""",
        # Porter stems English ("terminated" finds "termination"); "_" and "." stay separators, and the
        # index quotes every term as a phrase, so `chunk_document` finds that name and "chunk" finds it too.
        """CREATE VIRTUAL TABLE chunks_fts USING fts5(
            text, heading, content='chunks', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2'
        )""",
        """CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
        END""",
        """CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
        END""",
        """CREATE TRIGGER chunks_fts_update AFTER UPDATE OF text, heading ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, old.heading);
            INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, new.heading);
        END""",
        # Copied, not referenced: an answer keeps its sources after the document is removed.
        """CREATE TABLE message_sources (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            document_uid TEXT NOT NULL,
            document_name TEXT NOT NULL,
            chunk_ordinal INTEGER NOT NULL,
            page INTEGER,
            line_start INTEGER,
            line_end INTEGER,
            snippet TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (message_id, number)
        )""",
    )


#: Applied in order, each once, recorded by name. Never edit one that has shipped: add another.
def _add_source_anchors(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE message_sources ADD COLUMN anchor TEXT NOT NULL DEFAULT ''")


def _create_chunk_vectors(db: sqlite3.Connection) -> None:
    """Semantic search: each chunk's vector per embedding model (so switching models never mixes them),
    and which documents a model has embedded whole (written in the same transaction as their vectors)."""
    _run(
        db,
        """CREATE TABLE embedding_models (
            id INTEGER PRIMARY KEY,
            identity TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            dimensions INTEGER NOT NULL,
            path TEXT NOT NULL DEFAULT '',
            active INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE chunk_vectors (
            chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
            model_id INTEGER NOT NULL REFERENCES embedding_models(id) ON DELETE CASCADE,
            vector BLOB NOT NULL,
            PRIMARY KEY (chunk_id, model_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE document_embeddings (
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            model_id INTEGER NOT NULL REFERENCES embedding_models(id) ON DELETE CASCADE,
            embedded_at REAL NOT NULL,
            PRIMARY KEY (document_id, model_id)
        )""",
    )


MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = (
    ("0001_conversations_and_messages", _create_conversations),
    ("0002_full_text_search", _create_search),
    ("0003_uids_settings_and_undoable_delete", _add_identities_and_settings),
    ("0004_documents", _create_documents),
    ("0005_source_anchors", _add_source_anchors),
    ("0006_chunk_vectors", _create_chunk_vectors),
)

_CONVERSATION_COLUMNS = "id, uid, title, settings, created_at, updated_at"
_MESSAGE_COLUMNS = (
    "id, uid, conversation_id, role, content, reasoning, state, effort, model, "
    "prompt_tokens, completion_tokens, reasoning_tokens, seconds, created_at"
)


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
    sources: tuple[Source, ...] = ()  # what the answer cited from the conversation's documents


@dataclass(frozen=True)
class MessageStats:
    """What a finished answer cost, stored with it."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    seconds: float


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
        migrations: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = MIGRATIONS,
        recover: bool = True,
    ):
        """Open (creating and migrating as needed). `recover` is for the app's first connection only:
        it labels what the last process left half-done; a second connection (the documents thread)
        must not, or it would mark the answer streaming right now as interrupted."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._use_wal()
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps this crash-safe for the app (not for a power cut)
        self.applied = self._migrate(migrations)
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

    def _migrate(self, migrations: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...]) -> list[str]:
        self._db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
        done = {row[0] for row in self._db.execute("SELECT name FROM migrations")}
        applied = []
        for name, migrate in migrations:
            if name in done:
                continue
            with write_transaction(self._db):
                # Read inside the write lock: another connection opening at the same moment
                # (the storage and documents threads at start) may have just applied it.
                if self._db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue
                migrate(self._db)
                self._db.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
            applied.append(name)
        return applied

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
    ) -> int:
        """Append a turn; an answer starts as `streaming` and is updated as it grows."""
        now = time.time()
        with write_transaction(self._db):
            cursor = self._db.execute(
                "INSERT INTO messages (uid, conversation_id, role, content, state, effort, model, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (uid or new_uid(), conversation_id, role, content, state, effort, model, now),
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
            "reasoning_tokens = ?, seconds = ? WHERE id = ?",
            (
                content,
                reasoning,
                state,
                stats.prompt_tokens,
                stats.completion_tokens,
                stats.reasoning_tokens,
                stats.seconds,
                message_id,
            ),
        )

    def delete_messages_from(self, conversation_id: int, message_id: int) -> int:
        """Drop a message and every later one (regenerate, edit and resend); returns how many went."""
        cursor = self._db.execute(
            "DELETE FROM messages WHERE conversation_id = ? AND id >= ?", (conversation_id, message_id)
        )
        return cursor.rowcount

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
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
        )
        messages = [StoredMessage(*row) for row in rows]
        cited = self._sources_of(conversation_id)
        return [dataclasses.replace(m, sources=cited[m.id]) if m.id in cited else m for m in messages]

    def set_sources(self, message_id: int, sources: Sequence[Source]) -> None:
        """Keep the sources an answer cited with it (they outlive the document's removal)."""
        with write_transaction(self._db):
            self._db.execute("DELETE FROM message_sources WHERE message_id = ?", (message_id,))
            self._db.executemany(
                "INSERT INTO message_sources (message_id, number, document_uid, document_name, chunk_ordinal, "
                "snippet, anchor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (message_id, s.number, s.document_uid, s.document_name, s.chunk_ordinal, s.snippet, s.anchor)
                    for s in sources
                ],
            )

    def _sources_of(self, conversation_id: int) -> dict[int, tuple[Source, ...]]:
        rows = self._db.execute(
            "SELECT s.message_id, s.number, s.document_uid, s.document_name, s.chunk_ordinal, s.anchor, s.snippet "
            "FROM message_sources s JOIN messages m ON m.id = s.message_id WHERE m.conversation_id = ? "
            "ORDER BY s.message_id, s.number",
            (conversation_id,),
        )
        cited: dict[int, list[Source]] = {}
        for message_id, *fields in rows:
            cited.setdefault(message_id, []).append(Source(*fields))
        return {message_id: tuple(sources) for message_id, sources in cited.items()}

    def search(self, text: str, include_reasoning: bool = False, limit: int = 50) -> list[SearchHit]:
        """Messages containing every word of `text` (prefix match on the last one), best first."""
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
            "WHERE messages_fts MATCH ? AND c.deleted_at IS NULL ORDER BY rank LIMIT ?",
            (MATCH_START, MATCH_END, query, limit),
        )
        return [SearchHit(*row) for row in rows]

    def close(self) -> None:
        """Close the connection (the WAL is checkpointed by SQLite)."""
        self._db.close()


def schema_of(path: Path) -> list[str]:
    """The database's schema as SQL, for comparing a migrated database with a new one."""
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'migrations' ORDER BY name")
        return [row[0] for row in rows]
