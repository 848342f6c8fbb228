"""The GUI thread's handle on the engine thread: requests in, the engine's typed events out.

Events reach the GUI thread as the same objects the engine yields, through one signal: the
receiver dispatches them with `match`, so a new kind of event is one class and one `case`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..core.api.runner import Job
from ..core.cancel import CancelFlag
from ..core.documents.answer import DocumentEvent
from ..core.engine import ChatRequest, ModelInfo
from ..core.events import Done, Failed, coalesce
from ..core.remote.profile import ServerProfile
from .chat_worker import ChatWorker, DocumentsRef, EngineFactory, Tagged, ToolChoice
from .event_buffer import EventBuffer
from .threads import ThreadOwner

#: Text reaches the widgets at most every 33 ms (~30 updates a second): smooth to the eye, and
#: the GUI thread holds the GIL less often, which the engine thread needs for every token.
FRAME_MS = 33

#: Everything a request yields, in order: the engine's events and the documents' notices.
ChatEvent = DocumentEvent


class ChatService(ThreadOwner):
    """Owns the engine thread. Every method runs on the GUI thread."""

    model_loading = Signal(str)  # path
    model_loaded = Signal(ModelInfo)
    model_failed = Signal(str)
    #: A ChatEvent of the current request (deltas merged per frame); Done or Failed ends it.
    event_received = Signal(object)
    busy_changed = Signal(bool)
    server_ready = Signal(ServerProfile, object)  # the server, its ServerModelInfo: it answered
    api_started = Signal()  # the engine thread began a program's request (the local API)
    api_finished = Signal()
    #: The server refused OpenAI tools (llama-server without --jinja): python is not offered to it again.
    tools_refused = Signal(ServerProfile)
    #: A LoRA adapter was checked (check_adapters): an AdapterStatus, its `problem` "" when the model can use it.
    adapter_checked = Signal(object)

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
        self._worker.server_ready.connect(self.server_ready)
        self._worker.api_started.connect(self.api_started)
        self._worker.api_finished.connect(self.api_finished)
        self._worker.tools_refused.connect(self.tools_refused)
        self._worker.adapter_checked.connect(self.adapter_checked)
        self._worker.events_ready.connect(self._on_events_ready)
        self._worker.model_loaded.connect(self._on_model_loaded)
        self._worker.model_failed.connect(self.model_failed)

    @property
    def busy(self) -> bool:
        """True while a request is running."""
        return self._busy

    def load_model(self, path: str) -> None:
        """Load a model on the engine thread; model_loaded or model_failed follows."""
        self.stop()
        self.model_info = None
        self.model_loading.emit(path)
        self.submit(self._worker.load, path)

    def send(
        self,
        request: ChatRequest,
        documents: DocumentsRef | None = None,
        server: ServerProfile | None = None,
        tools: ToolChoice | None = None,
    ) -> int:
        """Start answering `request` on the loaded model, or on `server` (from the conversation's documents,
        if it has some ready; with `tools` the model may call them); its events arrive through event_received."""
        self.stop()
        self._current = next(self._request_ids)
        self._cancel = CancelFlag()
        self._set_busy(True)
        self.submit(self._worker.generate, self._current, request, self._cancel, documents, server, tools)
        return self._current

    def check_adapters(self, paths: Sequence[str], load: bool = False) -> None:
        """Check LoRA adapter files against the loaded model on the engine thread (after the answer running now),
        and with `load` have llama.cpp load them; adapter_checked follows for each."""
        for path in paths:
            self.submit(self._worker.check_adapter, path, load)

    def run_api_job(self, job: Job, finished: Callable[[Job], None]) -> None:
        """Queue a program's request behind what the engine thread has to do (any thread: submitting is
        a queued signal); `finished(job)` runs on the engine thread once it ended."""
        self.submit(self._worker.run_api_job, job, finished)

    def forget_server(self, base_url: str) -> None:
        """Disconnect from the server at `base_url` (its key changed): the next request connects again."""
        self.submit(self._worker.forget_server, base_url)

    def stop(self) -> None:
        """Cancel the running request; what was generated so far stays."""
        self._cancel.set()

    def stop_work(self) -> None:
        """Before the thread closes: cancel, stop draining."""
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
            if isinstance(event, Done | Failed):
                self._set_busy(False)
            self.event_received.emit(event)

    @Slot(ModelInfo)
    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.model_info = info
        self.model_loaded.emit(info)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
