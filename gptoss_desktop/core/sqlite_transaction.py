"""One write transaction on an autocommit SQLite connection, shared by the stores that use it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def write_transaction(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE (takes the write lock at once, so it cannot fail half-way for a lock), then
    COMMIT, or ROLLBACK on any exception: all of it is written or none."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
