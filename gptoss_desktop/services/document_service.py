"""A conversation's documents, read and indexed on their own thread, so the window never waits for a PDF.

Indexing a long PDF takes seconds; it runs on the "documents" thread with its own
connection to the history database (SQLite in WAL mode lets it write while the storage
thread keeps saving the conversation). Files are added one at a time, in order; each
ends `ready` or `failed` with the reason, and the list is sent again after each.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ..core.cancel import CancelFlag
from ..core.documents.extract import SUPPORTED_SUFFIXES
from ..core.documents.index import StoredDocument
from ..core.documents.ingest import ingest
from ..core.documents.prompting import Source
from ..core.storage import Store
from .threads import ThreadOwner, Worker

#: A dropped folder adds at most this many files (its supported ones, found breadth-first).
MAX_FILES_FROM_FOLDER = 500


def files_in(paths: list[str]) -> Iterator[Path]:
    """Dropped files as they are; dropped folders as the supported files inside them (hidden ones skipped)."""
    for path in map(Path, paths):
        if not path.is_dir():
            yield path
            continue
        found = 0
        for candidate in sorted(path.rglob("*")):
            if any(part.startswith(".") for part in candidate.relative_to(path).parts):
                continue
            if candidate.is_file() and candidate.suffix.lower() in SUPPORTED_SUFFIXES:
                yield candidate
                found += 1
                if found >= MAX_FILES_FROM_FOLDER:
                    break


class DocumentWorker(Worker):
    """Owns a Store connection on the documents thread; every slot runs there."""

    documents_listed = Signal(str, object)  # conversation uid, list[StoredDocument]
    reading = Signal(str, str)  # conversation uid, file name: being read now
    passage_found = Signal(object, str)  # Source, the passage's whole text ("" if the document is gone)
    failed = Signal(str)

    def __init__(self, path: Path, cancel: CancelFlag) -> None:
        super().__init__()
        self._path = path
        self._cancel = cancel
        self._store: Store | None = None

    @Slot()
    def open(self) -> None:
        """Open the database (the storage thread migrates it; opening migrates too if this comes first)."""
        try:
            self._store = Store(self._path, recover=False)  # the storage thread recovers, at start
        except (sqlite3.Error, OSError) as exc:
            self.failed.emit(f"Documents cannot be added: the history at {self._path} cannot be opened ({exc}).")

    @Slot(str, object)
    def add(self, conversation: str, paths: object) -> None:
        """Read and index each file for the conversation, in order; stops early when cancelled."""
        conversation_id = self._conversation_id(conversation)
        if conversation_id is None or self._store is None or not isinstance(paths, list):
            return
        for path in files_in([str(p) for p in paths]):
            if self._cancel.is_set():
                break
            self.reading.emit(conversation, path.name)
            try:
                ingest(self._store.document_index, conversation_id, path, self._cancel)
            except sqlite3.Error as exc:
                self.failed.emit(f"Could not add {path.name}: {exc}.")
            self.list(conversation)
        self.reading.emit(conversation, "")

    @Slot(str)
    def list(self, conversation: str) -> None:
        """Emit the conversation's documents (none for a conversation not saved yet)."""
        conversation_id = self._conversation_id(conversation)
        if self._store is not None:
            documents = [] if conversation_id is None else self._store.document_index.documents(conversation_id)
            self.documents_listed.emit(conversation, documents)

    @Slot(str, str)
    def remove(self, conversation: str, document: str) -> None:
        """Take a document out of the conversation (answers keep the sources they cited)."""
        if self._store is not None:
            try:
                self._store.document_index.remove(document)
            except sqlite3.Error as exc:
                self.failed.emit(f"Could not remove the document: {exc}.")
            self.list(conversation)

    @Slot(object)
    def find_passage(self, source: object) -> None:
        """The whole passage a cited source points to, for the viewer."""
        if self._store is None or not isinstance(source, Source):
            return
        try:
            chunks = self._store.document_index.chunks(source.document_uid)
        except sqlite3.Error as exc:
            self.failed.emit(f"Could not read the passage: {exc}.")
            return
        text = next((chunk.text for chunk in chunks if chunk.ordinal == source.chunk_ordinal), "")
        self.passage_found.emit(source, text)

    def _conversation_id(self, uid: str) -> int | None:
        return self._store.conversation_id(uid) if self._store is not None and uid else None

    def release(self) -> None:
        """Close the connection on the thread that opened it."""
        if self._store is not None:
            self._store.close()
            self._store = None


class DocumentService(ThreadOwner):
    """The GUI thread's handle on documents. Every method runs on the GUI thread and returns at once."""

    documents_listed = Signal(str, object)  # conversation uid, list[StoredDocument]
    reading = Signal(str, str)  # conversation uid, file name ("" when done)
    passage_found = Signal(object, str)  # Source, the passage's text ("" if its document was removed)
    failed = Signal(str)

    _open_requested = Signal()
    _passage_requested = Signal(object)
    _add_requested = Signal(str, object)
    _list_requested = Signal(str)
    _remove_requested = Signal(str, str)

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        self._cancel = CancelFlag()
        self._worker = DocumentWorker(path, self._cancel)
        super().__init__(self._worker, "documents", parent)
        worker = self._worker
        pairs = (
            (self._open_requested, worker.open),
            (self._add_requested, worker.add),
            (self._list_requested, worker.list),
            (self._remove_requested, worker.remove),
            (self._passage_requested, worker.find_passage),
            (worker.passage_found, self.passage_found),
            (worker.documents_listed, self.documents_listed),
            (worker.reading, self.reading),
            (worker.failed, self.failed),
        )
        for signal, slot in pairs:
            signal.connect(slot)
        self._open_requested.emit()

    def add(self, conversation: str, paths: list[str]) -> None:
        """Add files (or folders of them) to a saved conversation."""
        self._add_requested.emit(conversation, list(paths))

    def list(self, conversation: str) -> None:
        """Ask for the conversation's documents (answered by `documents_listed`)."""
        self._list_requested.emit(conversation)

    def remove(self, conversation: str, document: str) -> None:
        """Take a document out of the conversation."""
        self._remove_requested.emit(conversation, document)

    def find_passage(self, source: Source) -> None:
        """Look up the whole passage of a cited source (answered by `passage_found`)."""
        self._passage_requested.emit(source)

    def stop_work(self) -> None:
        """Stop reading files: the one being read is left out whole, the rest are not started."""
        self._cancel.set()


__all__ = ["DocumentService", "DocumentWorker", "StoredDocument", "files_in"]
