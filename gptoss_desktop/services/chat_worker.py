"""The object that lives on the engine thread and is the only one to touch llama.cpp."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal, Slot

from ..core.cancel import CancelFlag
from ..core.documents.answer import DocumentEvent, answer_with_documents
from ..core.engine import ChatRequest, LocalEngine
from ..core.events import Failed
from ..core.model_file import ModelLoadError
from ..core.storage import Store
from .event_buffer import EventBuffer
from .threads import Worker

EngineFactory = Callable[[str], LocalEngine]
Tagged = tuple[int, DocumentEvent]


@dataclass(frozen=True)
class DocumentsRef:
    """Where a conversation's documents are: the history database and the conversation's uid."""

    database: Path
    conversation: str


class ChatWorker(Worker):
    """Loads a model and runs requests on its thread; results go through an EventBuffer."""

    events_ready = Signal()
    model_loaded = Signal(object)  # ModelInfo
    model_failed = Signal(str)

    def __init__(self, buffer: EventBuffer[Tagged], engine_factory: EngineFactory = LocalEngine) -> None:
        super().__init__()
        self._buffer = buffer
        self._engine_factory = engine_factory
        self._engine: LocalEngine | None = None
        self._stores: dict[Path, Store] = {}  # read connections to history databases, on this thread

    @Slot(str)
    def load(self, path: str) -> None:
        """Replace the current model with the one at `path` (engine thread)."""
        self._close_engine()
        try:
            self._engine = self._engine_factory(path)
        except ModelLoadError as exc:
            self.model_failed.emit(str(exc))
            return
        self.model_loaded.emit(self._engine.info)

    @Slot(int, object, object, object)
    def generate(self, request_id: int, request: ChatRequest, cancel: CancelFlag, documents: object) -> None:
        """Run one request to its end or until `cancel` is set (engine thread); from the conversation's
        documents when it has some ready."""
        if self._engine is None:
            self._push(request_id, Failed("No model is loaded."))
            return
        try:
            for event in self._events(self._engine, request, cancel, documents):
                self._push(request_id, event)
        except Exception as exc:  # the worker must survive anything one request does
            self._push(request_id, Failed(f"Generation failed: {exc}"))

    def _events(
        self, engine: LocalEngine, request: ChatRequest, cancel: CancelFlag, documents: object
    ) -> Iterator[DocumentEvent]:
        if isinstance(documents, DocumentsRef):
            store = self._stores.get(documents.database)
            if store is None:
                store = self._stores[documents.database] = Store(documents.database, recover=False)
            conversation_id = store.conversation_id(documents.conversation)
            if conversation_id is not None and any(
                d.status == "ready" for d in store.document_index.documents(conversation_id)
            ):
                source = store.document_index.source(conversation_id)
                yield from answer_with_documents(engine, request.conversation, source, request.sampling, cancel)
                return
        yield from engine.generate(request, cancel)

    def release(self) -> None:
        """Free the model and close the history connections before the engine thread ends (engine thread)."""
        self._close_engine()
        for store in self._stores.values():
            store.close()
        self._stores.clear()

    def _push(self, request_id: int, event: DocumentEvent) -> None:
        if self._buffer.push((request_id, event)):
            self.events_ready.emit()

    def _close_engine(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
