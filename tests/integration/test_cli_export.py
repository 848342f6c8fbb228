"""`gptoss-desktop --home DIR export` as a person runs it: a real process reading a database made here."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from gptoss_desktop.core.history.store import Store


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gptoss_desktop", "--home", str(home), "export", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home (not the tests' default one, so --home is what finds it) with two conversations."""
    home = tmp_path / "elsewhere"
    store = Store(home / "data" / "conversations.db")
    try:
        first = store.create_conversation("Lakes")
        store.add_message(first, "user", "## A haiku about lakes, ünïcödé")
        answer = store.add_message(first, "assistant", state="streaming", effort="high", model="gpt-oss-20b")
        store.update_message(answer, content="Still water lies.", reasoning="Think of calm.", state="stopped")
        second = store.create_conversation("Rivers")
        store.add_message(second, "user", "And rivers?")
        hidden = store.create_conversation("Deleted, awaiting undo")
        store.delete_conversation(hidden)
    finally:
        store.close()
    return home


def test_markdown_on_stdout(home: Path) -> None:
    result = cli(home, "1", "--format", "md")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("# Lakes\n")
    assert "```text\n## A haiku about lakes, ünïcödé\n```" in result.stdout
    assert "## Assistant · gpt-oss-20b · high effort" in result.stdout
    assert "Still water lies.\n\n*(stopped)*\n" in result.stdout
    assert "Think of calm" not in result.stdout
    with_reasoning = cli(home, "1", "--reasoning")  # md is the default
    assert "<summary>Reasoning</summary>\n\n```text\nThink of calm.\n```" in with_reasoning.stdout


def test_json_on_stdout_and_into_a_file(home: Path, tmp_path: Path) -> None:
    result = cli(home, "1", "--format", "json", "--reasoning")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["title"] == "Lakes"
    assert [(m["role"], m.get("reasoning")) for m in document["messages"]] == [
        ("user", ""),
        ("assistant", "Think of calm."),
    ]
    target = tmp_path / "lakes.json"
    target.write_text("an older export")
    written = cli(home, "1", "--format", "json", "--reasoning", "-o", str(target))
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert target.read_text(encoding="utf-8") == result.stdout


def test_list_shows_ids_newest_first_and_changes_nothing(home: Path) -> None:
    database = home / "data" / "conversations.db"
    before = database.read_bytes()
    result = cli(home, "--list")
    assert result.returncode == 0, result.stderr
    rows = [line.split(None, 3) for line in result.stdout.splitlines()]
    assert [(row[0], row[3]) for row in rows] == [("2", "Rivers"), ("1", "Lakes")]  # the deleted one is hidden
    # A running window's pending undo survives: the export read a snapshot, not the database.
    assert database.read_bytes() == before
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT count(*) FROM conversations WHERE deleted_at IS NOT NULL").fetchone() == (1,)


def test_unknown_id_and_missing_database_fail_with_a_message(home: Path, tmp_path: Path) -> None:
    unknown = cli(home, "99")
    assert unknown.returncode == 1
    assert unknown.stdout == ""
    assert unknown.stderr == "gptoss-desktop: No conversation with id 99. `gptoss-desktop export --list` shows them.\n"
    empty = cli(tmp_path / "new-home", "1", "--format", "json")
    assert empty.returncode == 1
    assert "No conversations yet" in empty.stderr and "Traceback" not in empty.stderr
    assert not (tmp_path / "new-home").exists()  # looking created nothing
    damaged = tmp_path / "damaged"
    (damaged / "data").mkdir(parents=True)
    (damaged / "data" / "conversations.db").write_text("not a database")
    broken = cli(damaged, "1")
    assert broken.returncode == 1
    assert "Could not read the conversations" in broken.stderr and "Traceback" not in broken.stderr


def test_output_that_cannot_be_written_fails_with_a_message(home: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = cli(home, "1", "-o", str(tmp_path / "a-file" / "out.md"))
    assert result.returncode == 1
    assert result.stderr.startswith("gptoss-desktop: Could not write out.md: ")


def test_export_while_the_window_has_the_database_open(home: Path) -> None:
    """The write-ahead log's latest is exported; the window's streaming answer and pending undo are left alone."""
    store = Store(home / "data" / "conversations.db")  # the window's
    try:
        live = store.create_conversation("Live")
        store.add_message(live, "user", "Count to three.")
        answer = store.add_message(live, "assistant", state="streaming")
        store.update_message(answer, content="One, two", reasoning="", state="streaming")
        store.delete_conversation(1)  # "Lakes", with Undo still on offer
        result = cli(home, str(live))
        assert result.returncode == 0, result.stderr
        assert "One, two\n\n*(still being written when exported)*" in result.stdout
        assert store.messages(live)[-1].state == "streaming"
        store.restore_conversation(1)
        assert [c.title for c in store.conversations()] == ["Live", "Rivers", "Lakes"]
    finally:
        store.close()
