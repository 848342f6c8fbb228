"""A history that can only be read: a read-only file, folder or disk (a backup mounted read-only, a
profile copied from another machine, permissions changed). The person still sees, searches and exports
their conversations; every change fails with SQLite's "readonly" error, which the services say plainly.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from pathlib import Path

from .migrations import Migration


def writable(path: Path) -> bool:
    """Whether SQLite can write the database: the file, and its folder (WAL keeps files beside it)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def open_read_only(path: Path) -> sqlite3.Connection:
    """`path` for reading only. A WAL database needs its -shm file, which a read-only folder may not let
    SQLite create: then it is opened as immutable (nothing else can be writing a file no one may write)."""
    uri = f"file:{urllib.parse.quote(str(path.absolute()))}"
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        db.close()
        db = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return db


def check_schema_readable(db: sqlite3.Connection, migrations: tuple[Migration, ...]) -> None:
    """A read-only database cannot be migrated: one an older version left is read only when it needs nothing."""
    try:
        done = {row[0] for row in db.execute("SELECT name FROM migrations")}
    except sqlite3.OperationalError:
        done = set()
    missing = [name for name, _ in migrations if name not in done]
    if missing:
        db.close()
        raise sqlite3.OperationalError(
            "the database is read-only and was written by an older version of the app, so it cannot be updated "
            "to be read; make it writable"
        )
