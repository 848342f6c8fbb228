"""The window's part for a conversation's documents: attach or drop them, show their state, open a cited passage.

A conversation not yet stored gets stored first (documents need a home); its files are handed to
the documents thread once the history lists it, so they never race the new row.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from ...core.documents.prompting import Source
from ...core.events import Citation
from ...services.document_service import CitedPassage, DocumentService, StoredDocument
from ..chat.chat_session import ChatSession
from ..chat.document_strip import DocumentStrip
from .source_viewer import SourceViewer


class WindowDocuments(QObject):
    """Keeps the document strip and the source pane in step with the shown conversation (GUI thread)."""

    #: Something to say in the status line: the text and for how long (ms).
    status_message = Signal(str, int)
    #: A passage is shown in the source pane: the window makes room for it.
    source_shown = Signal()

    def __init__(
        self,
        parent: QWidget,
        documents: DocumentService,
        session: ChatSession,
        strip: DocumentStrip,
        viewer: SourceViewer,
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._documents = documents
        self._session = session
        self._strip = strip
        self._viewer = viewer
        self._waiting: dict[str, list[str]] = {}  # conversation uid -> files, until the conversation is stored
        documents.documents_listed.connect(self._on_documents)
        documents.reading.connect(self._on_reading)
        documents.passage_found.connect(self._show_source)
        documents.citation_found.connect(self._show_cited)
        documents.embedding_model_set.connect(self._on_embedding_model_set)
        documents.embedding_progressed.connect(self._on_embedding_progressed)
        strip.attach_requested.connect(self.choose)
        strip.remove_requested.connect(self._remove)
        session.opened.connect(documents.list)
        session.source_requested.connect(documents.find_passage)
        session.citation_requested.connect(documents.find_cited)

    def add(self, paths: list[str]) -> None:
        """Add files (or folders) to the shown conversation, storing the conversation first if it is new."""
        if not paths:
            return
        saved = bool(self._session.uid)
        uid = self._session.ensure_saved(f"About {Path(paths[0]).name}")
        if saved:
            self._documents.add(uid, paths)
        else:  # sent once the storage thread has stored the new conversation (it lists them then)
            self._waiting.setdefault(uid, []).extend(paths)

    @Slot()
    def choose(self) -> None:
        """Attach…: pick documents to add."""
        paths, _filter = QFileDialog.getOpenFileNames(self._parent, "Attach documents")
        self.add(paths)

    def conversations_stored(self, uids: set[str]) -> None:
        """The history lists these conversations: files waiting for one of them go to the documents thread."""
        for uid in [uid for uid in self._waiting if uid in uids]:
            self._documents.add(uid, self._waiting.pop(uid))

    @Slot(str)
    def _remove(self, document: str) -> None:
        self._documents.remove(self._session.uid, document)

    @Slot(str, list)
    def _on_documents(self, uid: str, documents: list[StoredDocument]) -> None:
        if uid == self._session.uid:
            self._strip.show_documents(documents)
            self._session.has_documents = any(document.status == "ready" for document in documents)
            self._session.refused_documents = [  # each reason names its file: "photo.txt is not a text file"
                document.error or f"{document.name} could not be read"
                for document in documents
                if document.status == "failed"
            ]

    @Slot(str, str, int, int)
    def _on_reading(self, uid: str, name: str, number: int, count: int) -> None:
        if uid == self._session.uid:
            self._strip.show_reading(name, number, count)

    @Slot(Source, str)
    def _show_source(self, source: Source, text: str) -> None:
        """Open the source pane beside the conversation (the window gives it the room it can)."""
        self._viewer.show_passage(source, text)
        self.source_shown.emit()

    @Slot(object, object)
    def _show_cited(self, citation: Citation, passage: CitedPassage) -> None:
        """Open the source pane at the lines a browsed answer cites, marked."""
        self._viewer.show_cited(citation, passage)
        self.source_shown.emit()

    @Slot(str)
    def _on_embedding_model_set(self, name: str) -> None:
        if name:
            self.status_message.emit(f"Semantic search uses {name}.", 6000)

    @Slot(str, int, int)
    def _on_embedding_progressed(self, _uid: str, done: int, total: int) -> None:
        self.status_message.emit(f"Preparing semantic search: {done} of {total} passages…", 4000)
