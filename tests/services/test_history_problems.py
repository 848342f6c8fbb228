"""What the history says when SQLite fails: a full disk is named as such by SQLite's error code, not its wording."""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from pathlib import Path

from gptoss_desktop.services.history_service import problem_message


def full_database_error(path: Path) -> sqlite3.Error:
    """The error SQLite really raises when the database can grow no more (SQLITE_FULL)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE t (x BLOB)")
        db.execute("PRAGMA max_page_count = 4")
        try:
            db.execute("INSERT INTO t VALUES (zeroblob(100000))")
        except sqlite3.Error as exc:
            return exc
    raise AssertionError("SQLite accepted a row larger than the database may grow")


def test_a_full_disk_is_said_plainly(tmp_path: Path) -> None:
    error = full_database_error(tmp_path / "full.db")
    assert error.sqlite_errorcode == sqlite3.SQLITE_FULL
    assert problem_message("save the answer", error) == (
        "Could not save the answer: the disk is full. Free some space; the conversation stays in the window meanwhile."
    )
    no_space = OSError(errno.ENOSPC, "No space left on device")
    assert "the disk is full" in problem_message("open the history", no_space)


def test_other_errors_are_not_taken_for_a_full_disk(tmp_path: Path) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "x.db")) as db:
        try:
            db.execute("SELECT * FROM full_text_index")  # "full" in the message, nothing to do with the disk
        except sqlite3.Error as exc:
            error = exc
    assert problem_message("search", error) == "Could not search: no such table: full_text_index."
