"""A conversation's documents, read and indexed on their own thread, so the window never waits for a PDF.

Indexing a long PDF takes seconds; it runs on the "documents" thread with its own
connection to the history database (SQLite in WAL mode lets it write while the storage
thread keeps saving the conversation). Files are added one at a time, in order; each
ends `ready` or `failed` with the reason, and the list is sent again after each.

With an embedding model set, this thread also embeds the passages of every ready document
the model has not embedded yet (new ones, and those added before the model was set), one
document per turn of its event loop, so adding a file never waits behind a long backlog.
A document is searchable by its words as soon as it is ready; by meaning once embedded.
The engine thread embeds questions with its own Embedder: one llama.cpp context is never
shared by two threads.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..core.cancel import CancelFlag
from ..core.documents.cited import CitedPassage, cited_passage
from ..core.documents.embeddings import Embedder, EmbeddingModelError
from ..core.documents.extract import SUPPORTED_SUFFIXES
from ..core.documents.index import StoredDocument
from ..core.documents.ingest import ingest
from ..core.documents.prompting import Source
from ..core.events import Citation
from ..core.history.store import Store
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


class _Either:
    """Set when either flag is: the app shutting down, or this embedding model being replaced."""

    def __init__(self, *flags: CancelFlag) -> None:
        self._flags = flags

    def is_set(self) -> bool:
        return any(flag.is_set() for flag in self._flags)


class DocumentWorker(Worker):
    """Owns a Store connection (and the passages' Embedder) on the documents thread; every slot runs there."""

    documents_listed = Signal(str, list)  # conversation uid, list[StoredDocument]
    reading = Signal(str, str, int, int)  # conversation uid, file being read now, its number, files in all
    passage_found = Signal(Source, str)  # Source, the passage's whole text ("" if the document is gone)
    citation_found = Signal(object, object)  # Citation, CitedPassage (its text "" if the document is gone)
    failed = Signal(str)
    embedding_model_set = Signal(str)  # the model's name, "" when semantic search is off
    document_embedded = Signal(str, str)  # conversation uid, document uid: found by meaning from now on
    embedding_progressed = Signal(str, int, int)  # document uid, passages embedded, passages in all

    def __init__(self, path: Path, cancel: CancelFlag) -> None:
        super().__init__()
        self._path = path
        self._cancel = cancel
        self._store: Store | None = None
        self._embedder: Embedder | None = None
        self._model_id: int | None = None
        self._embedding_cancel = CancelFlag()
        self._embedding_queued = False
        self._skipped: set[str] = set()  # documents that changed while embedded: not retried in a loop

    def open(self) -> None:
        """Open the database (the storage thread migrates it; opening migrates too if this comes first)."""
        try:
            self._store = Store(self._path, recover=False)  # the storage thread recovers, at start
        except (sqlite3.Error, OSError) as exc:
            self.failed.emit(f"Documents cannot be added: the history at {self._path} cannot be opened ({exc}).")

    def add(self, conversation: str, paths: list[str]) -> None:
        """Read and index each file for the conversation, in order; stops early when cancelled."""
        if self._store is not None and self._store.read_only:
            self.failed.emit("Documents cannot be added: the conversation history is read-only.")
            return
        conversation_id = self._conversation_id(conversation)
        if conversation_id is None or self._store is None:
            return
        files = list(files_in([str(p) for p in paths]))  # counted first, for the progress bar
        for number, path in enumerate(files, 1):
            if self._cancel.is_set():
                break
            self.reading.emit(conversation, path.name, number, len(files))
            try:
                ingest(self._store.document_index, conversation_id, path, self._cancel)
            except sqlite3.Error as exc:
                self.failed.emit(f"Could not add {path.name}: {exc}.")
            self.list(conversation)
        self.reading.emit(conversation, "", 0, 0)
        self._queue_embedding()

    def set_embedding_model(self, path: str, cancel: CancelFlag) -> None:
        """Load the embedding model at `path` ("" for none), make it the one questions use, and embed
        what it has not embedded yet; a file that is no embedding model is reported and leaves search
        to the words."""
        self._close_embedder()
        self._embedding_cancel = cancel
        self._skipped.clear()
        if self._store is None or self._store.read_only:  # a read-only history: the storage thread said so
            return
        vectors = self._store.document_index.vectors
        try:
            embedder = Embedder(path) if path else None
        except EmbeddingModelError as exc:
            embedder = None
            self.failed.emit(str(exc))
        try:
            if embedder is None:
                vectors.activate(None)
                self.embedding_model_set.emit("")
                return
            info = embedder.info
            self._model_id = vectors.register(info.identity, info.name, info.dimensions, str(info.path))
            vectors.activate(self._model_id)
        except sqlite3.Error as exc:
            if embedder is not None:
                embedder.close()
            self.failed.emit(f"Semantic search cannot be set up: {exc}.")
            return
        self._embedder = embedder
        self.embedding_model_set.emit(info.name)
        self._queue_embedding()

    def _queue_embedding(self) -> None:
        """Embed the next document on a later turn of the event loop (requests queued meanwhile go first)."""
        if self._embedder is not None and not self._embedding_queued:
            self._embedding_queued = True
            QTimer.singleShot(0, self._embed_next)

    @Slot()
    def _embed_next(self) -> None:
        """Embed one document the model has not embedded yet, then queue the next."""
        self._embedding_queued = False
        embedder, model_id, store = self._embedder, self._model_id, self._store
        stop = _Either(self._cancel, self._embedding_cancel)
        if embedder is None or model_id is None or store is None or stop.is_set():
            return
        index = store.document_index
        try:
            pending = [uid for uid in index.vectors.pending(model_id) if uid not in self._skipped]
            if not pending:
                return
            uid = pending[0]
            progressed = self.embedding_progressed.emit
            if not index.vectors.embed_document(uid, model_id, embedder, stop, lambda n, of: progressed(uid, n, of)):
                if stop.is_set():
                    return  # nothing written: embedded again when a model is next set
                self._skipped.add(uid)  # removed or changed meanwhile
            else:
                document = index.document(uid)
                conversation = store.conversation(document.conversation_id) if document else None
                self.document_embedded.emit(conversation.uid if conversation else "", uid)
        except (sqlite3.Error, RuntimeError, ValueError) as exc:
            self.failed.emit(f"Could not prepare documents for semantic search: {exc}.")
            return
        self._queue_embedding()

    def _close_embedder(self) -> None:
        if self._embedder is not None:
            self._embedder.close()
        self._embedder = None
        self._model_id = None

    def list(self, conversation: str) -> None:
        """Emit the conversation's documents (none for a conversation not saved yet)."""
        conversation_id = self._conversation_id(conversation)
        if self._store is not None:
            documents = [] if conversation_id is None else self._store.document_index.documents(conversation_id)
            self.documents_listed.emit(conversation, documents)

    def remove(self, conversation: str, document: str) -> None:
        """Take a document out of the conversation (answers keep the sources they cited)."""
        if self._store is not None:
            try:
                self._store.document_index.remove(document)
            except sqlite3.Error as exc:
                self.failed.emit(f"Could not remove the document: {exc}.")
            self.list(conversation)

    def find_passage(self, source: Source) -> None:
        """The whole passage a cited source points to, for the viewer."""
        if self._store is None:
            return
        try:
            chunks = self._store.document_index.chunks(source.document_uid)
        except sqlite3.Error as exc:
            self.failed.emit(f"Could not read the passage: {exc}.")
            return
        text = next((chunk.text for chunk in chunks if chunk.ordinal == source.chunk_ordinal), "")
        self.passage_found.emit(source, text)

    def find_cited(self, citation: Citation) -> None:
        """The page or part of a document a browsed answer cites, its cited lines marked, for the viewer."""
        if self._store is None:
            return
        try:
            found = cited_passage(self._store.document_index, citation)
        except sqlite3.Error as exc:
            self.failed.emit(f"Could not read the cited lines: {exc}.")
            return
        self.citation_found.emit(citation, found)

    def _conversation_id(self, uid: str) -> int | None:
        return self._store.conversation_id(uid) if self._store is not None and uid else None

    def release(self) -> None:
        """Free the embedding model and close the connection on the thread that opened them."""
        self._close_embedder()
        if self._store is not None:
            self._store.close()
            self._store = None


class DocumentService(ThreadOwner):
    """The GUI thread's handle on documents. Every method runs on the GUI thread and returns at once."""

    documents_listed = Signal(str, list)  # conversation uid, list[StoredDocument]
    reading = Signal(str, str, int, int)  # conversation uid, file being read ("" when done), its number, files
    passage_found = Signal(Source, str)  # the source, the passage's text ("" if its document was removed)
    citation_found = Signal(object, object)  # Citation, CitedPassage (its text "" if its document was removed)
    failed = Signal(str)
    embedding_model_set = Signal(str)  # the embedding model's name, "" when semantic search is off
    document_embedded = Signal(str, str)  # conversation uid, document uid
    embedding_progressed = Signal(str, int, int)  # document uid, passages embedded, passages in all

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        self._cancel = CancelFlag()
        self._embedding_cancel = CancelFlag()
        self._worker = DocumentWorker(path, self._cancel)
        super().__init__(self._worker, "documents", parent)
        worker = self._worker
        for signal, relay in (
            (worker.embedding_model_set, self.embedding_model_set),
            (worker.document_embedded, self.document_embedded),
            (worker.embedding_progressed, self.embedding_progressed),
            (worker.passage_found, self.passage_found),
            (worker.citation_found, self.citation_found),
            (worker.documents_listed, self.documents_listed),
            (worker.reading, self.reading),
            (worker.failed, self.failed),
        ):
            signal.connect(relay)
        self.submit(worker.open)

    def add(self, conversation: str, paths: list[str]) -> None:
        """Add files (or folders of them) to a saved conversation."""
        self.submit(self._worker.add, conversation, list(paths))

    def list(self, conversation: str) -> None:
        """Ask for the conversation's documents (answered by `documents_listed`)."""
        self.submit(self._worker.list, conversation)

    def remove(self, conversation: str, document: str) -> None:
        """Take a document out of the conversation."""
        self.submit(self._worker.remove, conversation, document)

    def find_passage(self, source: Source) -> None:
        """Look up the whole passage of a cited source (answered by `passage_found`)."""
        self.submit(self._worker.find_passage, source)

    def find_cited(self, citation: Citation) -> None:
        """Look up the lines a browsed answer cites, in their page or part (answered by `citation_found`)."""
        self.submit(self._worker.find_cited, citation)

    def set_embedding_model(self, path: str | None) -> None:
        """Search by meaning too, with the embedding GGUF at `path` (None: by words only); the documents
        thread loads it, says so with `embedding_model_set` (or `failed` with why), and embeds the passages
        it has not embedded yet. Whatever the previous model was embedding stops at once."""
        self._embedding_cancel.set()
        self._embedding_cancel = CancelFlag()
        self.submit(self._worker.set_embedding_model, path or "", self._embedding_cancel)

    def stop_work(self) -> None:
        """Stop reading files: the one being read is left out whole, the rest are not started; embedding
        stops within a batch of passages, its document left to be embedded at the next start."""
        self._cancel.set()
        self._embedding_cancel.set()


__all__ = ["CitedPassage", "DocumentService", "DocumentWorker", "StoredDocument", "files_in"]
