"""The history database's schema, as named migrations recorded in the database and applied in order.

A migration is never edited once released: a change to the schema is a new migration, so a
database of any earlier version reaches the current schema the same way a new one does.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from ..sqlite_transaction import write_transaction

Migration = tuple[str, Callable[[sqlite3.Connection], None]]


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


def _create_api_responses(db: sqlite3.Connection) -> None:
    """Replies of the local API's Responses endpoint, so a client can go on with previous_response_id:
    the conversation up to and including each reply (JSON), and the reply as the client got it."""
    _run(
        db,
        """CREATE TABLE api_responses (
            id TEXT PRIMARY KEY,
            previous_id TEXT,
            model TEXT NOT NULL,
            conversation TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at REAL NOT NULL
        )""",
    )


def _add_answer_versions(db: sqlite3.Connection) -> None:
    """Regenerate and edit keep what they replace: each message names the one it follows (its versions share
    it), and `chosen_at` says which version was shown last. Existing conversations become one line each."""
    _run(
        db,
        "ALTER TABLE messages ADD COLUMN parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE",
        "ALTER TABLE messages ADD COLUMN chosen_at REAL",
        """UPDATE messages SET parent_id = (
            SELECT max(earlier.id) FROM messages earlier
            WHERE earlier.conversation_id = messages.conversation_id AND earlier.id < messages.id
        )""",
        "UPDATE messages SET chosen_at = created_at",
        "CREATE INDEX messages_by_parent ON messages(parent_id)",
    )


def _add_answer_details(db: sqlite3.Connection) -> None:
    """What the window shows about an answer after a restart: how long it reasoned, the exact prompt it got
    (compressed), and whether a listed source was cited or only given to the model."""
    _run(
        db,
        "ALTER TABLE messages ADD COLUMN reasoning_seconds REAL",
        "ALTER TABLE messages ADD COLUMN prompt BLOB",
        "ALTER TABLE message_sources ADD COLUMN cited INTEGER NOT NULL DEFAULT 1",
    )


def _create_tool_steps(db: sqlite3.Connection) -> None:
    """An answer's tool steps (issue 15): each call and its result, in order, with the length the answer's
    reasoning had when it was made (so reasoning and steps show in the order they happened), and the files
    the call wrote (JSON: name, path, size)."""
    _run(
        db,
        """CREATE TABLE tool_steps (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            reasoning_offset INTEGER NOT NULL DEFAULT 0,
            recipient TEXT NOT NULL,
            arguments TEXT NOT NULL DEFAULT '',
            summary TEXT NOT NULL DEFAULT '',
            output TEXT NOT NULL DEFAULT '',
            model_text TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'done',
            seconds REAL NOT NULL DEFAULT 0,
            files TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (message_id, ordinal)
        )""",
    )


def _create_answer_adapters(db: sqlite3.Connection) -> None:
    """The LoRA adapters an answer was written with (issue 21), in the order its request named them: the
    adapter's name and file, and the scale it was applied at. The base model is the message's `model`."""
    _run(
        db,
        """CREATE TABLE answer_adapters (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            name TEXT NOT NULL,
            path TEXT NOT NULL DEFAULT '',
            scale REAL NOT NULL,
            PRIMARY KEY (message_id, ordinal)
        )""",
    )


def _create_answer_citations(db: sqlite3.Connection) -> None:
    """What a browsed answer cites (issue 16), in the answer's order: where the mark is in the answer, the
    cursor and lines as the model wrote them, and when verified the document (copied, so it outlives the
    document's removal), its PDF page, the file's own lines and the cited text."""
    _run(
        db,
        """CREATE TABLE answer_citations (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            mark_start INTEGER NOT NULL,
            mark_end INTEGER NOT NULL,
            cursor INTEGER NOT NULL,
            first_line INTEGER NOT NULL,
            last_line INTEGER NOT NULL,
            verified INTEGER NOT NULL DEFAULT 0,
            document_uid TEXT,
            document_name TEXT,
            page INTEGER,
            file_first_line INTEGER,
            file_last_line INTEGER,
            quote TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (message_id, ordinal)
        )""",
    )


MIGRATIONS: tuple[Migration, ...] = (
    ("0001_conversations_and_messages", _create_conversations),
    ("0002_full_text_search", _create_search),
    ("0003_uids_settings_and_undoable_delete", _add_identities_and_settings),
    ("0004_documents", _create_documents),
    ("0005_source_anchors", _add_source_anchors),
    ("0006_chunk_vectors", _create_chunk_vectors),
    ("0007_api_responses", _create_api_responses),
    ("0008_answer_versions", _add_answer_versions),
    ("0009_answer_details", _add_answer_details),
    ("0010_tool_steps", _create_tool_steps),
    ("0011_answer_adapters", _create_answer_adapters),
    ("0012_citations", _create_answer_citations),
)


def migrate(db: sqlite3.Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[str]:
    """Apply the migrations `db` has not recorded yet, each in its own write transaction; their names."""
    db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM migrations")}
    applied = []
    for name, step in migrations:
        if name in done:
            continue
        with write_transaction(db):
            # Read inside the write lock: another connection opening at the same moment
            # (the storage and documents threads at start) may have just applied it.
            if db.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                continue
            step(db)
            db.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
        applied.append(name)
    return applied


def schema_of(path: Path) -> list[str]:
    """The database's schema as SQL, for comparing a migrated database with a new one."""
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name != 'migrations' ORDER BY name")
        return [row[0] for row in rows]
