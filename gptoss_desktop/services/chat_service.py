"""The GUI thread's handle on the engine thread: requests in, batched typed signals out."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..core.cancel import CancelFlag
from ..core.documents.answer import DocumentsUsed, PartRead, SourcesCited
from ..core.engine import ChatRequest
from ..core.events import AnswerDelta, ContextTrimmed, Done, Failed, ReasoningDelta, coalesce
from ..core.local.engine import ModelInfo
from ..core.remote.profile import ServerProfile
from .chat_worker import ChatWorker, DocumentsRef, EngineFactory, Tagged
from .event_buffer import EventBuffer
from .threads import ThreadOwner

#: Text reaches the widgets at most every 33 ms (~30 updates a second): smooth to the eye, and
#: the GUI thread holds the GIL less often, which the engine thread needs for every token.
FRAME_MS = 33


class ChatService(ThreadOwner):
    """Owns the engine thread. Every method runs on the GUI thread."""

    model_loading = Signal(str)
    model_loaded = Signal(object)  # ModelInfo
    model_failed = Signal(str)
    reasoning_received = Signal(str)
    answer_received = Signal(str)
    context_trimmed = Signal(object)  # ContextTrimmed, before the reply's text
    documents_used = Signal(object)  # DocumentsUsed: the strategy, before the reply's text
    part_read = Signal(int, int)  # map-reduce: part, parts
    sources_cited = Signal(object)  # tuple[Source, ...], right before generation_finished
    generation_finished = Signal(object)  # Done
    generation_failed = Signal(str)
    busy_changed = Signal(bool)
    server_ready = Signal(object, object)  # ServerProfile, ServerModelInfo: a conversation's server answered

    _load_requested = Signal(str)
    _generate_requested = Signal(int, object, object, object, object)
    _forget_requested = Signal(str)

    def __init__(self, engine_factory: EngineFactory | None = None, parent: QObject | None = None) -> None:
        self._buffer: EventBuffer[Tagged] = EventBuffer()
        self._worker = ChatWorker(self._buffer, engine_factory) if engine_factory else ChatWorker(self._buffer)
        super().__init__(self._worker, "engine", parent)
        self._request_ids = itertools.count(1)
        self._current = 0
        self._cancel = CancelFlag()
        self._busy = False
        self.model_info: ModelInfo | None = None
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.setInterval(FRAME_MS)
        self._drain_timer.timeout.connect(self._drain)
        self._load_requested.connect(self._worker.load)
        self._generate_requested.connect(self._worker.generate)
        self._forget_requested.connect(self._worker.forget_server)
        self._worker.server_ready.connect(self._on_server_ready)
        self._worker.events_ready.connect(self._on_events_ready)
        self._worker.model_loaded.connect(self._on_model_loaded)
        self._worker.model_failed.connect(self._on_model_failed)

    @property
    def busy(self) -> bool:
        """True while a request is running."""
        return self._busy

    def load_model(self, path: str) -> None:
        """Load a model on the engine thread; model_loaded or model_failed follows."""
        self.stop()
        self.model_info = None
        self.model_loading.emit(path)
        self._load_requested.emit(path)

    def send(
        self, request: ChatRequest, documents: DocumentsRef | None = None, server: ServerProfile | None = None
    ) -> int:
        """Start answering `request` on the loaded model, or on `server` (from the conversation's documents,
        if it has some ready); text arrives through reasoning_received / answer_received."""
        self.stop()
        self._current = next(self._request_ids)
        self._cancel = CancelFlag()
        self._set_busy(True)
        self._generate_requested.emit(self._current, request, self._cancel, documents, server)
        return self._current

    def forget_server(self, base_url: str) -> None:
        """Disconnect from the server at `base_url` (its key changed): the next request connects again."""
        self._forget_requested.emit(base_url)

    def stop(self) -> None:
        """Cancel the running request; what was generated so far stays."""
        self._cancel.set()

    def stop_work(self) -> None:
        """Before shutdown frees the model and joins the engine thread: cancel, stop draining."""
        self._cancel.set()
        self._drain_timer.stop()

    @Slot()
    def _on_events_ready(self) -> None:
        if not self._drain_timer.isActive():
            self._drain_timer.start()

    @Slot()
    def _drain(self) -> None:
        # Drop events of requests that were superseded (a stale reply must not leak into a new one).
        events = [event for request_id, event in self._buffer.drain() if request_id == self._current]
        for event in coalesce(events):
            if isinstance(event, ReasoningDelta):
                self.reasoning_received.emit(event.text)
            elif isinstance(event, AnswerDelta):
                self.answer_received.emit(event.text)
            elif isinstance(event, ContextTrimmed):
                self.context_trimmed.emit(event)
            elif isinstance(event, DocumentsUsed):
                self.documents_used.emit(event)
            elif isinstance(event, PartRead):
                self.part_read.emit(event.part, event.parts)
            elif isinstance(event, SourcesCited):
                self.sources_cited.emit(event.sources)
            elif isinstance(event, Done):
                self._set_busy(False)
                self.generation_finished.emit(event)
            elif isinstance(event, Failed):
                self._set_busy(False)
                self.generation_failed.emit(event.message)

    @Slot(object)
    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.model_info = info
        self.model_loaded.emit(info)

    @Slot(object, object)
    def _on_server_ready(self, server: ServerProfile, info: object) -> None:
        self.server_ready.emit(server, info)

    @Slot(str)
    def _on_model_failed(self, message: str) -> None:
        self.model_failed.emit(message)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
