"""Documents read on their own thread: listed with their status, removable, and the thread ends cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gptoss_desktop.core.documents.embeddings import BATCH_TEXTS
from gptoss_desktop.core.history.store import Store
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
    reading: list[tuple[str, int, int]] = []
    service.documents_listed.connect(lambda _uid, documents: listed.append(documents))
    service.reading.connect(lambda _uid, name, number, count: reading.append((name, number, count)))
    service.add(conversation, [str(lease), str(locked)])
    qtbot.waitUntil(lambda: reading[-1:] == [("", 0, 0)], timeout=20_000)
    assert reading == [("lease.pdf", 1, 2), ("locked.pdf", 2, 2), ("", 0, 0)]  # each file as n of all
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


# --- semantic search: the embedding model on the documents thread -------------------------------------


def pending_and_active(path: Path) -> tuple[list[str], str | None]:
    """What a later start would find: documents still to embed for the active model, and its name."""
    store = Store(path, recover=False)
    try:
        vectors = store.document_index.vectors
        active = vectors.active()
        return (vectors.pending(active.id) if active else []), (active.name if active else None)
    finally:
        store.close()


def test_documents_added_before_and_after_the_model_is_set_are_embedded(
    service: DocumentService, conversation: str, qtbot: QtBot, tmp_path: Path, minilm_model: Path
) -> None:
    before = tmp_path / "lease.md"
    before.write_text("# Ending\nEither party may terminate this tenancy with three months' notice.\n")
    after = tmp_path / "rent.md"
    after.write_text("# Rent\nThe rent is 900 euros, paid on the first day of each month.\n")
    embedded: list[tuple[str, str]] = []
    service.document_embedded.connect(lambda uid, document: embedded.append((uid, document)))
    with qtbot.waitSignal(service.reading, timeout=20_000, check_params_cb=lambda _uid, name, _n, _count: name == ""):
        service.add(conversation, [str(before)])

    with qtbot.waitSignal(service.embedding_model_set, timeout=20_000) as chosen:
        service.set_embedding_model(str(minilm_model))
    assert chosen.args == ["all-MiniLM-L6-v2"]
    qtbot.waitUntil(lambda: len(embedded) == 1, timeout=20_000)  # the document added before: lazily
    with qtbot.waitSignal(service.documents_listed, timeout=20_000):
        service.add(conversation, [str(after)])
    qtbot.waitUntil(lambda: len(embedded) == 2, timeout=20_000)  # the new one: right after it is read
    assert {uid for uid, _document in embedded} == {conversation}
    assert pending_and_active(tmp_path / "history.db") == ([], "all-MiniLM-L6-v2")

    with qtbot.waitSignal(service.embedding_model_set, timeout=20_000) as off:
        service.set_embedding_model(None)
    assert off.args == [""]
    assert pending_and_active(tmp_path / "history.db") == ([], None)


def test_a_chat_model_set_as_the_embedding_model_is_refused_with_a_reason(
    service: DocumentService, conversation: str, qtbot: QtBot, tmp_path: Path, trained_model: Path
) -> None:
    problems: list[str] = []
    service.failed.connect(problems.append)
    with qtbot.waitSignal(service.embedding_model_set, timeout=20_000) as chosen:
        service.set_embedding_model(str(trained_model))
    assert chosen.args == [""]
    assert len(problems) == 1 and "not an embedding model" in problems[0]
    assert "still searched by their words" in problems[0]
    assert pending_and_active(tmp_path / "history.db") == ([], None)


def test_shutdown_stops_embedding_within_a_batch_and_keeps_the_document_searchable(
    service: DocumentService, conversation: str, qtbot: QtBot, tmp_path: Path, minilm_model: Path
) -> None:
    sentence = "The tenant shall keep the premises in good repair and return them in the same condition. "
    long = tmp_path / "long.txt"
    long.write_text("\n\n".join(f"Clause {n}. " + sentence * 12 for n in range(150)))  # ~150 passages, ~30 s
    with qtbot.waitSignal(service.reading, timeout=20_000, check_params_cb=lambda _uid, name, _n, _count: name == ""):
        service.add(conversation, [str(long)])
    embedded: list[str] = []
    service.document_embedded.connect(lambda _uid, document: embedded.append(document))
    with qtbot.waitSignal(service.embedding_progressed, timeout=20_000) as started:
        service.set_embedding_model(str(minilm_model))
    done, total = started.args[1:]
    assert done == BATCH_TEXTS and total > 100  # one batch of the long document is embedded, the rest to come
    assert service.shutdown(5000)  # within one batch of passages, not after the whole document (~30 s)
    assert embedded == []
    pending, active = pending_and_active(tmp_path / "history.db")
    assert len(pending) == 1 and active == "all-MiniLM-L6-v2"  # embedded again at the next start
    store = Store(tmp_path / "history.db", recover=False)
    try:
        conversation_id = store.conversation_id(conversation)
        assert conversation_id is not None
        assert store.document_index.search(conversation_id, "Clause 149 repair", 1)[0].document_name == "long.txt"
    finally:
        store.close()
