"""`gptoss-desktop export`: a saved conversation as Markdown or JSON, and `--list` to find its id.

Reads a snapshot of the database, never the database itself: opening a Store tidies up at start
(partial answers marked interrupted, deletes awaiting undo made final), which must not happen
under a running window.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from contextlib import closing
from datetime import datetime
from pathlib import Path

from ..core.history.export import FORMATS, ExportError, export_text, write_export
from ..core.history.read_only import open_read_only
from ..core.history.store import Store
from ..core.paths import app_paths
from .terminal import clean

NO_DATABASE = "No conversations yet: there is no database at {path}."


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`export`: its options."""
    export = commands.add_parser("export", help="print or save a conversation as Markdown or JSON")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "conversation_id", nargs="?", type=_conversation_id, metavar="CONVERSATION_ID", help="see --list"
    )
    which.add_argument("--list", action="store_true", help="list conversations, newest first: id, updated, title")
    export.add_argument("--format", choices=FORMATS, default="md", help="md (default) or json")
    export.add_argument("--reasoning", action="store_true", help="include the model's reasoning")
    export.add_argument("-o", "--output", metavar="FILE", help="write FILE (replaced only once complete), not stdout")


def _conversation_id(text: str) -> int:
    """A conversation id as SQLite stores them (a positive 64-bit integer)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a conversation id (a number; see --list)") from None
    if not 0 < value < 2**63:
        raise argparse.ArgumentTypeError(f"{text} is not a conversation id (see --list)")
    return value


def run(args: argparse.Namespace) -> int:
    """Print or write one conversation, or list them all; exit 1 with a message when it cannot."""
    database = app_paths().database
    if not database.is_file():
        print(f"gptoss-desktop: {NO_DATABASE.format(path=database)}", file=sys.stderr)
        return 0 if args.list else 1
    try:
        with tempfile.TemporaryDirectory(prefix="gptoss-export-") as folder:
            store = _snapshot(database, Path(folder))
            try:
                return _list(store) if args.list else _export(store, args)
            finally:
                store.close()
    except sqlite3.Error as exc:
        return _fail(f"Could not read the conversations in {database}: {exc}")
    except ExportError as exc:
        return _fail(str(exc))


def _snapshot(database: Path, folder: Path) -> Store:
    """A private, consistent copy of the database (read-only on the original), opened as a Store."""
    copy = folder / database.name
    source = open_read_only(database.resolve())  # on a read-only disk too
    with closing(source), closing(sqlite3.connect(copy)) as target:
        source.backup(target)
        live = target.execute("SELECT id FROM messages WHERE state = 'streaming'").fetchall()
    store = Store(copy)
    # Store's start-up calls these interrupted, as they would be after a crash; here a window is writing them.
    with closing(sqlite3.connect(copy)) as db, db:
        db.executemany("UPDATE messages SET state = 'streaming' WHERE id = ?", live)
    return store


def _export(store: Store, args: argparse.Namespace) -> int:
    conversation = store.conversation(args.conversation_id)
    if conversation is None:
        return _fail(f"No conversation with id {args.conversation_id}. `gptoss-desktop export --list` shows them.")
    text = export_text(conversation, store.messages(conversation.id), args.format, args.reasoning)
    if args.output:
        write_export(Path(args.output), text)
        return 0
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))  # UTF-8 whatever the locale: it is a file format
    sys.stdout.buffer.flush()
    return 0


def _list(store: Store) -> int:
    """One line per conversation, newest first: id, when it last changed (local time), title."""
    conversations = store.conversations()
    if not conversations:
        print("gptoss-desktop: No conversations yet.", file=sys.stderr)
    for conversation in conversations:
        updated = datetime.fromtimestamp(conversation.updated_at).strftime("%Y-%m-%d %H:%M")
        print(f"{conversation.id:>4}  {updated}  {clean(' '.join(conversation.title.split())) or '(untitled)'}")
    return 0


def _fail(message: str) -> int:
    print(f"gptoss-desktop: {clean(message)}", file=sys.stderr)
    return 1
