"""Adding files to a conversation on real SQLite: ready and searchable, or failed with the reason, never half."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gptoss_desktop.core.cancel import CancelFlag
from gptoss_desktop.core.documents.ingest import ingest
from gptoss_desktop.core.history.store import Store
from tests.fixtures.documents import write_encrypted_pdf, write_image_pdf, write_pdf, write_zip_bomb


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "history.db")
    yield store  # type: ignore[misc]
    store.close()


def test_a_pdf_is_indexed_with_its_pages(store: Store, tmp_path: Path) -> None:
    conversation = store.create_conversation("lease")
    pdf = write_pdf(tmp_path / "lease.pdf", ["Parties and premises.", "The rent is 900 euros a month.", ""])
    document = ingest(store.document_index, conversation, pdf)
    assert document is not None and document.status == "ready" and document.error is None
    assert document.sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    [best, *_] = store.document_index.search(conversation, "How much is the rent?")
    assert (best.document_name, best.chunk.anchor) == ("lease.pdf", "page 2")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda folder: write_encrypted_pdf(folder / "locked.pdf", ["secret"]), "password-protected"),
        (lambda folder: write_image_pdf(folder / "scan.pdf"), "no text layer"),
        (lambda folder: write_zip_bomb(folder / "bomb.docx"), "zip bomb"),
        (lambda folder: folder / "gone.txt", "was not found"),
    ],
)
def test_a_bad_file_is_listed_as_failed_with_why_and_is_never_searched(
    store: Store, tmp_path: Path, make: object, reason: str
) -> None:
    conversation = store.create_conversation("files")
    path = make(tmp_path)  # type: ignore[operator]
    document = ingest(store.document_index, conversation, path)
    assert document is not None and document.status == "failed"
    assert reason in (document.error or "")
    assert store.document_index.all_passages(conversation) == []


def test_a_file_over_the_limit_is_refused_without_being_read(store: Store, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as file:
        file.truncate(512_000_000)  # sparse
    document = ingest(store.document_index, store.create_conversation("big"), huge)
    assert document is not None and document.error == "huge.txt is 512 MB; the limit is 200 MB"


def test_a_stopped_ingest_leaves_nothing_behind(store: Store, tmp_path: Path) -> None:
    conversation = store.create_conversation("stop")
    pdf = write_pdf(tmp_path / "long.pdf", [f"Page {n} text." for n in range(40)])
    stop = CancelFlag()
    stop.set()
    assert ingest(store.document_index, conversation, pdf, stop) is None
    assert store.document_index.documents(conversation) == []
