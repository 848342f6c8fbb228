"""Documents read on their own thread: listed with their status, removable, and the thread ends cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.storage import Store
from gptoss_desktop.services.document_service import MAX_FILES_FROM_FOLDER, DocumentService, StoredDocument, files_in
from tests.fixtures.documents import write_encrypted_pdf, write_pdf


@pytest.fixture
def conversation(tmp_path: Path) -> str:
    """A saved conversation's uid, in a history database the storage thread would also use."""
    store = Store(tmp_path / "history.db")
    record = store.conversation(store.create_conversation("lease"))
    store.close()
    assert record is not None
    return record.uid


@pytest.fixture
def service(qtbot: QtBot, tmp_path: Path) -> Iterator[DocumentService]:
    service = DocumentService(tmp_path / "history.db")
    yield service
    assert service.shutdown(5000)


def statuses(documents: list[StoredDocument]) -> list[tuple[str, str, str | None]]:
    return [(d.name, d.status, d.error) for d in documents]


def test_files_are_read_in_order_and_listed_with_their_status(
    service: DocumentService, conversation: str, qtbot: QtBot, tmp_path: Path
) -> None:
    lease = write_pdf(tmp_path / "lease.pdf", ["Parties.", "The rent is 900 euros a month."])
    locked = write_encrypted_pdf(tmp_path / "locked.pdf", ["secret"])
    listed: list[list[StoredDocument]] = []
    reading: list[str] = []
    service.documents_listed.connect(lambda _uid, documents: listed.append(documents))
    service.reading.connect(lambda _uid, name: reading.append(name))
    service.add(conversation, [str(lease), str(locked)])
    qtbot.waitUntil(lambda: reading[-1:] == [""], timeout=20_000)
    assert reading == ["lease.pdf", "locked.pdf", ""]
    final = statuses(listed[-1])
    assert final[0] == ("lease.pdf", "ready", None)
    assert final[1][:2] == ("locked.pdf", "failed") and "password-protected" in str(final[1][2])

    with qtbot.waitSignal(service.documents_listed, timeout=5_000) as after:
        service.remove(conversation, listed[-1][0].uid)
    assert [d.name for d in after.args[1]] == ["locked.pdf"]


def test_a_dropped_folder_adds_the_files_it_can_read(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    (folder / "letters").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "letters" / "a.md").write_text("# A")
    (folder / "notes.txt").write_text("notes")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8")
    (folder / ".git" / "config.txt").write_text("hidden")
    single = tmp_path / "single.pdf"
    found = [p.relative_to(tmp_path).as_posix() for p in files_in([str(folder), str(single)])]
    assert found == ["case/letters/a.md", "case/notes.txt", "single.pdf"]
    assert MAX_FILES_FROM_FOLDER == 500


def test_an_unsaved_conversation_lists_no_documents(service: DocumentService, qtbot: QtBot) -> None:
    with qtbot.waitSignal(service.documents_listed, timeout=5_000) as listed:
        service.list("")
    assert listed.args == ["", []]


def test_shutdown_stops_a_long_list_of_files(
    service: DocumentService, conversation: str, qtbot: QtBot, tmp_path: Path
) -> None:
    files = [str(write_pdf(tmp_path / f"part{n}.pdf", [f"Page {p}" for p in range(200)])) for n in range(20)]
    with qtbot.waitSignal(service.reading, timeout=20_000):
        service.add(conversation, files)
    assert service.shutdown(5000)  # the file being read is dropped whole; the others never start
    store = Store(tmp_path / "history.db")
    try:
        conversation_id = store.conversation_id(conversation)
        assert conversation_id is not None
        documents = store.document_index.documents(conversation_id)
    finally:
        store.close()
    assert len(documents) < 20 and all(d.status == "ready" for d in documents)
