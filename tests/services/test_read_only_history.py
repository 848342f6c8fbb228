"""A history that can only be read (a read-only disk, folder or file): the conversations are still shown,
searched and exported, the person is told plainly that nothing new is saved, and no other message
(semantic search, documents) hides that one.

The database is made read-only for real: as root (whom permissions do not stop) a read-only bind mount
in a private mount namespace; otherwise the file's and folder's permissions. Each check runs in a child
process inside that view of the disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gptoss_desktop.core.history.store import Store

CHILD = """
import json, sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.services.document_service import DocumentWorker
from gptoss_desktop.services.history_service import HistoryWorker

app = QCoreApplication([])
database = Path(sys.argv[1])
said, listed, found = [], [], []
history = HistoryWorker(database)
history.failed.connect(said.append)
history.conversations_listed.connect(lambda rows: listed.extend(r.title for r in rows))
history.search_finished.connect(lambda _, hits: found.extend(hits))
documents = DocumentWorker(database, CancelFlag())
documents.failed.connect(said.append)
history.open()
documents.open()
documents.set_embedding_model("", CancelFlag())
history.search(1, "notice", False)
history.create("new-conversation", "Written now", "{}")
documents.add("new-conversation", [sys.argv[0]])
print(json.dumps({"said": said, "listed": listed, "found": len(found)}))
"""


def read_only_run(folder: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run `argv` where `folder` (holding the database) cannot be written."""
    if os.geteuid() == 0:
        if shutil.which("unshare") is None:
            pytest.fail("running as root, a read-only history needs unshare(1) for a private read-only mount")
        mount = f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}'"
        command = ["unshare", "-m", "sh", "-c", f'{mount} && exec "$0" "$@"', *argv]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    finally:
        folder.chmod(0o755)


def stored_history(home: Path) -> Path:
    """A history with one conversation and its answer, as the app left it (WAL files and all)."""
    database = home / "data" / "conversations.db"
    store = Store(database)
    conversation = store.create_conversation(title="Lease questions")
    store.add_message(conversation, "user", "When can I give notice?")
    store.close()
    return database


def test_a_read_only_history_is_shown_and_says_why_nothing_is_saved(tmp_path: Path) -> None:
    database = stored_history(tmp_path / "home")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    done = read_only_run(database.parent, [sys.executable, str(script), str(database)])
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["listed"] == ["Lease questions"]  # the history is there to read
    assert result["found"] == 1  # and to search
    first, *then = result["said"]
    assert first == (
        f"The conversation history at {database} is read-only: you can read, search and export it, "
        "but new conversations and answers will not be saved in this session."
    )
    assert then == [
        "Could not save the new conversation: the history is read-only, so nothing new is saved; "
        "the conversation stays in the window meanwhile.",
        "Documents cannot be added: the conversation history is read-only.",
    ]
    assert not [line for line in done.stderr.splitlines() if line.strip()]


def test_a_read_only_history_exports(tmp_path: Path) -> None:
    home = tmp_path / "home"
    database = stored_history(home)
    program = [sys.executable, "-m", "gptoss_desktop", "--home", str(home), "export"]
    listed = read_only_run(database.parent, [*program, "--list"])
    assert listed.returncode == 0, listed.stderr
    assert "Lease questions" in listed.stdout
    exported = read_only_run(database.parent, [*program, "1"])
    assert exported.returncode == 0, exported.stderr
    assert "When can I give notice?" in exported.stdout
